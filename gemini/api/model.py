"""``Model``: what runs belong to, with a unique name, an optional URL and a free info dict."""

import datetime as dt
from typing import TYPE_CHECKING, List, Optional
from uuid import UUID

from pydantic import Field

from gemini.api import experiment as _experiment
from gemini.api import model_run as _model_run
from gemini.api.base import APIBase, seed_operation
from gemini.api.model_version import ModelVersion
from gemini.registry import registry
from gemini.domain.errors import InvalidInputError, NotFoundError
from gemini.domain.records import ModelRecord

if TYPE_CHECKING:
    from gemini.api.experiment import Experiment
    from gemini.api.model_run import ModelRun

ID = UUID | int | str


class Model(APIBase):
    """A model (a plant detector, a stand counter, ...) whose executions are ``ModelRun``s."""

    id: Optional[UUID] = None
    model_name: str
    model_url: Optional[str] = None
    model_info: Optional[dict] = None
    created_at: Optional[dt.datetime] = Field(default=None, repr=False)
    updated_at: Optional[dt.datetime] = Field(default=None, repr=False)
    created_by: Optional[str] = Field(default=None, repr=False)
    """The name of the API token that created it over a team server; None when created locally."""

    @classmethod
    def from_record(cls, record: ModelRecord) -> "Model":
        return cls(
            id=record.id,
            model_name=record.model_name,
            model_url=record.model_url,
            model_info=record.model_info,
            created_at=record.created_at,
            updated_at=record.updated_at,
            created_by=record.created_by,
        )

    def _apply(self, record: ModelRecord) -> "Model":
        self.model_name = record.model_name
        self.model_url = record.model_url
        self.model_info = record.model_info
        self.created_at = record.created_at
        self.updated_at = record.updated_at
        self.created_by = record.created_by
        return self

    @classmethod
    @seed_operation(fallback=False)
    def exists(cls, model_name: str) -> bool:
        return registry().model_exists(model_name=model_name)

    @classmethod
    @seed_operation(fallback=None)
    def create(
        cls, model_name: str, model_url: str = None, model_info: dict = None, experiment_name: str = None
    ) -> Optional["Model"]:
        """Create a model (or return the existing one of that name), in ``experiment_name`` if given,
        creating that experiment when missing."""
        return cls.from_record(
            registry().create_model(
                model_name=model_name, model_url=model_url, model_info=model_info, experiment_name=experiment_name
            )[0]
        )

    @classmethod
    @seed_operation(fallback=None)
    def get(cls, model_name: str | UUID, experiment_name: str = None) -> Optional["Model"]:
        """The model named ``model_name`` (in ``experiment_name`` when given); given a ``UUID`` object
        instead (``Model.get(model.id)``), the model with that id, as ``get_by_id``."""
        if isinstance(model_name, UUID):
            if experiment_name is not None:
                raise InvalidInputError("a model is got by its id alone: give no experiment_name with an id")
            return cls.from_record(registry().get_model(model_id=model_name))
        return cls.from_record(registry().get_model_by_name(model_name=model_name, experiment_name=experiment_name))

    @classmethod
    @seed_operation(fallback=None)
    def get_by_id(cls, id: ID) -> Optional["Model"]:
        return cls.from_record(registry().get_model(model_id=id))

    @classmethod
    @seed_operation(fallback=None)
    def get_all(cls, limit: int = None, offset: int = None) -> Optional[List["Model"]]:
        records = registry().search_models(limit=limit, offset=offset).items
        if not records:
            raise NotFoundError("no models found")
        return [cls.from_record(record) for record in records]

    @classmethod
    @seed_operation(fallback=None)
    def search(
        cls, model_name: str = None, model_info: dict = None, model_url: str = None, experiment_name: str = None
    ) -> Optional[List["Model"]]:
        """Models matching every given criterion (exact name/URL, info containment, experiment)."""
        if model_name is None and model_info is None and model_url is None and experiment_name is None:
            raise InvalidInputError("give at least one of model_name, model_info, model_url, experiment_name")
        records = registry().search_models(
            model_name=model_name, model_info=model_info, model_url=model_url, experiment_name=experiment_name
        ).items
        if not records:
            raise NotFoundError("no models match the search")
        return [cls.from_record(record) for record in records]

    @seed_operation(fallback=None)
    def update(self, model_name: str = None, model_url: str = None, model_info: dict = None) -> Optional["Model"]:
        return self._apply(
            registry().update_model(model_id=self.id, model_name=model_name, model_url=model_url, model_info=model_info)
        )

    @seed_operation(fallback=False)
    def delete(self) -> bool:
        """Delete this model and all its runs."""
        registry().delete_model(model_id=self.id)
        return True

    @seed_operation(fallback=None)
    def refresh(self) -> Optional["Model"]:
        return self._apply(registry().get_model(model_id=self.id))

    @seed_operation(fallback=None)
    def get_info(self) -> Optional[dict]:
        return self._apply(registry().get_model(model_id=self.id)).model_info

    @seed_operation(fallback=None)
    def set_info(self, model_info: dict) -> Optional["Model"]:
        if model_info is None:
            raise InvalidInputError("model_info is required")
        return self._apply(registry().update_model(model_id=self.id, model_info=model_info))

    @seed_operation(fallback=None)
    def get_associated_runs(self) -> Optional[List["ModelRun"]]:
        records = registry().search_runs(model_id=self.id).items
        if not records:
            raise NotFoundError(f"model {self.model_name!r} has no runs")
        return [_model_run.ModelRun.from_record(record) for record in records]

    @seed_operation(fallback=None)
    def get_versions(self) -> Optional[List[ModelVersion]]:
        """This model's versions by ascending number (``[]`` when it has none), as ``ModelVersion.get_all``."""
        return [ModelVersion.from_record(record) for record in registry().list_model_versions(model_id=self.id)]

    @seed_operation(fallback=None)
    def create_new_run(self, model_run_info: dict) -> Optional["ModelRun"]:
        return _model_run.ModelRun.from_record(registry().create_model_run(model_id=self.id, model_run_info=model_run_info)[0])

    @seed_operation(fallback=None)
    def get_associated_experiments(self) -> Optional[List["Experiment"]]:
        records = registry().list_model_experiments(model_id=self.id)
        if not records:
            raise NotFoundError(f"model {self.model_name!r} is in no experiment")
        return [_experiment.Experiment.from_record(record) for record in records]

    @seed_operation(fallback=None)
    def associate_experiment(self, experiment_name: str) -> Optional["Experiment"]:
        return _experiment.Experiment.from_record(
            registry().associate_experiment(model_id=self.id, experiment_name=experiment_name)
        )

    @seed_operation(fallback=None)
    def unassociate_experiment(self, experiment_name: str) -> Optional["Experiment"]:
        return _experiment.Experiment.from_record(
            registry().unassociate_experiment(model_id=self.id, experiment_name=experiment_name)
        )

    @seed_operation(fallback=False)
    def belongs_to_experiment(self, experiment_name: str) -> bool:
        return registry().model_belongs_to_experiment(model_id=self.id, experiment_name=experiment_name)
