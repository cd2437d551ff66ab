"""The checking front: every registry operation as callers use it, its input checked once, then handed
to the transport chosen for this process (``gemini.registry.registry()``).

Each method takes what a caller has (ids as text, infos as dicts, ``where`` as text), runs the checks
of ``gemini.domain.checks`` and the query parser, and calls the contract (``Registry``) with checked
values. The database and the server's transport therefore refuse the same input with the same
exception and message, and the server, which runs this same front before its database, checks again
what a client sent. A few reads that callers want (``run_exists``, ``count_runs``, ...) are composed
here from the contract's operations, once for both transports.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

from gemini.config import get_settings
from gemini.domain.checks import (
    check_alias,
    check_collection_date,
    check_data,
    check_record_moment,
    check_artifact_name,
    check_artifact_blobs,
    check_batch_id,
    check_cursor_page,
    check_end,
    check_info,
    check_max_points,
    check_step_range,
    check_moment,
    check_name,
    check_optional_text,
    check_page,
    check_points,
    check_run_name,
    check_version_selector,
    checked_metric_key,
    parse_id,
    parse_ids,
    parse_version_reference,
)
from gemini.domain.errors import ArtifactTooLargeError, InvalidInputError, NotFoundError
from gemini.domain.limits import MAX_RUNS_PER_HISTORY, MAX_SUMMARY_RUNS
from gemini.domain.records import (
    ApiTokenRecord,
    ArtifactLink,
    ArtifactRecord,
    ArtifactUploadOffer,
    ExperimentRecord,
    MetricSeries,
    MetricSummary,
    ModelRecord,
    ModelRunRecord,
    ModelOutputRecord,
    ModelVersionRecord,
    Page,
)
from gemini.domain.tokens import check_scope, check_token_name
from gemini.query import parse_order_by, parse_where
from gemini.registry.contract import (
    ModelQuery,
    NewModelOutput,
    PageRequest,
    RecordQuery,
    Registry,
    RunQuery,
    VersionReference,
)

RUN_INFO = "model_run_info"
RUN_ID = "model run id"
MODEL_ID = "model id"
VERSION_ID = "model version id"


def _optional_name(value: object, field: str) -> str | None:
    return None if value is None else check_name(value, field=field)


def run_query(
    *,
    model_run_info: object = None,
    model_name: object = None,
    model_id: object = None,
    where: object = None,
    order_by: object = None,
) -> RunQuery:
    """The checked and parsed form of a search's filters and order."""
    order_texts: tuple[str, ...] = ()
    keys: tuple = ()
    if order_by is not None:
        keys = tuple(parse_order_by(order_by))
        order_texts = (order_by,) if isinstance(order_by, str) else tuple(order_by)
    return RunQuery(
        contains=check_info(model_run_info, field=RUN_INFO) if model_run_info is not None else None,
        model_name=_optional_name(model_name, "model_name"),
        model_id=parse_id(model_id, field=MODEL_ID) if model_id is not None else None,
        where=where,  # type: ignore[arg-type] - parse_where checks it is text
        where_expression=parse_where(where) if where is not None else None,
        order_by=order_texts,
        order_keys=keys,
    )


RECORD_ID = "model record id"
_RECORD_TAGS = ("dataset_name", "experiment_name", "season_name", "site_name")


def new_model_output(
    *,
    model_name: object,
    timestamp: object = None,
    collection_date: object = None,
    model_data: object = None,
    dataset_name: object = None,
    experiment_name: object = None,
    season_name: object = None,
    site_name: object = None,
    record_file: object = None,
    record_info: object = None,
    model_run_id: object = None,
    model_version: object = None,
    max_bytes: int | None = None,
) -> NewModelOutput:
    """One model record to insert, checked. ``timestamp`` defaults to now; ``collection_date`` to the
    timestamp's date (UTC), as GEMINI does; ``record_file`` is a local file to store with the record;
    ``model_version`` is ``model_name@3`` or ``model_name@alias``."""
    moment = dt.datetime.now(dt.timezone.utc) if timestamp is None else check_record_moment(timestamp)
    collection = check_collection_date(collection_date)
    if record_file is not None:
        if not isinstance(record_file, (str, os.PathLike)):
            raise InvalidInputError(f"record_file must be a path to a local file, got {type(record_file).__name__}")
        record_file = Path(record_file)
        if not record_file.is_file():
            raise InvalidInputError(f"record_file {str(record_file)!r} is not a file")
    return NewModelOutput(
        model_name=check_name(model_name, field="model_name"),
        timestamp=moment,
        collection_date=collection if collection is not None else moment.date(),
        model_data=check_data(model_data, field="model_data", max_bytes=max_bytes),
        dataset_name=_optional_name(dataset_name, "dataset_name"),
        experiment_name=_optional_name(experiment_name, "experiment_name"),
        season_name=_optional_name(season_name, "season_name"),
        site_name=_optional_name(site_name, "site_name"),
        record_info=check_info(record_info, field="record_info", max_bytes=max_bytes),
        record_file=record_file,
        model_run_id=parse_id(model_run_id, field=RUN_ID) if model_run_id is not None else None,
        model_version=_version_reference(model_version) if model_version is not None else None,
    )


