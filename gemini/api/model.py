"""``Model``: what runs belong to, with a unique name, an optional URL and a free info dict; its versions
and its records (its outputs, GEMINI's ``insert_records``/``search_records``/``filter_records``)."""

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generator, List, Optional, Tuple
from uuid import UUID

from pydantic import Field

from gemini.api import experiment as _experiment
from gemini.api import model_record as _model_record
from gemini.api import model_run as _model_run
from gemini.api.base import APIBase, seed_operation
from gemini.api.model_version import ModelVersion
from gemini.registry import registry
from gemini.domain.checks import check_collection_date, check_record_moment
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

    # -- model records (GEMINI's ``ModelRecord``: this model's outputs) ---------------------------------

    def insert_record(
        self,
        timestamp: dt.datetime = None,
        collection_date: dt.date = None,
        model_data: dict = None,
        dataset_name: str = None,
        experiment_name: str = None,
        season_name: str = None,
        site_name: str = None,
        record_file: str = None,
        record_info: dict = None,
        *,
        model_run_id: ID = None,
        model_version: str = None,
    ) -> Tuple[bool, List[str]]:
        """Insert one output of this model: ``(True, [id])``, or ``(False, [])`` with one log line.

        As GEMINI: ``model_data`` or ``record_file`` is required, ``timestamp`` defaults to now,
        ``collection_date`` to the timestamp's date, and ``dataset_name`` to
        ``"{model_name} Dataset {collection_date}"``. ``model_run_id``/``model_version`` as in
        ``ModelRecord.create``."""
        return _model_record.insert_outputs(
            "Model.insert_record",
            self._outputs(
                [timestamp], collection_date, [model_data], dataset_name, experiment_name, season_name, site_name,
                [record_file], [record_info], model_run_id, model_version,
            ),
        )

    def insert_records(
        self,
        timestamps: List[dt.datetime] = None,
        collection_date: dt.date = None,
        model_data: List[dict] = None,
        dataset_name: str = None,
        experiment_name: str = None,
        season_name: str = None,
        site_name: str = None,
        record_files: List[str] = None,
        record_info: List[dict] = None,
        *,
        model_run_id: ID = None,
        model_version: str = None,
    ) -> Tuple[bool, List[str]]:
        """Insert outputs of this model, one per timestamp, in one transaction: ``(True, ids)`` in the
        order of ``timestamps``, or ``(False, [])`` with one log line and nothing written.

        ``model_data``, ``record_files`` and ``record_info`` are lists as long as ``timestamps`` (or
        ``None``); each record needs its ``model_data`` or its file. As GEMINI, the batch is one
        collection: ``collection_date`` defaults to the first timestamp's date for every record, and
        ``dataset_name`` to ``"{model_name} Dataset {collection_date}"``. A record equal to a stored one
        is not written again; its id is the stored one's."""
        return _model_record.insert_outputs(
            "Model.insert_records",
            self._outputs(
                timestamps, collection_date, model_data, dataset_name, experiment_name, season_name, site_name,
                record_files, record_info, model_run_id, model_version,
            ),
        )

    def _outputs(
        self,
        timestamps: Any,
        collection_date: Any,
        model_data: Any,
        dataset_name: Any,
        experiment_name: Any,
        season_name: Any,
        site_name: Any,
        record_files: Any,
        record_info: Any,
        model_run_id: Any,
        model_version: Any,
    ) -> Iterator[dict]:
        """The records to insert, as the registry's insert takes them; the arguments are checked when the
        insert starts reading them (an error then writes nothing)."""
        if not isinstance(timestamps, (list, tuple)) or not timestamps:
            raise InvalidInputError("timestamps must be a non-empty list: one record per timestamp")
        count = len(timestamps)
        # An empty list is "not given", as GEMINI's defaults (``[]``) are.
        model_data, record_files, record_info = (
            None if isinstance(values, (list, tuple)) and not values else values
            for values in (model_data, record_files, record_info)
        )
        for field, values in (("model_data", model_data), ("record_files", record_files), ("record_info", record_info)):
            if values is not None and (not isinstance(values, (list, tuple)) or len(values) != count):
                raise InvalidInputError(f"{field} must be a list of {count} items, one per timestamp")
        first = dt.datetime.now(dt.timezone.utc) if timestamps[0] is None else check_record_moment(timestamps[0])
        collection = check_collection_date(collection_date) or first.date()
        if dataset_name is None:
            dataset_name = f"{self.model_name} Dataset {collection.isoformat()}"
        for index in range(count):
            data = model_data[index] if model_data is not None else None
            path = record_files[index] if record_files is not None else None
            if not data and path is None:
                where = "" if count == 1 else f"records[{index}]: "
                raise InvalidInputError(f"{where}give model_data or a record file: a model record holds an output")
            yield {
                "model_name": self.model_name,
                "timestamp": first if index == 0 else timestamps[index],
                "collection_date": collection,
                "model_data": data,
                "dataset_name": dataset_name,
                "experiment_name": experiment_name,
                "season_name": season_name,
                "site_name": site_name,
                "record_file": path,
                "record_info": record_info[index] if record_info is not None else None,
                "model_run_id": model_run_id,
                "model_version": model_version,
            }

    def search_records(
        self,
        collection_date: dt.date = None,
        dataset_name: str = None,
        experiment_name: str = None,
        season_name: str = None,
        site_name: str = None,
        record_info: dict = None,
        *,
        model_run_id: ID = None,
        model_version: str = None,
    ) -> Optional[Generator["_model_record.ModelRecord", None, None]]:
        """This model's records matching every given criterion, as ``ModelRecord.search`` (a generator;
        ``None`` with one log line when the search cannot start). ``None`` values in ``record_info`` are
        dropped, as GEMINI does."""
        if isinstance(record_info, dict):
            record_info = {key: value for key, value in record_info.items() if value is not None}
        return _model_record.stream_records(
            "Model.search_records",
            model_names=self.model_name,
            collection_date=collection_date,
            dataset_names=dataset_name,
            experiment_names=experiment_name,
            season_names=season_name,
            site_names=site_name,
            record_info=record_info,
            model_run_id=model_run_id,
            model_version=model_version,
        )

    def filter_records(
        self,
        start_timestamp: dt.datetime = None,
        end_timestamp: dt.datetime = None,
        dataset_names: List[str] = None,
        experiment_names: List[str] = None,
        season_names: List[str] = None,
        site_names: List[str] = None,
        *,
        model_run_id: ID = None,
        model_version: str = None,
    ) -> Optional[Generator["_model_record.ModelRecord", None, None]]:
        """This model's records in ``[start_timestamp, end_timestamp]`` whose names are among the given
        lists, as ``ModelRecord.filter`` (a generator; ``None`` with one log line when it cannot start)."""
        return _model_record.stream_records(
            "Model.filter_records",
            model_names=self.model_name,
            start_timestamp=start_timestamp,
            end_timestamp=end_timestamp,
            dataset_names=dataset_names,
            experiment_names=experiment_names,
            season_names=season_names,
            site_names=site_names,
            model_run_id=model_run_id,
            model_version=model_version,
        )
