"""``Experiment``: a named group of models (the part of GEMINI's experiments that models need)."""

import datetime as dt
from typing import List, Optional
from uuid import UUID

from pydantic import Field

from gemini.api.base import APIBase, seed_operation
from gemini.registry import registry
from gemini.domain.errors import NotFoundError
from gemini.domain.records import ExperimentRecord

ID = UUID | int | str


class Experiment(APIBase):
    id: Optional[UUID] = None
    experiment_name: str
    experiment_info: Optional[dict] = None
    created_at: Optional[dt.datetime] = Field(default=None, repr=False)
    updated_at: Optional[dt.datetime] = Field(default=None, repr=False)

    @classmethod
    def from_record(cls, record: ExperimentRecord) -> "Experiment":
        return cls(
            id=record.id,
            experiment_name=record.experiment_name,
            experiment_info=record.experiment_info,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )

    @classmethod
    @seed_operation(fallback=None)
    def create(cls, experiment_name: str, experiment_info: dict = None) -> Optional["Experiment"]:
        """Create an experiment (or return the existing one of that name)."""
        return cls.from_record(registry().create_experiment(experiment_name=experiment_name, experiment_info=experiment_info)[0])

    @classmethod
    @seed_operation(fallback=None)
    def get(cls, experiment_name: str) -> Optional["Experiment"]:
        return cls.from_record(registry().get_experiment_by_name(experiment_name=experiment_name))

    @classmethod
    @seed_operation(fallback=None)
    def get_by_id(cls, id: ID) -> Optional["Experiment"]:
        return cls.from_record(registry().get_experiment(experiment_id=id))

    @classmethod
    @seed_operation(fallback=None)
    def get_all(cls, limit: int = None, offset: int = None) -> Optional[List["Experiment"]]:
        records = registry().search_experiments(limit=limit, offset=offset).items
        if not records:
            raise NotFoundError("no experiments found")
        return [cls.from_record(record) for record in records]

    @seed_operation(fallback=False)
    def delete(self) -> bool:
        """Delete this experiment; its models stay."""
        registry().delete_experiment(experiment_id=self.id)
        return True
