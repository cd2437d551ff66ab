"""Moving a registry between databases as JSON Lines: ``export_registry`` and ``import_registry``.

The file is one JSON object per line. The first is a header, ``{"format": "gemini-registry",
"version": 1, ...}``; then every experiment, model, model-experiment link and model run, in that order
and each in creation order, with its own id and timestamps::

    {"type": "experiment", "id": "...", "experiment_name": "...", "experiment_info": {...}, "created_at": "...", "updated_at": "..."}
    {"type": "model", "id": "...", "model_name": "...", "model_url": null, "model_info": {...}, "created_at": "...", "updated_at": "..."}
    {"type": "model_experiment", "model_id": "...", "experiment_id": "..."}
    {"type": "model_run", "id": "...", "model_id": "..." or null, "model_run_info": {...}, "created_at": "...", "updated_at": "...",
     "status": null or "running"/"finished"/..., "started_at": ..., "ended_at": ..., "error_type": ..., "error_message": ..., "created_by": ...,
     "run_name": "train2" (only when the run has a name)}
    {"type": "metric_points", "run_id": "...", "key": "loss", "points": [[0, 0.91, "..."], [1, "NaN", "..."], ...]}
    {"type": "model_version", "id": "...", "model_id": "...", "version": 3, "model_run_id": "...", "artifact_name": "weights/best.pt",
     "sha256": "...", "size": 6190506, "version_info": {...}, "created_at": "...", "created_by": null}
    {"type": "model_version_alias", "version_id": "...", "alias": "production", "updated_at": "..."}
    {"type": "dataset", "id": "...", "dataset_name": "...", "dataset_info": {...}, "created_at": "..."}
    {"type": "season", "id": "...", "season_name": "...", "season_info": {...}, "created_at": "..."}
    {"type": "site", "id": "...", "site_name": "...", "site_info": {...}, "created_at": "..."}
    {"type": "model_record", "id": "...", "model_id": "...", "timestamp": "...", "collection_date": "2024-06-01" or null,
     "dataset_id": ..., "experiment_id": ..., "season_id": ..., "site_id": ... (each an id or null), "model_data": {...},
     "record_info": {...}, "record_file": "model_data/..." or null, "file_sha256": ..., "file_size": ...,
     "model_run_id": ..., "model_version_id": ..., "created_at": "..."}

Models carry ``created_by`` too, and a model that has given version numbers carries the highest,
``"last_version": 4`` (a deleted version's number included), so that numbering continues after an
import without giving a number twice. A run's metric points follow the runs, up to 1,000 of one key a
line, as ``[step, value, timestamp]`` with NaN and the infinities spelled ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` (JSON has no such numbers); then the model versions and their aliases; then the
datasets, seasons and sites that tag model records, and every model record (GEMINI's per-plot model
outputs), streamed in creation order from the same snapshot. Artifacts are not in the file: their bytes
stay in the store, and so do the bytes a version pins and a record's file (their ``sha256`` names them
there; the operator copies the store beside the file). Version 1 files (no tracked fields, no metric
points) still import, and so do version 2 files written before model versions or model records existed
(a registry without them is still written that way).

The format stays version 2: model versions and records are line types a file may lack, not a change to
any line. Every gemini that reads version 2 refuses a line type it does not know (``unknown record
type 'dataset'``, naming the line) and writes nothing, so an older gemini given a file with records
fails loudly rather than importing the registry without them; a bump would only change that message.
A run's ``run_name`` is likewise written only for a run that has one: an older gemini refuses such a line
(``unknown run_name``), and reads the rest of a file without names as before.

Timestamps are ISO 8601 in UTC with microseconds; numbers in infos are written exactly (integers of any
size, floats in their shortest exact form). An import adds what the database lacks and changes nothing it
has, all in one transaction, so running it twice adds nothing and a bad line leaves the database as it was.
"""

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from gemini.config import get_settings
from gemini.domain.checks import (
    check_alias,
    check_artifact_name,
    check_collection_date,
    check_data,
    check_info,
    check_metric_key,
    check_metric_value,
    check_name,
    check_optional_text,
    check_run_name,
    check_step,
    check_version_number,
    is_sha256,
    parse_id,
)
from gemini.db import transfer as store
from gemini.db.metrics import MetricRepository
from gemini.db.engine import dumps_json, unit_of_work
from gemini.db.model_records import info_text, record_identity
from gemini.domain.errors import ConflictError, InvalidInputError
from gemini.domain.limits import MAX_VERSION
from gemini.domain.numbers import NON_FINITE_TEXT, json_value
from gemini.domain.statuses import STORED_STATUSES
from gemini.domain.records import ExperimentRecord, ModelRecord, ModelRunRecord

