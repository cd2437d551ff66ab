"""The registry's contract: every operation, declared once, with its route on the REST API.

``Registry`` is what a transport implements: ``gemini.core`` on the database, ``gemini.remote`` over
HTTP. Its methods take arguments that the checking front (``gemini.registry.front``) has already
checked and normalised (ids as ``UUID``, infos as ``CheckedInfo``, searches parsed), so an
implementation does only what only it can: queries and transactions, or requests and answers.
``tests/registry/test_contract.py`` fails when an implementation lacks a method or spells one
differently, and when a declared route is missing from the server.

Each method names the route that serves it (``@route``). Operations without a route work on the
database only (the HTTP transport refuses them with ``UnsupportedOperationError``).
"""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple, TextIO, TypeVar

from gemini.domain.checks import Point
from gemini.domain.records import (
    ArtifactBlob,
    ArtifactLink,
    ArtifactUploadOffer,
    ApiTokenRecord,
    ArtifactRecord,
    CheckedData,
    CheckedInfo,
    ExperimentRecord,
    MetricSeries,
    MetricSummary,
    ModelRecord,
    ModelRunRecord,
    ModelOutputRecord,
    ModelVersionRecord,
    Page,
)
from gemini.query.ast import Expression, OrderKey

Operation = TypeVar("Operation", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    """Below ``/api``, with ``{name}`` for the arguments carried in the path."""


def route(method: str, path: str) -> Callable[[Operation], Operation]:
    """Declare the REST route that serves an operation."""

    def declare(operation: Operation) -> Operation:
        operation.__route__ = Route(method, path)  # type: ignore[attr-defined]
        return operation

    return declare


def route_of(name: str) -> Route | None:
    """The route ``Registry.<name>`` declares, ``None`` for a database-only operation."""
    return getattr(getattr(Registry, name), "__route__", None)


@dataclass(frozen=True, slots=True)
class RunQuery:
    """A checked search of runs: the filters and the order as given (for a server) and as parsed (for
    the database)."""

    contains: CheckedInfo | None = None
    model_name: str | None = None
    model_id: uuid.UUID | None = None
    where: str | None = None
    where_expression: Expression | None = None
    order_by: tuple[str, ...] = ()
    order_keys: tuple[OrderKey, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelQuery:
    """A checked search of models: exact name and url, info containment, experiment."""

    model_name: str | None = None
    model_url: str | None = None
    contains: CheckedInfo | None = None
    experiment_name: str | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page of a list to read, and whether to count the whole list in the same read."""

    limit: int | None = None
    offset: int | None = None
    cursor: str | None = None
    with_total: bool = False


@dataclass(frozen=True, slots=True)
class VersionReference:
    """A model version named as ``model_name@3`` or ``model_name@alias``: one of the two is set."""

    model_name: str
    version: int | None
    alias: str | None

    def __str__(self) -> str:
        return f"{self.model_name}@{self.version if self.version is not None else self.alias}"


class NewModelOutput(NamedTuple):
    """A model record to insert, checked: the names of its model and tags (created on first use), a
    local file to store with it, and the run and version of the weights that produced it. A named tuple:
    an insert makes a million, and a frozen dataclass costs several times as much to build."""

    model_name: str
    timestamp: dt.datetime
    collection_date: dt.date | None
    model_data: CheckedData
    dataset_name: str | None
    experiment_name: str | None
    season_name: str | None
    site_name: str | None
    record_info: CheckedInfo
    record_file: Path | None = None
    model_run_id: uuid.UUID | None = None
    model_version: VersionReference | None = None


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """A checked search of model records: each list matches any of its names (empty: no filter), the
    moments are inclusive bounds, the dicts match by containment."""

    model_names: tuple[str, ...] = ()
    dataset_names: tuple[str, ...] = ()
    experiment_names: tuple[str, ...] = ()
    season_names: tuple[str, ...] = ()
    site_names: tuple[str, ...] = ()
    start_timestamp: dt.datetime | None = None
    end_timestamp: dt.datetime | None = None
    collection_date: dt.date | None = None
    model_data: CheckedInfo | None = None
    record_info: CheckedInfo | None = None
    model_run_id: uuid.UUID | None = None
    model_version: VersionReference | None = None


class Registry(ABC):
    """Every registry operation. Arguments are keyword-only and already checked; a failure raises a
    ``gemini.domain.errors`` exception, the same one in every transport."""

    # -- models --------------------------------------------------------------------------------------

    @abstractmethod
    @route("POST", "/models")
    def create_model(
        self,
        *,
        model_name: str,
        model_url: str | None,
        model_info: CheckedInfo,
        experiment_name: str | None,
        created_by: str | None,
    ) -> tuple[ModelRecord, bool]:
        """Create a model, or return the existing one of that name; link it to ``experiment_name``
        (created when missing). The record, and whether it is new."""

    @abstractmethod
    @route("GET", "/models/{model_id}")
    def get_model(self, *, model_id: uuid.UUID) -> ModelRecord: ...

    @abstractmethod
    @route("GET", "/models/lookup")
    def get_model_by_name(self, *, model_name: str, experiment_name: str | None) -> ModelRecord:
        """The model of that name; with ``experiment_name``, only if it belongs to that experiment."""

    @abstractmethod
    @route("GET", "/models")
    def search_models(self, *, query: ModelQuery, page: PageRequest) -> Page[ModelRecord]:
        """Models in creation order, each with its ``run_count`` and ``last_run_at``."""

    @abstractmethod
    @route("PATCH", "/models/{model_id}")
    def update_model(
        self, *, model_id: uuid.UUID, model_name: str | None, model_url: str | None, model_info: CheckedInfo | None
    ) -> ModelRecord:
        """Change the given fields (at least one); a new name must be free."""

    @abstractmethod
    @route("DELETE", "/models/{model_id}")
    def delete_model(self, *, model_id: uuid.UUID) -> None:
        """Delete a model and its runs."""

    @abstractmethod
    @route("POST", "/models/{model_id}/runs")
    def create_model_run(
        self, *, model_id: uuid.UUID, model_run_info: CheckedInfo, model_name: str | None, created_by: str | None
    ) -> tuple[ModelRunRecord, bool]:
        """A run of the model with this id (the existing one when that info is recorded already)."""

    @abstractmethod
    @route("GET", "/models/{model_id}/experiments")
    def list_model_experiments(self, *, model_id: uuid.UUID) -> list[ExperimentRecord]: ...

    @abstractmethod
    @route("POST", "/models/{model_id}/experiments")
    def associate_experiment(self, *, model_id: uuid.UUID, experiment_name: str) -> ExperimentRecord: ...

    @abstractmethod
    @route("DELETE", "/models/{model_id}/experiments")
    def unassociate_experiment(self, *, model_id: uuid.UUID, experiment_name: str) -> ExperimentRecord: ...

    # -- runs ----------------------------------------------------------------------------------------

    @abstractmethod
    @route("POST", "/model_runs")
    def create_run(
        self, *, model_run_info: CheckedInfo, model_name: str | None, created_by: str | None
    ) -> tuple[ModelRunRecord, bool]:
        """Record a run (of ``model_name``, created when missing, or of no model); an equal existing run
        is returned instead. The record, and whether it is new."""

    @abstractmethod
    @route("POST", "/model_runs/bulk")
    def create_runs(
        self, *, model_run_infos: list[CheckedInfo], model_name: str | None, created_by: str | None
    ) -> list[tuple[ModelRunRecord, bool]]:
        """Many runs in one transaction, in input order; nothing is written when any fails."""

    @abstractmethod
    @route("GET", "/model_runs/{run_id}")
    def get_run(self, *, run_id: uuid.UUID) -> ModelRunRecord: ...

    @abstractmethod
    @route("POST", "/model_runs/lookup")
    def find_run(self, *, model_run_info: CheckedInfo, model_name: str | None) -> ModelRunRecord:
        """The run whose info equals this one (of ``model_name`` when given, else the oldest);
        ``NotFoundError`` when there is none."""

    @abstractmethod
    @route("GET", "/model_runs")
    def search_runs(self, *, query: RunQuery, page: PageRequest) -> Page[ModelRunRecord]:
        """Runs matching every filter of ``query``, in its order (creation order by default)."""

    @abstractmethod
    @route("PATCH", "/model_runs/{run_id}")
    def replace_run_info(self, *, run_id: uuid.UUID, model_run_info: CheckedInfo) -> ModelRunRecord:
        """Replace a run's info; refused when another run of the same model already has it."""

    @abstractmethod
    @route("PATCH", "/model_runs/{run_id}")
    def rename_run(self, *, run_id: uuid.UUID, run_name: str | None) -> ModelRunRecord:
        """Give a run its readable name (``None`` removes it); names need not be unique. Served by the same
        route as ``replace_run_info``, with ``{"run_name": ...}`` as its body."""

    @abstractmethod
    @route("DELETE", "/model_runs/{run_id}")
    def delete_run(self, *, run_id: uuid.UUID) -> None: ...

    @abstractmethod
    @route("GET", "/model_runs/{run_id}/model")
    def get_run_model(self, *, run_id: uuid.UUID) -> ModelRecord:
        """The model a run belongs to; ``NotFoundError`` when it has none."""

    @abstractmethod
    @route("PUT", "/model_runs/{run_id}/model")
    def associate_run(self, *, run_id: uuid.UUID, model_name: str) -> tuple[ModelRunRecord, ModelRecord]:
        """Move a run to the named model; the run as moved, and the model."""

    @abstractmethod
    @route("DELETE", "/model_runs/{run_id}/model")
    def unassociate_run(self, *, run_id: uuid.UUID) -> tuple[ModelRunRecord, ModelRecord]:
        """Detach a run from its model; the run, and the model it left."""

    # -- experiments ---------------------------------------------------------------------------------

    @abstractmethod
    @route("POST", "/experiments")
    def create_experiment(
        self, *, experiment_name: str, experiment_info: CheckedInfo
    ) -> tuple[ExperimentRecord, bool]: ...

    @abstractmethod
    @route("GET", "/experiments/{experiment_id}")
    def get_experiment(self, *, experiment_id: uuid.UUID) -> ExperimentRecord: ...

    @abstractmethod
    @route("GET", "/experiments/lookup")
    def get_experiment_by_name(self, *, experiment_name: str) -> ExperimentRecord: ...

    @abstractmethod
    @route("GET", "/experiments")
    def search_experiments(self, *, page: PageRequest) -> Page[ExperimentRecord]: ...

    @abstractmethod
    @route("GET", "/experiments/{experiment_id}/models")
    def list_experiment_models(self, *, experiment_id: uuid.UUID) -> list[ModelRecord]: ...

    @abstractmethod
    @route("DELETE", "/experiments/{experiment_id}")
    def delete_experiment(self, *, experiment_id: uuid.UUID) -> None:
        """Delete an experiment; its models stay."""

    # -- tracking ------------------------------------------------------------------------------------

    @abstractmethod
    @route("POST", "/model_runs/start")
    def start_run(
        self, *, model_run_info: CheckedInfo, model_name: str | None, created_by: str | None, run_name: str | None
    ) -> ModelRunRecord:
        """A new tracked run (``running``), named ``run_name`` when given: always new, even when another run
        has the same info."""

    @abstractmethod
    @route("POST", "/model_runs/{run_id}/end")
    def end_run(
        self,
        *,
        run_id: uuid.UUID,
        status: str,
        error_type: str | None,
        error_message: str | None,
        ended_at: dt.datetime | None,
    ) -> ModelRunRecord:
        """End a running (or lost) run; ``ConflictError`` when it has ended or is not tracked. ``ended_at``:
        when the run ended by the caller's clock (a spooled end delivered later), kept between the run's
        start and now; ``None``: now."""

    @abstractmethod
    @route("POST", "/model_runs/{run_id}/heartbeat")
    def heartbeat(self, *, run_id: uuid.UUID) -> None:
        """Tell that a running run's process is alive; ``ConflictError`` once it has ended."""

    @abstractmethod
    @route("POST", "/model_runs/{run_id}/metrics")
    def log_batch(self, *, run_id: uuid.UUID, batch_id: str, points: list[Point]) -> bool:
        """Write one batch of points in one transaction; ``False`` when that batch id was written."""

    @abstractmethod
    @route("GET", "/model_runs/{run_id}/metrics/{key}")
    def metric_history(self, *, run_id: uuid.UUID, key: str, max_points: int | None) -> MetricSeries:
        """One key of one run, by step (empty when never logged), reduced to at most ``max_points``
        points when given (as ``metric_histories``)."""

    @abstractmethod
    @route("GET", "/metrics/history")
    def metric_histories(
        self,
        *,
        run_ids: list[uuid.UUID],
        key: str,
        max_points: int | None,
        start_step: int | None,
        end_step: int | None,
    ) -> dict[uuid.UUID, MetricSeries]:
        """One key's series for many runs (runs without it are absent), between ``start_step`` and
        ``end_step`` when given (inclusive); a range of more than ``max_points`` points reduced to at
        most that many, each block of steps keeping its first, lowest, highest and last point."""

    @abstractmethod
    @route("GET", "/model_runs/{run_id}/metrics")
    def metric_summaries(self, *, run_id: uuid.UUID) -> dict[str, MetricSummary]: ...

    @abstractmethod
    @route("POST", "/metrics/summaries")
    def metric_summaries_of_runs(self, *, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[MetricSummary]]:
        """The summaries of many runs (runs without metrics are absent)."""

    # -- artifacts -----------------------------------------------------------------------------------

    @abstractmethod
    @route("PUT", "/model_runs/{run_id}/artifacts/{name}")
    def log_artifact_file(self, *, run_id: uuid.UUID, path: Path, name: str) -> ArtifactRecord:
        """Store a local file as the run's artifact ``name`` (replacing what that name was)."""

    @abstractmethod
    @route("GET", "/model_runs/{run_id}/artifacts")
    def search_artifacts(self, *, run_id: uuid.UUID, page: PageRequest) -> Page[ArtifactRecord]:
        """A run's artifacts in name order."""

    @abstractmethod
    @route("GET", "/model_runs/{run_id}/artifacts/{name}")
    def download_artifact(self, *, run_id: uuid.UUID, name: str, dest: Path) -> Path:
        """Write an artifact to ``dest`` (a file, or a directory to write into), verified; the path."""

    @abstractmethod
    def log_artifact_files(self, *, run_id: uuid.UUID, files: list[tuple[Path, str]]) -> list[ArtifactRecord]:
        """Store local files as the run's artifacts, each ``(path, name)``; the records in that order.
        Through a server they travel together: one offer, the bytes, one record for all."""

    @abstractmethod
    @route("POST", "/model_runs/{run_id}/artifact_uploads")
    def offer_artifact_uploads(self, *, run_id: uuid.UUID, artifacts: list[ArtifactBlob]) -> list[ArtifactUploadOffer]:
        """How to hand over the bytes of artifacts about to be logged, one offer each: already stored, a
        presigned request to the store, presigned requests for its parts (for an artifact declared with
        ``parts``), or none of these (send them through the upload route)."""

    @abstractmethod
    @route("POST", "/model_runs/{run_id}/artifact_records")
    def record_stored_artifacts(self, *, run_id: uuid.UUID, artifacts: list[ArtifactBlob]) -> list[ArtifactRecord]:
        """Record bytes the store holds already (put there through presigned requests) as the run's
        artifacts, all or none; ``NotFoundError`` when the store has no blob of one's digest and size."""

    @abstractmethod
    @route("GET", "/model_runs/{run_id}/artifact_links/{name}")
    def artifact_link(self, *, run_id: uuid.UUID, name: str) -> ArtifactLink:
        """An artifact's record, and a presigned request reading its bytes from the store when it can."""

    # -- model versions ------------------------------------------------------------------------------

    @abstractmethod
    @route("POST", "/model_runs/{run_id}/versions")
    def register_model_version(
        self, *, run_id: uuid.UUID, artifact_name: str, version_info: CheckedInfo, created_by: str | None
    ) -> ModelVersionRecord:
        """The run's artifact as the next version of the run's model (1, 2, 3, ...), its bytes pinned by
        their SHA-256 and size; ``NotFoundError`` for a run or artifact that does not exist."""

    @abstractmethod
    @route("GET", "/models/versions/{version_id}")
    def get_model_version(self, *, version_id: uuid.UUID) -> ModelVersionRecord: ...

    @abstractmethod
    @route("GET", "/models/lookup/versions")
    def find_model_version(self, *, model_name: str, version: int | None, alias: str | None) -> ModelVersionRecord:
        """The model's version of that number, or holding that alias (``latest``: the highest number);
        exactly one of ``version`` and ``alias`` is given."""

    @abstractmethod
    @route("GET", "/models/{model_id}/versions")
    def list_model_versions(self, *, model_id: uuid.UUID) -> list[ModelVersionRecord]:
        """A model's versions by ascending number, each with its aliases."""

    @abstractmethod
    @route("PUT", "/models/versions/{version_id}/aliases/{alias}")
    def set_model_version_alias(self, *, version_id: uuid.UUID, alias: str) -> ModelVersionRecord:
        """Give the version ``alias``; the version of the same model that held it loses it, atomically."""

    @abstractmethod
    @route("DELETE", "/models/versions/{version_id}/aliases/{alias}")
    def remove_model_version_alias(self, *, version_id: uuid.UUID, alias: str) -> ModelVersionRecord:
        """Take ``alias`` from the version; ``NotFoundError`` when it does not hold it."""

    @abstractmethod
    @route("PATCH", "/models/versions/{version_id}")
    def update_model_version(self, *, version_id: uuid.UUID, version_info: CheckedInfo) -> ModelVersionRecord:
        """Replace the version's info; its bytes never change."""

    @abstractmethod
    @route("DELETE", "/models/versions/{version_id}")
    def delete_model_version(self, *, version_id: uuid.UUID) -> None:
        """Delete a version; ``ConflictError`` while it holds an alias."""

    @abstractmethod
    @route("GET", "/models/versions/{version_id}/file")
    def download_model_version(self, *, version_id: uuid.UUID, dest: Path) -> Path:
        """Write the version's pinned bytes to the file ``dest``, verified; the path."""

    # -- model records -------------------------------------------------------------------------------

    @abstractmethod
    @route("POST", "/model_records")
    def insert_model_records(self, *, records: list[NewModelOutput]) -> list[tuple[uuid.UUID, bool]]:
        """Store records, and their files, in one transaction: per record in input order, its id and
        whether it is new. A record equal to a stored one in model, dataset, experiment, season, site,
        timestamp and ``record_info`` is not written again: its id is the stored one's. The names of
        models, datasets, experiments, seasons and sites are created on first use."""

    @abstractmethod
    @route("GET", "/model_records")
    def search_model_records(self, *, query: RecordQuery, page: PageRequest) -> Page[ModelOutputRecord]:
        """A page of the matching records, by timestamp then id."""

    @abstractmethod
    @route("GET", "/model_records/stream")
    def stream_model_records(
        self, *, query: RecordQuery, limit: int | None, offset: int | None
    ) -> Iterator[ModelOutputRecord]:
        """Every matching record (from ``offset``, at most ``limit``), in the order of
        ``search_model_records``, read a block at a time: never all in memory."""

    @abstractmethod
    @route("GET", "/models/records/id/{record_id}")
    def get_model_record(self, *, record_id: uuid.UUID) -> ModelOutputRecord: ...

    @abstractmethod
    @route("PATCH", "/models/records/id/{record_id}")
    def update_model_record(
        self, *, record_id: uuid.UUID, model_data: CheckedData | None, record_info: CheckedInfo | None
    ) -> ModelOutputRecord:
        """Replace the given fields (at least one); ``ConflictError`` when the new ``record_info`` makes
        the record equal to another."""

    @abstractmethod
    @route("DELETE", "/models/records/id/{record_id}")
    def delete_model_record(self, *, record_id: uuid.UUID) -> None: ...

    @abstractmethod
    @route("GET", "/models/records/id/{record_id}/download")
    def download_model_record_file(self, *, record_id: uuid.UUID, dest: Path) -> Path:
        """Write the record's file to the file ``dest``, verified against its SHA-256; ``NotFoundError``
        when the record has no file."""

    # -- tokens and transfer -------------------------------------------------------------------------

    @abstractmethod
    @route("POST", "/tokens")
    def create_token(self, *, name: str, scope: str) -> tuple[ApiTokenRecord, str]:
        """A new per-user token: its record and the token itself, never shown again."""

    @abstractmethod
    @route("GET", "/tokens")
    def list_tokens(self) -> list[ApiTokenRecord]: ...

    @abstractmethod
    @route("POST", "/tokens/{name}/revoke")
    def revoke_token(self, *, name: str) -> ApiTokenRecord: ...

    @abstractmethod
    def export_registry(self, *, stream: TextIO) -> Any:
        """Write the whole registry to ``stream`` as JSON Lines, from one snapshot; the counts."""

    @abstractmethod
    def import_registry(self, *, stream: TextIO) -> Any:
        """Load an export, in one transaction; what was added and what was there already."""


def operation_names() -> list[str]:
    """Every operation of the contract, in declaration order."""
    return [name for name, member in vars(Registry).items() if getattr(member, "__isabstractmethod__", False)]


def implementation(name: str, module: str, functions_of: Iterable[ModuleType], doc: str) -> type[Registry]:
    """A ``Registry`` whose methods are the functions of the same names in ``modules``.

    Each transport writes an operation as a module function with the contract's keyword arguments; this
    binds them into the one class, and fails at once when an operation has no function."""
    functions: dict[str, Any] = {}
    for source in functions_of:
        functions.update(
            {
                key: value
                for key, value in vars(source).items()
                if inspect.isfunction(value) and value.__module__ == source.__name__
            }
        )
    missing = [operation for operation in operation_names() if operation not in functions]
    if missing:
        raise TypeError(f"{name} lacks {', '.join(missing)}")
    members: dict[str, Any] = {operation: staticmethod(functions[operation]) for operation in operation_names()}
    members["__doc__"] = doc
    members["__module__"] = module
    return type(name, (Registry,), members)
