"""``gemini records``: import, search, export and download model records (a model's outputs, one record
per plot and moment, tagged with dataset, experiment, season and site)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

import click

from gemini.cli.errors import GeminiCommandError
from gemini.cli.output import count_lines, echo_json, echo_page, echo_record, note, progress
from gemini.cli.params import JSON_OBJECT, offset_option
from gemini.cli.paths import download_destination
from gemini.domain.errors import GeminiError
from gemini.domain.records import ModelOutputRecord
from gemini.registry import registry

CHUNK_LINES = 5_000
"""Records written per transaction by ``records import``."""
DEFAULT_LIMIT = 50
HEADERS = ("ID", "MODEL", "TIMESTAMP", "EXPERIMENT", "SEASON", "SITE", "DATASET", "VERSION", "DATA")

INPUT_FIELDS = (
    "model_name",
    "timestamp",
    "collection_date",
    "model_data",
    "dataset_name",
    "experiment_name",
    "season_name",
    "site_name",
    "record_info",
    "record_file",
    "model_run_id",
    "model_version",
)
"""What a line of an import may give: the arguments of the registry's ``insert_model_records`` records."""
STORED_FIELDS = tuple(
    name for name in ModelOutputRecord._fields if name not in INPUT_FIELDS
)
"""The fields the registry sets (ids, the file's SHA-256 and size, created_at): an export has them, an
import skips them, so an export reads back in."""
JSON_TEXT_COLUMNS = ("model_data", "record_info")
TAGS = ("dataset_name", "experiment_name", "season_name", "site_name")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_RECORD_POSITION = re.compile(r"records\[(\d+)\]:?\s*")


def record_json(record: ModelOutputRecord) -> dict[str, Any]:
    """A record as the REST API writes it: every field, ids as text, moments and dates in ISO 8601."""
    line = {}
    for name, value in zip(record._fields, record):
        line[name] = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else (
            str(value) if isinstance(value, uuid.UUID) else value
        )
    return line


def json_line(record: ModelOutputRecord) -> str:
    return json.dumps(record_json(record), ensure_ascii=False, separators=(",", ":")) + "\n"


@click.group()
def records() -> None:
    """Model records: a model's outputs, one per plot and moment, tagged with dataset, experiment,
    season and site, and with the run and version that produced them."""


# -- import ---------------------------------------------------------------------------------------------