FORMAT = "gemini-registry"
VERSION = 2
READABLE_VERSIONS = (1, 2)
RUN_BATCH = 500
POINTS_PER_LINE = 1000
RECORD_CHUNK = 10_000
"""Model records checked, then written together through the records' bulk path, inside the import's
one transaction."""
TAG_COUNTS = {"dataset": "datasets", "season": "seasons", "site": "sites"}
RECORD_REFERENCES = {
    "model_id": "model",
    "dataset_id": "dataset",
    "experiment_id": "experiment",
    "season_id": "season",
    "site_id": "site",
    "model_run_id": "model run",
    "model_version_id": "model version",
}
"""A model record's ids of other records, each with what it names (as errors say it)."""


@dataclasses.dataclass
class TransferCounts:
    experiments: int = 0
    models: int = 0
    model_experiments: int = 0
    model_runs: int = 0
    metric_points: int = 0
    model_versions: int = 0
    model_version_aliases: int = 0
    datasets: int = 0
    seasons: int = 0
    sites: int = 0
    model_records: int = 0


@dataclasses.dataclass
class ImportSummary:
    added: TransferCounts
    """Records the database did not have."""
    already_present: TransferCounts
    """Records it had already (same id; for models, experiments, datasets, seasons and sites the same
    name; for model records the same model, tags, timestamp and record_info), left unchanged."""


def export_registry(*, stream: TextIO) -> TransferCounts:
    """Write the whole registry to ``stream`` as JSON Lines, from one consistent snapshot."""
    counts = TransferCounts()
    stream.write(_line({"format": FORMAT, "version": VERSION, "exported_at": _timestamp(_now())}))
    with unit_of_work(snapshot=True) as connection:
        for experiment in store.iter_experiments(connection):
            stream.write(_line({"type": "experiment", **_fields(experiment, EXPERIMENT_FIELDS)}))
            counts.experiments += 1
        for model, last_version in store.iter_models(connection):
            line = {"type": "model", **_fields(model, MODEL_FIELDS + TRACKED_MODEL_FIELDS)}
            if last_version:  # a model that never had a version is written as before versions existed
                line["last_version"] = last_version
            stream.write(_line(line))
            counts.models += 1
        for model_id, experiment_id in store.iter_model_experiment_links(connection):
            stream.write(_line({"type": "model_experiment", "model_id": str(model_id), "experiment_id": str(experiment_id)}))
            counts.model_experiments += 1
        for run in store.iter_runs(connection):
            line = {"type": "model_run", **_fields(run, RUN_FIELDS + TRACKED_RUN_FIELDS)}
            if run.run_name is not None:  # a run without a name is written as before names existed
                line["run_name"] = run.run_name
            stream.write(_line(line))
            counts.model_runs += 1
        for line in _metric_point_lines(store.iter_metric_points(connection)):
            stream.write(_line(line))
            counts.metric_points += len(line["points"])
        for version in store.iter_model_versions(connection):
            stream.write(_line({"type": "model_version", **_plain(version)}))
            counts.model_versions += 1
        for alias in store.iter_model_version_aliases(connection):
            stream.write(_line({"type": "model_version_alias", **_plain(alias)}))
            counts.model_version_aliases += 1
        for tag, counted in TAG_COUNTS.items():
            for fields in store.iter_tags(connection, tag):
                stream.write(_line({"type": tag, **_plain(fields)}))
                _count(counts, counted)
        for record in store.iter_model_records(connection):
            stream.write(_line({"type": "model_record", **_plain(record)}))
            counts.model_records += 1
    return counts