def _version_reference(reference: object) -> VersionReference:
    return VersionReference(*parse_version_reference(reference))


def _checked_records(records: Iterable[Mapping[str, Any]]) -> Iterator[NewModelOutput]:
    if isinstance(records, Mapping):
        raise InvalidInputError("records must be a list of records (dicts), not one dict")
    max_bytes = get_settings().max_info_bytes
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise InvalidInputError(f"records[{index}] must be a dict of a record's fields, got {type(record).__name__}")
        try:
            yield new_model_output(**record, max_bytes=max_bytes)
        except TypeError as exc:  # a field that is not one
            raise InvalidInputError(f"records[{index}]: {exc}") from exc
        except InvalidInputError as exc:
            raise type(exc)(f"records[{index}]: {exc}") from exc


def _names(value: object, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, (list, tuple, set, frozenset)):
        raise InvalidInputError(f"{field} must be a name or a list of names, got {type(value).__name__}")
    return tuple(dict.fromkeys(check_name(item, field=field) for item in values))


def record_query(
    *,
    model_names: object = None,
    dataset_names: object = None,
    experiment_names: object = None,
    season_names: object = None,
    site_names: object = None,
    start_timestamp: object = None,
    end_timestamp: object = None,
    collection_date: object = None,
    model_data: object = None,
    record_info: object = None,
    model_run_id: object = None,
    model_version: object = None,
) -> RecordQuery:
    """The checked form of a search of model records: each ``*_names`` is a name or a list of names
    (any of them matches), the timestamps are inclusive bounds (each optional), the dicts match by
    containment, ``model_version`` is ``model_name@3`` or ``model_name@alias``."""
    start = check_record_moment(start_timestamp, field="start_timestamp") if start_timestamp is not None else None
    end = check_record_moment(end_timestamp, field="end_timestamp") if end_timestamp is not None else None
    if start is not None and end is not None and end < start:
        raise InvalidInputError(f"end_timestamp {end.isoformat()} is before start_timestamp {start.isoformat()}")
    return RecordQuery(
        model_names=_names(model_names, "model_name"),
        dataset_names=_names(dataset_names, "dataset_name"),
        experiment_names=_names(experiment_names, "experiment_name"),
        season_names=_names(season_names, "season_name"),
        site_names=_names(site_names, "site_name"),
        start_timestamp=start,
        end_timestamp=end,
        collection_date=check_collection_date(collection_date),
        model_data=check_info(model_data, field="model_data") if model_data else None,
        record_info=check_info(record_info, field="record_info") if record_info else None,
        model_run_id=parse_id(model_run_id, field=RUN_ID) if model_run_id is not None else None,
        model_version=_version_reference(model_version) if model_version is not None else None,
    )