class _BadLine(Exception):
    """A line that cannot be imported; ``where`` when the registry's refusal names no one line of a chunk."""

    def __init__(self, number: int, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.number = number
        self.message = message
        self.where = where or f"line {number}"


class _Lines:
    """The rows of an import file as (line number, fields); a CSV row is numbered by its first line."""

    def __init__(self, stream: IO[str] | Iterator[str], input_format: str) -> None:
        self.stream = stream
        self.format = input_format
        self.header: list[str] = []
        self.extra_columns: list[str] = []
        self.reader = csv.reader(stream, strict=True) if input_format == "csv" else None

    def read_header(self) -> None:
        """A CSV file's header row (nothing for JSON Lines): its columns, and which go into model_data."""
        if self.reader is None:
            return
        try:
            header = next(self.reader, None)
        except csv.Error as exc:
            raise _BadLine(1, f"not CSV ({exc})") from exc
        if header is None:
            return
        unnamed = [index for index, name in enumerate(header, start=1) if not name.strip()]
        if unnamed:
            raise _BadLine(1, f"column {unnamed[0]} of the header has no name")
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise _BadLine(1, f"the header names column {repeated[0]!r} more than once")
        self.header = header
        self.extra_columns = [name for name in header if name not in INPUT_FIELDS and name not in STORED_FIELDS]

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        return self._csv() if self.reader is not None else self._jsonl()

    def _jsonl(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, line in enumerate(self.stream, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                raise _BadLine(number, f"not JSON ({exc})") from exc
            except RecursionError as exc:
                raise _BadLine(number, "JSON nested too deeply") from exc
            if not isinstance(value, dict):
                raise _BadLine(number, f"expected a JSON object, got {type(value).__name__}")
            unknown = [key for key in value if key not in INPUT_FIELDS and key not in STORED_FIELDS]
            if unknown:
                raise _BadLine(
                    number, f"unknown field {unknown[0]!r} (a record's outputs go in the object model_data)"
                )
            yield number, value

    def _csv(self) -> Iterator[tuple[int, dict[str, Any]]]:
        reader = self.reader
        assert reader is not None
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader, None)
            except csv.Error as exc:
                raise _BadLine(start, f"not CSV ({exc})") from exc
            if cells is None:
                return
            number, start = start, reader.line_num + 1
            if not any(cells):  # a blank line, or only empty cells
                continue
            if len(cells) > len(self.header):
                raise _BadLine(number, f"{len(cells)} cells, but the header has {len(self.header)} columns")
            yield number, self._csv_fields(number, dict(zip(self.header, cells)))

    def _csv_fields(self, number: int, row: dict[str, str]) -> dict[str, Any]:
        """Known columns to their fields (empty cell: none); model_data and record_info are JSON text;
        every other column is a key of model_data."""
        fields: dict[str, Any] = {}
        for name, text in row.items():
            if name in STORED_FIELDS or name in self.extra_columns or text == "":
                continue
            if name in JSON_TEXT_COLUMNS:
                try:
                    fields[name] = json.loads(text)
                except (ValueError, RecursionError) as exc:
                    raise _BadLine(number, f"{name} is not JSON text ({exc})") from exc
            else:
                fields[name] = text
        extras = {name: _cell_value(row[name]) for name in self.extra_columns if row.get(name, "") != ""}
        if extras:
            data = fields.get("model_data", {})
            if not isinstance(data, dict):
                raise _BadLine(number, f"model_data must be a JSON object, got {type(data).__name__}")
            both = sorted(extras.keys() & data.keys())
            if both:
                raise _BadLine(number, f"column {both[0]!r} is also a key of the model_data column")
            fields["model_data"] = {**data, **extras}
        return fields


def _cell_value(text: str) -> Any:
    """A CSV cell for model_data: a JSON number as that number, ``true``/``false`` as booleans, anything
    else as the text itself (so ``007`` stays ``"007"``)."""
    if text in ("true", "false"):
        return text == "true"
    if _JSON_NUMBER.fullmatch(text):
        number = json.loads(text)
        if not isinstance(number, float) or math.isfinite(number):
            return number
    return text


class _Tagging:
    """What the command's options add to each line, and the checks that need no database."""

    def __init__(self, *, model_name: str, defaults: dict[str, str | None], run: str | None, version: str | None, base: Path) -> None:
        self.model_name = model_name
        self.defaults = {tag: value for tag, value in defaults.items() if value is not None}
        self.tags = {"model_run_id": run, "model_version": version}
        self.base = base

    def record(self, number: int, fields: dict[str, Any]) -> dict[str, Any]:
        record = {key: value for key, value in fields.items() if key in INPUT_FIELDS and value not in (None, "")}
        named = record.pop("model_name", None)
        if named is not None and named != self.model_name:
            raise _BadLine(number, f"model_name {named!r} is not the --model {self.model_name!r}")
        if "timestamp" not in record:
            raise _BadLine(number, "no timestamp (an imported record needs one, so that importing again finds it stored)")
        for tag, value in self.defaults.items():
            record.setdefault(tag, value)
        for key, value in self.tags.items():
            if value is None:
                continue
            given = record.setdefault(key, value)
            if not _same(key, given, value):
                option = "--run" if key == "model_run_id" else "--version"
                raise _BadLine(number, f"{key} {given!r} is not the {option} {value!r}")
        if isinstance(record.get("record_file"), str):
            record["record_file"] = str(self.base / record["record_file"])  # an absolute path stays as it is
        record["model_name"] = self.model_name
        return record


def _same(key: str, given: Any, value: str) -> bool:
    if key == "model_run_id" and isinstance(given, str):
        try:
            return uuid.UUID(given) == uuid.UUID(value)
        except ValueError:
            pass
    return given == value


def _open_input(path: str) -> tuple[IO[str], str, Path]:
    """The file as text for csv and json (BOM dropped, line ends kept), its name for messages, and the
    directory its relative record_file paths start from."""
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline=""), "standard input", Path.cwd()
    try:
        return open(path, encoding="utf-8-sig", newline=""), path, Path(path).resolve().parent  # noqa: SIM115
    except OSError as exc:
        raise GeminiCommandError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _input_format(path: str, stream: IO[str], chosen: str | None) -> tuple[str, IO[str] | Iterator[str]]:
    if chosen:
        return chosen, stream
    suffix = PurePosixPath(path).suffix.lower()
    if suffix == ".csv":
        return "csv", stream
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl", stream
    first = stream.readline()  # standard input, or a name that says nothing: a JSON line starts with {
    guessed = "jsonl" if first.lstrip().startswith("{") else "csv"
    if stream.seekable():
        stream.seek(0)
        return guessed, stream
    return guessed, _chain(first, stream)


def _chain(first: str, stream: IO[str]) -> Iterator[str]:
    if first:
        yield first
    yield from stream


@records.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--model", "model_name", required=True, help="The model whose outputs these are (created if missing).")
@click.option("--format", "input_format", type=click.Choice(["csv", "jsonl"]), help="Default: from the file's extension, else by its first line.")
@click.option("--dataset", "dataset_name", help="Dataset of the lines that name none.")
@click.option("--experiment", "experiment_name", help="Experiment of the lines that name none.")
@click.option("--season", "season_name", help="Season of the lines that name none.")
@click.option("--site", "site_name", help="Site of the lines that name none.")
@click.option("--run", "model_run_id", metavar="RUN_ID", help="The run that produced every line.")
@click.option("--version", "model_version", metavar="MODEL@VERSION", help="The version (MODEL@3, MODEL@production) that produced every line.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=CHUNK_LINES, show_default=True, help="Records written per transaction.")
def import_records(file, model_name, input_format, dataset_name, experiment_name, season_name, site_name, model_run_id, model_version, chunk_size) -> None:  # noqa: ANN001
    """Insert the records of FILE ('-' for standard input), CSV with a header row or JSON Lines, a chunk
    of 5,000 lines per transaction.

    \b
    JSON Lines: one object a line with the fields timestamp (required), collection_date, model_data
    (an object), dataset_name, experiment_name, season_name, site_name, record_info (an object),
    record_file, model_run_id, model_version; what 'gemini records export' writes reads back in.
    CSV: columns of those names (model_data and record_info as JSON text); every other column becomes
    a key of model_data (a number as a number, true/false as booleans, other text as text; an empty
    cell is left out). record_file is a local file, relative to FILE's directory, stored with the record.

    A bad line stops the import with its line number; nothing of its chunk is written, the chunks
    before it stay written. Records already stored are skipped, so once the line is fixed the file can
    simply be imported again.

    Examples:

    \b
        gemini records import counts.csv --model stand_counter --experiment GEMINI-2026 --season Summer
        gemini records import outputs.jsonl --model stand_counter --version stand_counter@production
    """
    stream, source, base = _open_input(file)
    try:
        chosen, lines = _input_format(file, stream, input_format)
        total = count_lines(stream) if lines is stream else None
        if total and chosen == "csv":
            total -= 1  # the header row is no record
        tagging = _Tagging(
            model_name=model_name,
            defaults=dict(dataset_name=dataset_name, experiment_name=experiment_name, season_name=season_name, site_name=site_name),
            run=model_run_id,
            version=model_version,
            base=base,
        )
        _import(_Lines(lines, chosen), tagging, source, total, chunk_size)  # type: ignore[arg-type]
    finally:
        if file == "-":
            stream.detach()  # type: ignore[attr-defined] - standard input stays open
        else:
            stream.close()


def _import(rows: _Lines, tagging: _Tagging, source: str, total: int | None, chunk_size: int) -> None:
    counts = {"new": 0, "stored": 0}
    chunk: list[tuple[int, dict[str, Any]]] = []

    def write() -> None:
        try:
            results = registry().insert_model_records(records=[record for _number, record in chunk])
        except GeminiError as exc:
            found = _RECORD_POSITION.match(str(exc))
            if found and int(found[1]) < len(chunk):
                raise _BadLine(chunk[int(found[1])][0], str(exc)[found.end():]) from exc
            raise _BadLine(chunk[0][0], str(exc), where=f"lines {chunk[0][0]}-{chunk[-1][0]}") from exc
        new = sum(1 for _id, is_new in results if is_new)
        counts["new"] += new
        counts["stored"] += len(results) - new
        chunk.clear()

    try:
        rows.read_header()
        if rows.extra_columns:
            note(f"columns {', '.join(rows.extra_columns)} go into model_data")
        with progress(rows, length=total, label="importing records") as bar:
            for number, fields in bar:
                chunk.append((number, tagging.record(number, fields)))
                if len(chunk) >= chunk_size:
                    write()
            if chunk:
                write()
    except _BadLine as bad:
        first = chunk[0][0] if chunk else bad.number
        written = counts["new"] + counts["stored"]
        before = (
            f"the {written} records before it were ({counts['new']} new, {counts['stored']} already stored)"
            if written
            else "nothing before it was written either"
        )
        raise GeminiCommandError(
            f"{source} {bad.where}: {bad.message.rstrip('.')}. Nothing from line {first} on was written; {before}. "
            "Fix the file and import it again: records already stored are skipped."
        ) from bad
    note(f"{counts['new']} records new, {counts['stored']} already stored")


# -- search and export ------------------------------------------------------------------------------


def _until(text: str | None) -> str | dt.datetime | None:
    """``--until 2026-06-30`` takes in that whole day (UTC); a moment is taken as it is."""
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return text
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.timezone.utc) - dt.timedelta(microseconds=1)


def _filters(**options: Any) -> dict[str, Any]:
    return dict(
        dataset_names=list(options["datasets"]) or None,
        experiment_names=list(options["experiments"]) or None,
        season_names=list(options["seasons"]) or None,
        site_names=list(options["sites"]) or None,
        start_timestamp=options["since"],
        end_timestamp=_until(options["until"]),
        collection_date=options["collection_date"],
        model_data=options["model_data"],
        record_info=options["record_info"],
        model_run_id=options["model_run_id"],
        model_version=options["model_version"],
    )


filter_options = [
    click.option("--experiment", "experiments", multiple=True, help="Only records of this experiment (repeat for any of several)."),
    click.option("--season", "seasons", multiple=True, help="Only records of this season (repeatable)."),
    click.option("--site", "sites", multiple=True, help="Only records of this site (repeatable)."),
    click.option("--dataset", "datasets", multiple=True, help="Only records of this dataset (repeatable)."),
    click.option("--since", metavar="MOMENT", help="Only records at or after this ISO 8601 moment or date (UTC if no zone)."),
    click.option("--until", metavar="MOMENT", help="Only records at or before this moment; a date takes in the whole day."),
    click.option("--collection-date", "collection_date", metavar="DATE", help="Only records of this collection date."),
    click.option("--data", "model_data", type=JSON_OBJECT, help="Only records whose model_data contains this JSON object."),
    click.option("--info", "record_info", type=JSON_OBJECT, help="Only records whose record_info contains this JSON object."),
    click.option("--run", "model_run_id", metavar="RUN_ID", help="Only records produced by this run."),
    click.option("--version", "model_version", metavar="MODEL@VERSION", help="Only records produced by this version (MODEL@3, MODEL@production)."),
]


def with_filter_options(command):  # noqa: ANN001, ANN201
    for option in reversed(filter_options):
        command = option(command)
    return command


@records.command("search")
@click.option("--model", "models", multiple=True, help="Only records of this model (repeatable).")
@with_filter_options
@click.option("--limit", type=click.IntRange(min=0), help=f"At most this many records (table: {DEFAULT_LIMIT}; --json: all).")
@offset_option
@click.option("--json", "as_json", is_flag=True, help="Stream JSON Lines, one record a line, instead of a table.")
def search_records(models, limit, offset, as_json, **options) -> None:  # noqa: ANN001
    """Find records by model, experiment, season, site, dataset, time, run and version, in order of
    timestamp. A table of the first 50 by default; --json streams every match, one JSON object a line.

    Examples:

    \b
        gemini records search --model stand_counter --experiment GEMINI-2026 --season Summer --site Davis
        gemini records search --since 2026-06-01 --until 2026-06-30 --version stand_counter@production --json
    """
    filters = dict(model_names=list(models) or None, **_filters(**options))
    if as_json:
        out = sys.stdout
        for record in registry().stream_model_records(limit=limit, offset=offset, **filters):
            out.write(json_line(record))
        return
    echo_page(
        registry().search_model_records(
            limit=DEFAULT_LIMIT if limit is None else limit, offset=offset, with_total=True, **filters
        ),
        offset=offset,
        as_json=False,
        headers=HEADERS,
        row=lambda r: (
            r.id, r.model_name, r.timestamp, r.experiment_name, r.season_name, r.site_name, r.dataset_name,
            r.model_version, r.model_data,
        ),
        noun="model records",
    )


@records.command("export")
@click.option("--model", "model_name", required=True, help="The model whose records to write.")
@with_filter_options
@click.option("--format", "output_format", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File to write (default: standard output).")
@click.option("--with-files", is_flag=True, help="Also write the records' files beside --output, where their record_file says.")
def export_records(model_name, output_format, output, with_files, **options) -> None:  # noqa: ANN001
    """Write every record of a model matching the filters, in order of timestamp, as JSON Lines (one
    record a line, as 'records search --json') or CSV (a column per field, model_data and record_info
    as JSON text). Either reads back in with 'gemini records import FILE --model NAME'.

    record_file holds the stored file's name; with --with-files each file is written to that path
    relative to the output's directory (verified against its SHA-256), so that an import of the
    output stores the files again.

    Example:

    \b
        gemini records export --model stand_counter --experiment GEMINI-2026 --format csv -o records.csv
    """
    if with_files and output is None:
        raise GeminiCommandError("--with-files writes files beside the export: give --output FILE")
    filters = dict(model_names=[model_name], **_filters(**options))
    total = registry().search_model_records(limit=0, with_total=True, **filters).total
    found = registry().stream_model_records(**filters)
    files = _FileWriter(Path(output).resolve().parent) if with_files else None
    target = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        writer = csv.DictWriter(target, fieldnames=list(ModelOutputRecord._fields))
        if output_format == "csv":
            writer.writeheader()
        with progress(found, length=total, label="exporting records", writes_stdout=output is None) as bar:
            for record in bar:
                line = record_json(record)
                if files is not None and record.record_file is not None:
                    line["record_file"] = files.write(record)
                if output_format == "jsonl":
                    target.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
                else:
                    writer.writerow({key: _csv_cell(key, value) for key, value in line.items()})
    finally:
        if output:
            target.close()
    note(f"{total} model records exported")


def _csv_cell(key: str, value: Any) -> Any:
    if key in JSON_TEXT_COLUMNS:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return "" if value is None else value


class _FileWriter:
    """Writes records' files below ``root`` at their stored names; where two files share a name, or a name
    would lead out of ``root``, the later one goes to a directory named by its SHA-256."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: dict[Path, str] = {}

    def write(self, record: ModelOutputRecord) -> str:
        name = PurePosixPath(record.record_file or "")
        target = (self.root / name).resolve()
        if not target.is_relative_to(self.root) or self.written.get(target, record.file_sha256) != record.file_sha256:
            name = PurePosixPath("model_data", str(record.file_sha256), name.name)
            target = self.root / name
        if target not in self.written:
            target.parent.mkdir(parents=True, exist_ok=True)
            registry().download_model_record_file(record_id=record.id, dest=target)
            self.written[target] = record.file_sha256 or ""
        return str(name)


# -- one record ----------------------------------------------------------------------------------------


@records.command("show")
@click.argument("record_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of name  value lines.")
def show_record(record_id, as_json) -> None:  # noqa: ANN001
    """Show a record."""
    record = registry().get_model_record(record_id=record_id)
    if as_json:
        echo_json(record_json(record))
        return
    echo_record([(name, value if isinstance(value, dict) or value is None else str(value)) for name, value in record_json(record).items()])


@records.command("download")
@click.argument("record_id")
@click.argument("dest", required=False, type=click.Path())
def download_record(record_id, dest) -> None:  # noqa: ANN001
    """Write the file of the record RECORD_ID to DEST: a file, or a directory to write into under the
    file's base name (default: the current directory; a DEST ending in '/' is a directory, created if
    missing). The bytes are checked against their SHA-256 before the file appears; the path written
    is printed.

    Example:

    \b
        gemini records download 01a2... /tmp/plots/
    """
    with download_destination(dest) as target:
        written = registry().download_model_record_file(record_id=record_id, dest=target)
    click.echo(str(written))