def _metric_point_lines(points: Iterator[tuple]) -> Iterator[dict[str, Any]]:
    """The points of each (run, key), in lines of at most ``POINTS_PER_LINE``."""
    line: dict[str, Any] | None = None
    for run_id, key, step, value, timestamp in points:
        if line is None or line["run_id"] != str(run_id) or line["key"] != key or len(line["points"]) == POINTS_PER_LINE:
            if line is not None:
                yield line
            line = {"type": "metric_points", "run_id": str(run_id), "key": key, "points": []}
        line["points"].append([step, _value_out(value), _timestamp(timestamp)])
    if line is not None:
        yield line


def _value_out(value: float | None) -> float | str:
    return "NaN" if value is None else json_value(value)  # a NaN may be stored as NULL


def import_registry(*, stream: TextIO) -> ImportSummary:
    """Load a file written by ``export_registry`` into the configured database, in one transaction.

    Records keep their ids and timestamps. A model or experiment whose id or name the database already
    has is not changed, and the incoming runs and links of that model go to the one already there. A run
    whose id, or whose (model, info), is already present is skipped. Model versions keep their numbers:
    a version whose id is present, or whose model already has that number with the same SHA-256, is
    skipped; the same number with other bytes raises ``ConflictError``. A model's version counter only
    rises, to the file's ``last_version`` and to every number added. An alias the model already has
    (on whichever version) is left where it is. Datasets, seasons and sites are matched by id, then by
    name (an existing one is reused). A model record goes to the models, tags, run and version its ids
    map to here (a run or version of the file that matched one already here maps to that one); one
    whose id, or whose model, tags, timestamp and record_info, is already present is skipped. Records
    are written a chunk at a time through the records' bulk path. Any invalid line raises
    ``InvalidInputError`` naming the line, and nothing is written.
    """
    added, present = TransferCounts(), TransferCounts()
    lines = _numbered_objects(stream)
    version = _check_header(lines)
    run_fields = RUN_FIELDS + (TRACKED_RUN_FIELDS if version >= 2 else ())
    model_fields = MODEL_FIELDS + (TRACKED_MODEL_FIELDS if version >= 2 else ())
    with unit_of_work(write=True) as connection:
        loader = store.RegistryLoader(connection)
        metrics = MetricRepository(connection)
        runs_in_file: set[uuid.UUID] = set()
        model_ids: dict[uuid.UUID, uuid.UUID] = {}  # id in the file -> id in this database
        experiment_ids: dict[uuid.UUID, uuid.UUID] = {}
        version_ids: dict[uuid.UUID, uuid.UUID] = {}
        pending_runs: list[tuple[ModelRunRecord, str]] = []
        # Runs of the file that were not added, with their (model, info hash) in this database: a version
        # of one goes to the run already here (few; the rest of the file's runs are only in runs_in_file).
        skipped_runs: dict[uuid.UUID, tuple[uuid.UUID | None, str]] = {}
        run_ids: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID | None]] = {}  # -> (run id here, its model)
        tag_ids: dict[str, dict[uuid.UUID, uuid.UUID]] = {tag: {} for tag in TAG_COUNTS}
        pending_records: list[dict[str, Any]] = []
        max_info_bytes = get_settings().max_info_bytes

        def flush_runs() -> None:
            new = set(loader.add_runs(pending_runs))
            added.model_runs += len(new)
            present.model_runs += len(pending_runs) - len(new)
            skipped_runs.update((run.id, (run.model_id, info_hash)) for run, info_hash in pending_runs if run.id not in new)
            pending_runs.clear()

        def run_here(run_id: uuid.UUID, number: int) -> tuple[uuid.UUID, uuid.UUID | None]:
            """The run of this database that the file's run ``run_id`` (named at line ``number``) is,
            and its model's id: the same id, or the run with equal model and info that made it be skipped."""
            if pending_runs:
                flush_runs()  # the run may be among those not yet written
            if run_id in run_ids:
                return run_ids[run_id]
            found, run_model = loader.run_model(run_id)
            here = run_id
            if not found and run_id in skipped_runs:
                run_model, info_hash = skipped_runs[run_id]
                equal = loader.run_with_info(run_model, info_hash)
                found, here = equal is not None, equal or run_id
            if not found:
                raise InvalidInputError(f"line {number}: model run {run_id} is neither earlier in the file nor in the database")
            run_ids[run_id] = (here, run_model)
            return here, run_model

        def version_here(version_id: uuid.UUID, number: int) -> uuid.UUID:
            """The version of this database that the file's version ``version_id`` is."""
            if version_id not in version_ids:
                if loader.version_by_id(version_id) is None:
                    raise InvalidInputError(
                        f"line {number}: model version {version_id} is neither earlier in the file nor in the database"
                    )
                version_ids[version_id] = version_id
            return version_ids[version_id]

        def flush_records() -> None:
            new = loader.add_model_records(pending_records)
            added.model_records += new
            present.model_records += len(pending_records) - new
            pending_records.clear()

        # (column, id text in the file) -> the id here: a million records name few models, tags, runs
        # and versions, each parsed and looked up once.
        references: dict[tuple[str, str], uuid.UUID] = {}

        def reference_here(column: str, source: uuid.UUID, number: int) -> uuid.UUID:
            kind = RECORD_REFERENCES[column]
            if column == "model_id":
                return _target(model_ids, source, number, loader.model_exists, kind)
            if column == "experiment_id":
                return _target(experiment_ids, source, number, loader.experiment_exists, kind)
            if column == "model_run_id":
                return run_here(source, number)[0]
            if column == "model_version_id":
                return version_here(source, number)
            return _target(tag_ids[kind], source, number, lambda tag_id: loader.tag_exists(kind, tag_id), kind)

        def record_row(item: dict[str, Any], number: int) -> dict[str, Any]:
            """The record's row for this database: its ids mapped, its identity computed from them."""
            row, info_hash = _model_record(item, number, max_info_bytes)
            for column in RECORD_REFERENCES:
                value = row[column]
                if value is None and column != "model_id":  # a record always has a model
                    continue
                key = (column, value) if isinstance(value, str) else None
                found = references.get(key) if key is not None else None
                if found is None:
                    source = _with_line(number, parse_id, value, field=f"{RECORD_REFERENCES[column]} id")
                    found = reference_here(column, source, number)
                    if key is not None:
                        references[key] = found
                row[column] = found
            row["identity"] = record_identity(
                row["model_id"], row["dataset_id"], row["experiment_id"], row["season_id"], row["site_id"],
                row["timestamp"], info_hash,
            )
            return row

        def version_run(run_id: uuid.UUID, model_id: uuid.UUID, number: int) -> uuid.UUID:
            """The run of this database that the version of ``model_id`` at line ``number`` comes from."""
            run_id, run_model = run_here(run_id, number)
            if run_model != model_id:
                raise InvalidInputError(
                    f"line {number}: model run {run_id} belongs to "
                    f"{'no model' if run_model is None else f'model {run_model}'} in this database, "
                    f"not to the version's model {model_id}"
                )
            return run_id

        for number, item in lines:
            kind = item.pop("type", None)
            if kind == "experiment":
                record = _experiment(item, number)
                experiment_ids[record.id], new = loader.add_experiment(record)
                _count(added if new else present, "experiments")
            elif kind == "model":
                last_version = _version_counter(item.pop("last_version", 0), number) if version >= 2 else 0
                record = _model(item, number, model_fields)
                model_ids[record.id], new = loader.add_model(record)
                _count(added if new else present, "models")
                if last_version:
                    loader.raise_version_counter(model_ids[record.id], last_version)
            elif kind == "model_experiment":
                item = _take(item, ("model_id", "experiment_id"), number, "model_experiment")
                model_id = _target(
                    model_ids, _with_line(number, parse_id, item["model_id"], field="model id"), number,
                    loader.model_exists, "model",
                )
                experiment_id = _target(
                    experiment_ids, _with_line(number, parse_id, item["experiment_id"], field="experiment id"),
                    number, loader.experiment_exists, "experiment",
                )
                _count(added if loader.link(model_id, experiment_id) else present, "model_experiments")
            elif kind == "model_run":
                run, info_hash = _run(item, number, run_fields)
                runs_in_file.add(run.id)
                if run.model_id is not None:
                    model_id = _target(model_ids, run.model_id, number, loader.model_exists, "model")
                    run = dataclasses.replace(run, model_id=model_id)
                pending_runs.append((run, info_hash))
                if len(pending_runs) >= RUN_BATCH:
                    flush_runs()
            elif kind == "metric_points" and version >= 2:
                flush_runs()  # the run may be among those not yet written
                run_id, key, points = _metric_points(item, number)
                if not loader.run_exists(run_id):
                    if run_id not in runs_in_file:
                        raise InvalidInputError(f"line {number}: model run {run_id} is neither earlier in the file nor in the database")
                    # Its run was not added: the database has a run of that model with equal info.
                    present.metric_points += len(points)
                    continue
                # The batch id names the line's points, so importing the file again writes them once.
                batch_id = "import-" + hashlib.sha256(f"{key}\0{points[0][1]}".encode()).hexdigest()[:32]
                if metrics.add_batch(run_id=run_id, batch_id=batch_id, points=points):
                    added.metric_points += len(points)
                else:
                    present.metric_points += len(points)
            elif kind == "model_version" and version >= 2:
                fields = _model_version(item, number)
                fields["model_id"] = _target(model_ids, fields["model_id"], number, loader.model_exists, "model")
                file_id = fields["id"]
                if loader.version_by_id(file_id) is not None:
                    version_ids[file_id] = file_id
                    present.model_versions += 1
                    continue
                same_number = loader.version_by_number(fields["model_id"], fields["version"])
                if same_number is not None:
                    if same_number.sha256 != fields["sha256"]:
                        raise ConflictError(
                            f"line {number}: model {loader.model_name(fields['model_id'])!r} already has a version {fields['version']} "
                            f"(id {same_number.id}) of other bytes (SHA-256 {same_number.sha256}, the file's "
                            f"{fields['sha256']}); an import keeps version numbers, so it cannot add this one"
                        )
                    version_ids[file_id] = same_number.id  # the same bytes under the same number
                    present.model_versions += 1
                    continue
                fields["model_run_id"] = version_run(fields["model_run_id"], fields["model_id"], number)
                loader.add_version(fields)
                version_ids[file_id] = file_id
                added.model_versions += 1
            elif kind == "model_version_alias" and version >= 2:
                version_id, alias, updated_at = _model_version_alias(item, number)
                version_id = version_here(version_id, number)
                held = loader.version_by_id(version_id)
                new = loader.add_alias(model_id=held.model_id, alias=alias, version_id=version_id, updated_at=updated_at)
                _count(added if new else present, "model_version_aliases")
            elif kind in TAG_COUNTS and version >= 2:
                fields = _tag(kind, item, number)
                tag_ids[kind][fields["id"]], new = loader.add_tag(kind, fields)
                _count(added if new else present, TAG_COUNTS[kind])
            elif kind == "model_record" and version >= 2:
                pending_records.append(record_row(item, number))
                if len(pending_records) >= RECORD_CHUNK:
                    flush_records()
            else:
                raise InvalidInputError(f"line {number}: unknown record type {kind!r}")
        flush_runs()
        flush_records()
    return ImportSummary(added=added, already_present=present)