class CheckedRegistry:
    """The registry as callers use it: checks, then the transport."""

    def __init__(self, transport: Registry) -> None:
        self.transport = transport

    def __repr__(self) -> str:
        return f"<gemini registry on {type(self.transport).__name__}>"

    # -- models --------------------------------------------------------------------------------------

    def create_model(
        self,
        *,
        model_name: str,
        model_url: str | None = None,
        model_info: dict[str, Any] | None = None,
        experiment_name: str | None = None,
        created_by: str | None = None,
    ) -> tuple[ModelRecord, bool]:
        return self.transport.create_model(
            model_name=check_name(model_name, field="model_name"),
            model_url=check_optional_text(model_url, field="model_url"),
            model_info=check_info(model_info, field="model_info"),
            experiment_name=_optional_name(experiment_name, "experiment_name"),
            created_by=check_optional_text(created_by, field="created_by"),
        )

    def get_model(self, *, model_id: object) -> ModelRecord:
        return self.transport.get_model(model_id=parse_id(model_id, field=MODEL_ID))

    def get_model_by_name(self, *, model_name: str, experiment_name: str | None = None) -> ModelRecord:
        return self.transport.get_model_by_name(
            model_name=check_name(model_name, field="model_name"),
            experiment_name=_optional_name(experiment_name, "experiment_name"),
        )

    def model_exists(self, *, model_name: str) -> bool:
        try:
            self.get_model_by_name(model_name=model_name)
        except NotFoundError:
            return False
        return True

    def search_models(
        self,
        *,
        model_name: str | None = None,
        model_url: str | None = None,
        model_info: dict[str, Any] | None = None,
        experiment_name: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        with_total: bool = False,
    ) -> Page[ModelRecord]:
        """Models in creation order, filtered by exact name and url, info containment and experiment."""
        check_page(limit, offset)
        query = ModelQuery(
            model_name=check_optional_text(model_name, field="model_name"),
            model_url=check_optional_text(model_url, field="model_url"),
            contains=check_info(model_info, field="model_info") if model_info is not None else None,
            experiment_name=_optional_name(experiment_name, "experiment_name"),
        )
        return self.transport.search_models(
            query=query, page=PageRequest(limit=limit, offset=offset, with_total=bool(with_total))
        )

    def update_model(
        self,
        *,
        model_id: object,
        model_name: str | None = None,
        model_url: str | None = None,
        model_info: dict[str, Any] | None = None,
    ) -> ModelRecord:
        model_id = parse_id(model_id, field=MODEL_ID)
        if model_name is None and model_url is None and model_info is None:
            raise InvalidInputError("nothing to update: give model_name, model_url or model_info")
        return self.transport.update_model(
            model_id=model_id,
            model_name=_optional_name(model_name, "model_name"),
            model_url=check_optional_text(model_url, field="model_url"),
            model_info=check_info(model_info, field="model_info") if model_info is not None else None,
        )

    def delete_model(self, *, model_id: object) -> None:
        self.transport.delete_model(model_id=parse_id(model_id, field=MODEL_ID))

    def create_model_run(
        self,
        *,
        model_id: object,
        model_run_info: dict[str, Any] | None = None,
        model_name: str | None = None,
        created_by: str | None = None,
    ) -> tuple[ModelRunRecord, bool]:
        return self.transport.create_model_run(
            model_id=parse_id(model_id, field=MODEL_ID),
            model_run_info=check_info(model_run_info, field=RUN_INFO),
            model_name=_optional_name(model_name, "model_name"),
            created_by=check_optional_text(created_by, field="created_by"),
        )

    def list_model_experiments(self, *, model_id: object) -> list[ExperimentRecord]:
        return self.transport.list_model_experiments(model_id=parse_id(model_id, field=MODEL_ID))

    def associate_experiment(self, *, model_id: object, experiment_name: str) -> ExperimentRecord:
        return self.transport.associate_experiment(
            model_id=parse_id(model_id, field=MODEL_ID),
            experiment_name=check_name(experiment_name, field="experiment_name"),
        )

    def unassociate_experiment(self, *, model_id: object, experiment_name: str) -> ExperimentRecord:
        return self.transport.unassociate_experiment(
            model_id=parse_id(model_id, field=MODEL_ID),
            experiment_name=check_name(experiment_name, field="experiment_name"),
        )

    def model_belongs_to_experiment(self, *, model_id: object, experiment_name: str) -> bool:
        experiment_name = check_name(experiment_name, field="experiment_name")
        experiments = self.list_model_experiments(model_id=model_id)
        return any(experiment.experiment_name == experiment_name for experiment in experiments)

    # -- runs ----------------------------------------------------------------------------------------

    def create_run(
        self,
        *,
        model_run_info: dict[str, Any] | None = None,
        model_name: str | None = None,
        created_by: str | None = None,
    ) -> tuple[ModelRunRecord, bool]:
        """Record a run (of ``model_name``, created if missing, or of no model); the run, and whether it
        is new (``False``: an equal one existed and is returned)."""
        return self.transport.create_run(
            model_run_info=check_info(model_run_info, field=RUN_INFO),
            model_name=_optional_name(model_name, "model_name"),
            created_by=check_optional_text(created_by, field="created_by"),
        )

    def create_runs(
        self,
        *,
        model_run_infos: list[dict[str, Any]],
        model_name: str | None = None,
        created_by: str | None = None,
    ) -> list[tuple[ModelRunRecord, bool]]:
        """Many runs in one transaction, in input order; runs that exist are returned, equal infos in the
        batch are one run; nothing is written when any info is invalid."""
        if isinstance(model_run_infos, (str, bytes, dict)) or not hasattr(model_run_infos, "__iter__"):
            raise InvalidInputError(f"model_run_infos must be a list of dicts, got {type(model_run_infos).__name__}")
        checked = [check_info(info, field=f"{RUN_INFO}[{index}]") for index, info in enumerate(model_run_infos)]
        model_name = _optional_name(model_name, "model_name")
        created_by = check_optional_text(created_by, field="created_by")
        if not checked:
            return []
        return self.transport.create_runs(model_run_infos=checked, model_name=model_name, created_by=created_by)

    def get_run(self, *, run_id: object) -> ModelRunRecord:
        return self.transport.get_run(run_id=parse_id(run_id, field=RUN_ID))

    def find_run(self, *, model_run_info: dict[str, Any], model_name: str | None = None) -> ModelRunRecord:
        """The run whose info equals ``model_run_info`` (of ``model_name`` when given; else the oldest)."""
        return self.transport.find_run(
            model_run_info=check_info(model_run_info, field=RUN_INFO),
            model_name=_optional_name(model_name, "model_name"),
        )

    def run_exists(self, *, model_run_info: dict[str, Any], model_name: str | None = None) -> bool:
        """Whether ``find_run`` would find a run; an unknown model simply has none."""
        try:
            self.find_run(model_run_info=model_run_info, model_name=model_name)
        except NotFoundError:
            return False
        return True

    def search_runs(
        self,
        *,
        model_run_info: dict[str, Any] | None = None,
        model_name: str | None = None,
        model_id: object = None,
        where: str | None = None,
        order_by: str | list[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        cursor: str | None = None,
        with_total: bool = False,
    ) -> Page[ModelRunRecord]:
        """Runs matching every filter given (containment, model, ``where``), in ``order_by`` order
        (creation order by default), one page at a time: ``limit`` with ``offset``, or with the previous
        page's ``next_cursor``; with ``with_total``, how many match in all, from the same read. The
        language is described in docs/search.md."""
        query = run_query(
            model_run_info=model_run_info, model_name=model_name, model_id=model_id, where=where, order_by=order_by
        )
        check_cursor_page(limit, offset, cursor)
        page = PageRequest(limit=limit, offset=offset, cursor=cursor, with_total=bool(with_total))
        return self.transport.search_runs(query=query, page=page)

    def count_runs(
        self, *, model_run_info: dict[str, Any] | None = None, model_name: str | None = None, where: str | None = None
    ) -> int:
        """How many runs match; the filters of ``search_runs``."""
        page = self.search_runs(model_run_info=model_run_info, model_name=model_name, where=where, limit=0, with_total=True)
        return page.total or 0

    def replace_run_info(self, *, run_id: object, model_run_info: dict[str, Any]) -> ModelRunRecord:
        run_id = parse_id(run_id, field=RUN_ID)
        if model_run_info is None:
            raise InvalidInputError(f"{RUN_INFO} is required to update a model run")
        return self.transport.replace_run_info(run_id=run_id, model_run_info=check_info(model_run_info, field=RUN_INFO))

    def rename_run(self, *, run_id: object, run_name: str | None) -> ModelRunRecord:
        """Give a run its readable name; ``None`` removes it."""
        run_id = parse_id(run_id, field=RUN_ID)
        return self.transport.rename_run(run_id=run_id, run_name=check_run_name(run_name))

    def delete_run(self, *, run_id: object) -> None:
        self.transport.delete_run(run_id=parse_id(run_id, field=RUN_ID))

    def get_run_model(self, *, run_id: object) -> ModelRecord:
        return self.transport.get_run_model(run_id=parse_id(run_id, field=RUN_ID))

    def associate_run(self, *, run_id: object, model_name: str) -> tuple[ModelRunRecord, ModelRecord]:
        return self.transport.associate_run(
            run_id=parse_id(run_id, field=RUN_ID), model_name=check_name(model_name, field="model_name")
        )

    def unassociate_run(self, *, run_id: object) -> tuple[ModelRunRecord, ModelRecord]:
        return self.transport.unassociate_run(run_id=parse_id(run_id, field=RUN_ID))

    def run_belongs_to_model(self, *, run_id: object, model_name: str) -> bool:
        model_name = check_name(model_name, field="model_name")
        return self.get_run(run_id=run_id).model_name == model_name

    # -- experiments ---------------------------------------------------------------------------------

    def create_experiment(
        self, *, experiment_name: str, experiment_info: dict[str, Any] | None = None
    ) -> tuple[ExperimentRecord, bool]:
        return self.transport.create_experiment(
            experiment_name=check_name(experiment_name, field="experiment_name"),
            experiment_info=check_info(experiment_info, field="experiment_info"),
        )

    def get_experiment(self, *, experiment_id: object) -> ExperimentRecord:
        return self.transport.get_experiment(experiment_id=parse_id(experiment_id, field="experiment id"))

    def get_experiment_by_name(self, *, experiment_name: str) -> ExperimentRecord:
        return self.transport.get_experiment_by_name(
            experiment_name=check_name(experiment_name, field="experiment_name")
        )

    def search_experiments(
        self, *, limit: int | None = None, offset: int | None = None, with_total: bool = False
    ) -> Page[ExperimentRecord]:
        check_page(limit, offset)
        return self.transport.search_experiments(
            page=PageRequest(limit=limit, offset=offset, with_total=bool(with_total))
        )

    def list_experiment_models(self, *, experiment_id: object) -> list[ModelRecord]:
        return self.transport.list_experiment_models(experiment_id=parse_id(experiment_id, field="experiment id"))

    def delete_experiment(self, *, experiment_id: object) -> None:
        self.transport.delete_experiment(experiment_id=parse_id(experiment_id, field="experiment id"))

    # -- tracking ------------------------------------------------------------------------------------

    def start_run(
        self,
        *,
        model_run_info: dict[str, Any] | None = None,
        model_name: str | None = None,
        created_by: str | None = None,
        run_name: str | None = None,
    ) -> ModelRunRecord:
        return self.transport.start_run(
            model_run_info=check_info(model_run_info, field=RUN_INFO),
            model_name=_optional_name(model_name, "model_name"),
            created_by=check_optional_text(created_by, field="created_by"),
            run_name=check_run_name(run_name),
        )

    def end_run(
        self,
        *,
        run_id: object,
        status: str = "finished",
        error_type: str | None = None,
        error_message: str | None = None,
        ended_at: object = None,
    ) -> ModelRunRecord:
        run_id = parse_id(run_id, field=RUN_ID)
        status, error_type, error_message = check_end(status, error_type, error_message)
        if ended_at is not None:
            ended_at = check_moment(ended_at, field="ended_at")
        return self.transport.end_run(
            run_id=run_id, status=status, error_type=error_type, error_message=error_message, ended_at=ended_at
        )

    def heartbeat(self, *, run_id: object) -> None:
        self.transport.heartbeat(run_id=parse_id(run_id, field=RUN_ID))

    def log_batch(self, *, run_id: object, batch_id: str, points: Any) -> bool:
        """Write one batch of points (tuples, mappings, or the batch as ``PointColumns``: see
        ``check_points``); ``False`` when that batch was written already."""
        return self.transport.log_batch(
            run_id=parse_id(run_id, field=RUN_ID), batch_id=check_batch_id(batch_id), points=check_points(points)
        )

    def metric_history(self, *, run_id: object, key: str, max_points: int | None = None) -> MetricSeries:
        return self.transport.metric_history(
            run_id=parse_id(run_id, field=RUN_ID), key=checked_metric_key(key), max_points=check_max_points(max_points)
        )

    def metric_histories(
        self,
        *,
        run_ids: Any,
        key: str,
        max_points: int | None = None,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> dict[Any, MetricSeries]:
        start_step, end_step = check_step_range(start_step, end_step)
        return self.transport.metric_histories(
            run_ids=parse_ids(run_ids, at_most=MAX_RUNS_PER_HISTORY),
            key=checked_metric_key(key),
            max_points=check_max_points(max_points),
            start_step=start_step,
            end_step=end_step,
        )

    def metric_summaries(self, *, run_id: object) -> dict[str, MetricSummary]:
        return self.transport.metric_summaries(run_id=parse_id(run_id, field=RUN_ID))

    def metric_summaries_of_runs(self, *, run_ids: Any) -> dict[Any, list[MetricSummary]]:
        """The summaries of many runs; none asked for is an empty answer."""
        if isinstance(run_ids, (list, tuple)) and not run_ids:
            return {}
        return self.transport.metric_summaries_of_runs(run_ids=parse_ids(run_ids, at_most=MAX_SUMMARY_RUNS))

    # -- artifacts -----------------------------------------------------------------------------------

    def log_artifact_file(
        self, *, run_id: object, path: str | os.PathLike, name: str | None = None
    ) -> ArtifactRecord:
        """Store the local file ``path`` as the run's artifact ``name`` (default: the file's name).

        A path that is missing, a directory, or larger than ``GEMINI_MAX_ARTIFACT_BYTES`` is refused
        before anything is sent or stored."""
        run_id = parse_id(run_id, field=RUN_ID)
        path = Path(path)
        name = check_artifact_name(path.name if name is None else name)
        self._check_file(path)
        return self.transport.log_artifact_file(run_id=run_id, path=path, name=name)

    @staticmethod
    def _check_file(path: Path) -> None:
        if not path.is_file():
            what = "is a directory, not a file" if path.is_dir() else "does not exist"
            raise InvalidInputError(f"{str(path)!r} {what}")
        limit = get_settings().max_artifact_bytes
        size = path.stat().st_size
        if size > limit:
            raise ArtifactTooLargeError(f"{str(path)!r} is {size} bytes; the limit is {limit} bytes")

    def log_artifact_directory(
        self, *, run_id: object, directory: str | os.PathLike, prefix: str | None = None
    ) -> list[ArtifactRecord]:
        """Store every file below ``directory`` under its relative path (below ``prefix`` when given),
        returned in name order. Every name and file is checked before the first file is stored; the files
        are stored a few at a time (``ARTIFACT_UPLOADS_AT_ONCE``). Locally each file is its own record,
        so a failure part way keeps the files already stored; through a server the files that go to a
        bucket directly are recorded together, once all their bytes are there."""
        run_id = parse_id(run_id, field=RUN_ID)
        directory = Path(directory)
        if not directory.is_dir():
            what = "is a file, not a directory" if directory.exists() else "does not exist"
            raise InvalidInputError(f"{str(directory)!r} {what}")
        if prefix is not None:
            prefix = check_artifact_name(prefix.rstrip("/") if isinstance(prefix, str) else prefix, field="prefix")
        files: list[tuple[str, Path]] = []
        for folder, subfolders, names in os.walk(directory):
            subfolders.sort()
            for file_name in sorted(names):
                path = Path(folder) / file_name
                relative = PurePosixPath(*path.relative_to(directory).parts).as_posix()
                files.append((check_artifact_name(f"{prefix}/{relative}" if prefix else relative), path))
        return self.log_artifact_files(run_id=run_id, files=[(path, name) for name, path in sorted(files)])

    def log_artifact_files(self, *, run_id: object, files: list) -> list[ArtifactRecord]:
        """Store local files as the run's artifacts, each ``(path, name)``; the records in that order.
        Every name and file is checked before the first is stored."""
        run_id = parse_id(run_id, field=RUN_ID)
        checked = [(Path(path), check_artifact_name(name)) for path, name in files]
        names = [name for _, name in checked]
        if len(set(names)) != len(names):
            raise InvalidInputError(f"the artifact name {next(n for n in names if names.count(n) > 1)!r} is given twice")
        for path, _ in checked:
            self._check_file(path)
        return self.transport.log_artifact_files(run_id=run_id, files=checked) if checked else []

    def search_artifacts(
        self, *, run_id: object, limit: int | None = None, offset: int | None = None, with_total: bool = False
    ) -> Page[ArtifactRecord]:
        """A run's artifacts in name order."""
        run_id = parse_id(run_id, field=RUN_ID)
        check_page(limit, offset)
        return self.transport.search_artifacts(
            run_id=run_id, page=PageRequest(limit=limit, offset=offset, with_total=bool(with_total))
        )

    def download_artifact(self, *, run_id: object, name: str, dest: str | os.PathLike | None = None) -> Path:
        """Write an artifact to ``dest`` and return the path written: a file path, or an existing
        directory to write into under the name's last part (default: the current directory). The bytes
        replace ``dest`` only once their SHA-256 matched: a failed download leaves it as it was."""
        run_id = parse_id(run_id, field=RUN_ID)
        name = check_artifact_name(name)
        target = Path.cwd() if dest is None else Path(dest)
        if target.is_dir():
            target = target / PurePosixPath(name).name
        return self.transport.download_artifact(run_id=run_id, name=name, dest=target)

    def offer_artifact_uploads(self, *, run_id: object, artifacts: list) -> list[ArtifactUploadOffer]:
        """How to hand over the bytes of artifacts about to be logged, one offer each (see the contract);
        ``artifacts`` are ``{name, sha256, size}`` mappings (with ``part_bytes`` and ``part_sha256s`` for
        one to upload in parts) or ``ArtifactBlob``s."""
        return self.transport.offer_artifact_uploads(
            run_id=parse_id(run_id, field=RUN_ID), artifacts=check_artifact_blobs(artifacts)
        )

    def record_stored_artifacts(self, *, run_id: object, artifacts: list) -> list[ArtifactRecord]:
        """Record bytes the store holds already as the run's artifacts, all or none."""
        return self.transport.record_stored_artifacts(
            run_id=parse_id(run_id, field=RUN_ID), artifacts=check_artifact_blobs(artifacts)
        )

    def artifact_link(self, *, run_id: object, name: str) -> ArtifactLink:
        """An artifact's record, and a presigned request reading its bytes from the store when it can."""
        return self.transport.artifact_link(run_id=parse_id(run_id, field=RUN_ID), name=check_artifact_name(name))

    # -- model versions ------------------------------------------------------------------------------

    def register_model_version(
        self,
        *,
        run_id: object,
        artifact_name: str,
        version_info: dict[str, Any] | None = None,
        created_by: str | None = None,
    ) -> ModelVersionRecord:
        """Register the run's artifact ``artifact_name`` as the next version of the run's model."""
        return self.transport.register_model_version(
            run_id=parse_id(run_id, field=RUN_ID),
            artifact_name=check_artifact_name(artifact_name, field="artifact_name"),
            version_info=check_info(version_info, field="version_info"),
            created_by=check_optional_text(created_by, field="created_by"),
        )

    def get_model_version(self, *, version_id: object) -> ModelVersionRecord:
        return self.transport.get_model_version(version_id=parse_id(version_id, field=VERSION_ID))

    def find_model_version(
        self,
        *,
        model_name: str | None = None,
        version: int | None = None,
        alias: str | None = None,
        reference: str | None = None,
    ) -> ModelVersionRecord:
        """A version by its model's name and its number or alias (``latest``: the highest number), or by
        a ``reference``, ``name@3`` or ``name@production``, instead of the three."""
        if reference is not None:
            if model_name is not None or version is not None or alias is not None:
                raise InvalidInputError("give a reference alone, or a model name with a version or an alias")
            model_name, version, alias = parse_version_reference(reference)
        else:
            model_name = check_name(model_name, field="model_name")
            version, alias = check_version_selector(version, alias)
        return self.transport.find_model_version(model_name=model_name, version=version, alias=alias)

    def list_model_versions(self, *, model_id: object = None, model_name: str | None = None) -> list[ModelVersionRecord]:
        """A model's versions by ascending number (``[]`` for none); the model by its id or its name."""
        if (model_id is None) == (model_name is None):
            raise InvalidInputError("give either model_id or model_name")
        if model_id is None:
            model_id = self.get_model_by_name(model_name=model_name).id
        return self.transport.list_model_versions(model_id=parse_id(model_id, field=MODEL_ID))

    def set_model_version_alias(self, *, version_id: object, alias: str) -> ModelVersionRecord:
        return self.transport.set_model_version_alias(
            version_id=parse_id(version_id, field=VERSION_ID), alias=check_alias(alias)
        )

    def remove_model_version_alias(self, *, version_id: object, alias: str) -> ModelVersionRecord:
        return self.transport.remove_model_version_alias(
            version_id=parse_id(version_id, field=VERSION_ID), alias=check_alias(alias)
        )

    def update_model_version(self, *, version_id: object, version_info: dict[str, Any]) -> ModelVersionRecord:
        version_id = parse_id(version_id, field=VERSION_ID)
        if version_info is None:
            raise InvalidInputError("version_info is required to update a model version")
        return self.transport.update_model_version(
            version_id=version_id, version_info=check_info(version_info, field="version_info")
        )

    def delete_model_version(self, *, version_id: object) -> None:
        self.transport.delete_model_version(version_id=parse_id(version_id, field=VERSION_ID))

    def download_model_version(self, *, version_id: object, dest: str | os.PathLike | None = None) -> Path:
        """Write the version's pinned bytes to ``dest`` and return the path written: a file path, or an
        existing directory to write into under the artifact's base name (default: the current
        directory). ``dest`` is replaced only once the bytes matched their SHA-256."""
        version_id = parse_id(version_id, field=VERSION_ID)
        target = Path.cwd() if dest is None else Path(dest)
        if target.is_dir():
            found = self.transport.get_model_version(version_id=version_id)
            target = target / PurePosixPath(found.artifact_name).name
        return self.transport.download_model_version(version_id=version_id, dest=target)

    # -- model records -------------------------------------------------------------------------------

    def insert_model_records(self, *, records: Iterable[Mapping[str, Any]]) -> list[tuple[uuid.UUID, bool]]:
        """Insert records given as dicts of ``new_model_output``'s arguments, checked as the transport
        takes them (a million are never all checked copies at once); a bad one raises naming its
        position (``records[3]: ...``) and nothing is written (over a server: nothing of its request)."""
        return self.transport.insert_model_records(records=_checked_records(records))

    def search_model_records(
        self, *, limit: int | None = None, offset: int | None = None, with_total: bool = False, **filters: Any
    ) -> Page[ModelOutputRecord]:
        """A page of the records matching ``filters`` (the arguments of ``record_query``)."""
        check_page(limit, offset)
        return self.transport.search_model_records(
            query=record_query(**filters), page=PageRequest(limit=limit, offset=offset, with_total=bool(with_total))
        )

    def stream_model_records(
        self, *, limit: int | None = None, offset: int | None = None, **filters: Any
    ) -> Iterator[ModelOutputRecord]:
        """Every record matching ``filters``, by timestamp then id, read a block at a time."""
        check_page(limit, offset)
        return self.transport.stream_model_records(query=record_query(**filters), limit=limit, offset=offset)

    def get_model_record(self, *, record_id: object) -> ModelOutputRecord:
        return self.transport.get_model_record(record_id=parse_id(record_id, field=RECORD_ID))

    def update_model_record(
        self, *, record_id: object, model_data: object = None, record_info: object = None
    ) -> ModelOutputRecord:
        if model_data is None and record_info is None:
            raise InvalidInputError("give model_data, record_info or both to update a model record")
        return self.transport.update_model_record(
            record_id=parse_id(record_id, field=RECORD_ID),
            model_data=check_data(model_data, field="model_data") if model_data is not None else None,
            record_info=check_info(record_info, field="record_info") if record_info is not None else None,
        )

    def delete_model_record(self, *, record_id: object) -> None:
        self.transport.delete_model_record(record_id=parse_id(record_id, field=RECORD_ID))

    def download_model_record_file(self, *, record_id: object, dest: str | os.PathLike | None = None) -> Path:
        """Write the record's file to ``dest`` and return the path written: a file path, or an existing
        directory to write into under the file's base name (default: the current directory)."""
        record_id = parse_id(record_id, field=RECORD_ID)
        target = Path.cwd() if dest is None else Path(dest)
        if target.is_dir():
            found = self.transport.get_model_record(record_id=record_id)
            if found.record_file is None:
                raise NotFoundError(f"model record {record_id} has no file")
            target = target / PurePosixPath(found.record_file).name
        return self.transport.download_model_record_file(record_id=record_id, dest=target)

    # -- tokens and transfer -------------------------------------------------------------------------

    def create_token(self, *, name: str, scope: str) -> tuple[ApiTokenRecord, str]:
        return self.transport.create_token(name=check_token_name(name), scope=check_scope(scope))

    def list_tokens(self) -> list[ApiTokenRecord]:
        return self.transport.list_tokens()

    def revoke_token(self, *, name: str) -> ApiTokenRecord:
        return self.transport.revoke_token(name=check_name(name, field="token name"))

    def export_registry(self, *, stream: TextIO) -> Any:
        return self.transport.export_registry(stream=stream)

    def import_registry(self, *, stream: TextIO) -> Any:
        return self.transport.import_registry(stream=stream)