# -- writing -------------------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


# The fields of each record a version-1 export carries (and an import expects), then those version 2 adds.
EXPERIMENT_FIELDS = ("id", "experiment_name", "experiment_info", "created_at", "updated_at")
MODEL_FIELDS = ("id", "model_name", "model_url", "model_info", "created_at", "updated_at")
RUN_FIELDS = ("id", "model_id", "model_run_info", "created_at", "updated_at")
TRACKED_MODEL_FIELDS = ("created_by",)
TRACKED_RUN_FIELDS = ("status", "started_at", "ended_at", "error_type", "error_message", "created_by")


MODEL_VERSION_FIELDS = store.VERSION_COLUMNS
MODEL_VERSION_ALIAS_FIELDS = store.ALIAS_COLUMNS


def _fields(record: ExperimentRecord | ModelRecord | ModelRunRecord, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _out(getattr(record, name)) for name in names}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {name: _out(value) for name, value in row.items()}


def _out(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _line(value: dict[str, Any]) -> str:
    return dumps_json(value) + "\n"


# -- reading -------------------------------------------------------------------------------------------


def _numbered_objects(stream: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"line {number}: not JSON ({exc.msg} at column {exc.colno})") from exc
        except ValueError as exc:  # an integer too long for Python to read
            raise InvalidInputError(f"line {number}: not readable JSON ({exc})") from exc
        if not isinstance(value, dict):
            raise InvalidInputError(f"line {number}: expected a JSON object, got {type(value).__name__}")
        yield number, value


def _check_header(lines: Iterator[tuple[int, dict[str, Any]]]) -> int:
    first = next(lines, None)
    if first is None:
        raise InvalidInputError("the file is empty; expected a gemini registry export")
    number, header = first
    if header.get("format") != FORMAT:
        raise InvalidInputError(f"line {number}: not a gemini registry export (no \"format\": \"{FORMAT}\" header)")
    if header.get("version") not in READABLE_VERSIONS:
        raise InvalidInputError(
            f"line {number}: export version {header.get('version')!r}; this gemini reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    return header["version"]


def _count(counts: TransferCounts, field: str) -> None:
    setattr(counts, field, getattr(counts, field) + 1)


def _take(item: dict[str, Any], expected: tuple[str, ...], number: int, kind: str) -> dict[str, Any]:
    missing = [name for name in expected if name not in item]
    unknown = sorted(set(item) - set(expected))
    if missing or unknown:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise InvalidInputError(f"line {number}: {kind} record: {'; '.join(problems)}")
    return item


def _when(value: object, field: str, number: int) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInputError(f"line {number}: {field} {value!r} is not an ISO 8601 timestamp with a UTC offset")
    return parsed.astimezone(dt.timezone.utc)


def _with_line(number: int, check, *args, **kwargs):  # noqa: ANN001, ANN202 - any validation function
    try:
        return check(*args, **kwargs)
    except InvalidInputError as exc:
        raise type(exc)(f"line {number}: {exc}") from exc


def _experiment(item: dict[str, Any], number: int) -> ExperimentRecord:
    item = _take(item, EXPERIMENT_FIELDS, number, "experiment")
    return ExperimentRecord(
        id=_with_line(number, parse_id, item["id"], field="experiment id"),
        experiment_name=_with_line(number, check_name, item["experiment_name"], field="experiment_name"),
        experiment_info=_with_line(number, check_info, item["experiment_info"], field="experiment_info").value,
        created_at=_when(item["created_at"], "created_at", number),
        updated_at=_when(item["updated_at"], "updated_at", number),
    )


def _model(item: dict[str, Any], number: int, fields: tuple[str, ...]) -> ModelRecord:
    item = _take(item, fields, number, "model")
    return ModelRecord(
        id=_with_line(number, parse_id, item["id"], field="model id"),
        model_name=_with_line(number, check_name, item["model_name"], field="model_name"),
        model_url=_with_line(number, check_optional_text, item["model_url"], field="model_url"),
        model_info=_with_line(number, check_info, item["model_info"], field="model_info").value,
        created_at=_when(item["created_at"], "created_at", number),
        updated_at=_when(item["updated_at"], "updated_at", number),
        created_by=_optional_text(item.get("created_by"), "created_by", number),
    )


def _optional_text(value: object, field: str, number: int) -> str | None:
    return None if value is None else _with_line(number, check_optional_text, value, field=field)


def _optional_when(value: object, field: str, number: int) -> dt.datetime | None:
    return None if value is None else _when(value, field, number)


def _run(item: dict[str, Any], number: int, fields: tuple[str, ...]) -> tuple[ModelRunRecord, str]:
    run_name = item.pop("run_name", None)  # a field only runs with a name have
    item = _take(item, fields, number, "model_run")
    status = item.get("status")
    if status is not None and status not in STORED_STATUSES:
        raise InvalidInputError(f"line {number}: status must be null or one of {', '.join(STORED_STATUSES)}, got {status!r}")
    info = _with_line(number, check_info, item["model_run_info"], field="model_run_info")
    model_id = item["model_id"]
    record = ModelRunRecord(
        id=_with_line(number, parse_id, item["id"], field="model run id"),
        model_id=None if model_id is None else _with_line(number, parse_id, model_id, field="model id"),
        model_run_info=info.value,
        created_at=_when(item["created_at"], "created_at", number),
        updated_at=_when(item["updated_at"], "updated_at", number),
        status=status,
        started_at=_optional_when(item.get("started_at"), "started_at", number),
        ended_at=_optional_when(item.get("ended_at"), "ended_at", number),
        error_type=_optional_text(item.get("error_type"), "error_type", number),
        error_message=_optional_text(item.get("error_message"), "error_message", number),
        created_by=_optional_text(item.get("created_by"), "created_by", number),
        run_name=_with_line(number, check_run_name, run_name),
    )
    return record, info.hash


def _version_counter(value: object, number: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_VERSION:
        raise InvalidInputError(f"line {number}: last_version must be an integer from 0 to {MAX_VERSION}, got {value!r:.80}")
    return value


def _model_version(item: dict[str, Any], number: int) -> dict[str, Any]:
    """The version's stored fields, checked, with the file's ids (the caller maps them)."""
    item = _take(item, MODEL_VERSION_FIELDS, number, "model_version")
    sha256, size = item["sha256"], item["size"]
    if not isinstance(sha256, str) or not is_sha256(sha256):
        raise InvalidInputError(f"line {number}: sha256 must be 64 lowercase hexadecimal digits, got {sha256!r:.80}")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size < 2**63:
        raise InvalidInputError(f"line {number}: size must be a number of bytes, got {size!r:.80}")
    return {
        "id": _with_line(number, parse_id, item["id"], field="model version id"),
        "model_id": _with_line(number, parse_id, item["model_id"], field="model id"),
        "version": _with_line(number, check_version_number, item["version"]),
        "model_run_id": _with_line(number, parse_id, item["model_run_id"], field="model run id"),
        "artifact_name": _with_line(number, check_artifact_name, item["artifact_name"], field="artifact_name"),
        "sha256": sha256,
        "size": size,
        "version_info": _with_line(number, check_info, item["version_info"], field="version_info").value,
        "created_at": _when(item["created_at"], "created_at", number),
        "created_by": _optional_text(item["created_by"], "created_by", number),
    }


def _model_version_alias(item: dict[str, Any], number: int) -> tuple[uuid.UUID, str, dt.datetime]:
    item = _take(item, MODEL_VERSION_ALIAS_FIELDS, number, "model_version_alias")
    return (
        _with_line(number, parse_id, item["version_id"], field="model version id"),
        _with_line(number, check_alias, item["alias"]),
        _when(item["updated_at"], "updated_at", number),
    )


def _tag(tag: str, item: dict[str, Any], number: int) -> dict[str, Any]:
    """A dataset's, season's or site's stored fields, checked, with the file's id."""
    item = _take(item, store.TAG_COLUMNS[tag], number, tag)
    return {
        "id": _with_line(number, parse_id, item["id"], field=f"{tag} id"),
        f"{tag}_name": _with_line(number, check_name, item[f"{tag}_name"], field=f"{tag}_name"),
        f"{tag}_info": _with_line(number, check_info, item[f"{tag}_info"], field=f"{tag}_info").value,
        "created_at": _when(item["created_at"], "created_at", number),
    }


def _model_record(item: dict[str, Any], number: int, max_bytes: int) -> tuple[dict[str, Any], str]:
    """The record's stored fields, checked but for its ids of other records (``RECORD_REFERENCES``,
    left as the file gives them: the caller parses and maps them), ``model_data`` and ``record_info``
    as the JSON text a record is stored as; and the hash of its ``record_info``."""
    item = _take(item, store.RECORD_COLUMNS, number, "model_record")
    model_data = _with_line(number, check_data, item["model_data"], field="model_data", max_bytes=max_bytes)
    record_info = _with_line(number, check_info, item["record_info"], field="record_info", max_bytes=max_bytes)
    record_file, sha256, size = item["record_file"], item["file_sha256"], item["file_size"]
    if record_file is None:
        if sha256 is not None or size is not None:
            raise InvalidInputError(f"line {number}: a record without record_file has no file_sha256 or file_size")
    else:
        record_file = _with_line(number, check_optional_text, record_file, field="record_file")
        if not record_file.strip():
            raise InvalidInputError(f"line {number}: record_file must not be empty")
        if not isinstance(sha256, str) or not is_sha256(sha256):
            raise InvalidInputError(f"line {number}: file_sha256 must be 64 lowercase hexadecimal digits, got {sha256!r:.80}")
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size < 2**63:
            raise InvalidInputError(f"line {number}: file_size must be a number of bytes, got {size!r:.80}")
    collection_date = item["collection_date"]
    if collection_date is not None and not isinstance(collection_date, str):
        raise InvalidInputError(f"line {number}: collection_date must be null or a date as YYYY-MM-DD, got {collection_date!r:.80}")
    row = {
        "id": _with_line(number, parse_id, item["id"], field="model record id"),
        **{column: item[column] for column in RECORD_REFERENCES},
        "timestamp": _when(item["timestamp"], "timestamp", number),
        "collection_date": _with_line(number, check_collection_date, collection_date),
        "model_data": model_data.json,
        "record_info": info_text(record_info.value),
        "record_file": record_file,
        "file_sha256": sha256,
        "file_size": size,
        "created_at": _when(item["created_at"], "created_at", number),
    }
    return row, record_info.hash


def _metric_check(number: int, check, value: object):  # noqa: ANN001, ANN202 - a metric_values check
    """The metric checks raise TypeError or ValueError, as ``log_metric`` wants; here they name the line."""
    try:
        return check(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"line {number}: {exc}") from exc


def _metric_points(item: dict[str, Any], number: int) -> tuple[uuid.UUID, str, list[tuple[str, int, float, dt.datetime]]]:
    item = _take(item, ("run_id", "key", "points"), number, "metric_points")
    run_id = _with_line(number, parse_id, item["run_id"], field="model run id")
    key = _metric_check(number, check_metric_key, item["key"])
    if not isinstance(item["points"], list) or not item["points"]:
        raise InvalidInputError(f"line {number}: points must be a non-empty list of [step, value, timestamp]")
    points, steps = [], set()
    for point in item["points"]:
        if not isinstance(point, list) or len(point) != 3:
            raise InvalidInputError(f"line {number}: a point must be [step, value, timestamp], got {point!r:.80}")
        step, value, timestamp = point
        step = _metric_check(number, check_step, step)
        if step in steps:
            raise InvalidInputError(f"line {number}: step {step} of {key!r} is given twice")
        steps.add(step)
        if isinstance(value, str) and value in NON_FINITE_TEXT:
            value = NON_FINITE_TEXT[value]
        value = _metric_check(number, lambda given: check_metric_value(key, given), value)
        points.append((key, step, value, _when(timestamp, "timestamp", number)))
    return run_id, key, points


def _target(
    mapping: dict[uuid.UUID, uuid.UUID], source: uuid.UUID, number: int, exists: Callable[[uuid.UUID], bool], kind: str
) -> uuid.UUID:
    """The id in this database of the model or experiment that has id ``source`` in the file."""
    if source in mapping:
        return mapping[source]
    if exists(source):
        mapping[source] = source  # asked once, however many lines name it
        return source
    raise InvalidInputError(f"line {number}: {kind} {source} is neither earlier in the file nor in the database")
