"""``gemini runs import`` and ``gemini runs export``: many runs in, many runs out, with progress bars."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from typing import IO, Any

import click

from gemini.api import run_export
from gemini.cli.errors import GeminiCommandError
from gemini.cli.output import count_lines, note, progress
from gemini.cli.params import JSON_OBJECT, order_by_hint
from gemini.domain.errors import GeminiError
from gemini.domain.records import ModelRunRecord
from gemini.registry import registry

IMPORT_BATCH = 1_000


def _records(stream: IO[str], source: str) -> Iterator[tuple[int, str | None, dict[str, Any]]]:
    """(line number, model name or None, info) for each non-blank line."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, ValueError) as exc:
            raise GeminiCommandError(f"{source} line {number}: not JSON ({exc})") from exc
        if not isinstance(value, dict):
            raise GeminiCommandError(f"{source} line {number}: expected a JSON object, got {type(value).__name__}")
        if "model_run_info" in value:  # a run as `gemini runs export --format jsonl` writes it
            yield number, value.get("model_name"), value["model_run_info"]
        else:
            yield number, None, value


@click.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--model", "model_name", help="Record every run under this model (overrides model_name in lines; created if missing)."
)
def import_runs(file: IO[str], model_name: str | None) -> None:
    """Record the runs of a JSON Lines FILE ('-' for standard input), in batches of 1,000.

    Each line is a run's info as a JSON object, or a run as 'gemini runs export --format jsonl' writes
    it ({"model_name": ..., "model_run_info": {...}, ...}). A model named that does not exist yet is
    created. Runs that already exist are not duplicated,
    so an interrupted import can simply be run again. Each batch is one transaction: a bad line stops
    the import with its line number, after the batches before it were recorded.

    Example:

        gemini runs import runs.jsonl --model stand-counter
    """
    source = getattr(file, "name", "input")
    created = existing = 0
    batch: list[tuple[str | None, dict[str, Any], int]] = []

    def flush() -> None:
        nonlocal created, existing
        by_model: dict[str | None, list[tuple[dict[str, Any], int]]] = {}
        for name, info, number in batch:
            by_model.setdefault(model_name or name, []).append((info, number))
        for name, items in by_model.items():
            try:
                results = registry().create_runs(model_run_infos=[info for info, _ in items], model_name=name)
            except GeminiError as exc:  # told with the lines of its batch
                raise GeminiCommandError(f"{source} lines {items[0][1]}-{items[-1][1]}: {exc}") from exc
            new = sum(1 for _, was_created in results if was_created)
            created += new
            existing += len(results) - new
        batch.clear()

    records = _records(file, source)
    with progress(records, length=count_lines(file), label="importing runs") as bar:
        for _number, name, info in bar:
            batch.append((name, info, _number))
            if len(batch) >= IMPORT_BATCH:
                flush()
        if batch:
            flush()
    note(f"{created} runs created, {existing} already existed")


@click.command("export")
@click.option("--format", "output_format", type=click.Choice(["jsonl", "csv", "parquet"]), default="jsonl", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File to write (default: standard output).")
@click.option("--info", "model_run_info", type=JSON_OBJECT, help="Only runs whose info contains this JSON object.")
@click.option("--where", help="A search expression (docs/search.md).")
@click.option("--order-by", "order_by", help="Comma-separated paths, '-' for descending.")
@click.option("--model", "model_name", help="Only runs of this model.")
def export_runs(output_format: str, output: str | None, model_run_info, where, order_by, model_name) -> None:  # noqa: ANN001
    """Write the runs matching the filters (all runs by default) as JSON Lines, CSV or Parquet.

    JSON Lines keeps each run whole ('gemini runs import' reads it back). CSV and Parquet have one column
    per info path (info.params.lr, ...) beside id, run_name, model_name, created_at and updated_at; arrays are
    written as JSON text. Parquet needs pyarrow installed.

    Example:

        gemini runs export --where 'metrics.map50 >= 0.8' --format csv -o best.csv
    """
    filters = dict(model_run_info=model_run_info, model_name=model_name, where=where)
    with order_by_hint(order_by):
        _export_runs(output_format, output, filters, order_by)


def _export_runs(output_format: str, output: str | None, filters: dict[str, Any], order_by: str | None) -> None:
    total = registry().count_runs(**filters)
    runs = run_export.iter_runs(**filters, order_by=order_by)
    if output_format == "parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise GeminiCommandError(
                "--format parquet needs pyarrow: pip install 'gemini-model-registry[export]'"
            ) from exc
        if output is None:
            raise GeminiCommandError("--format parquet writes a file: give --output FILE")
    stream = open(output, "w", encoding="utf-8", newline="") if output and output_format != "parquet" else None
    target = stream or sys.stdout
    try:
        with progress(runs, length=total, label="exporting runs", writes_stdout=output is None) as bar:
            if output_format == "jsonl":
                for record in bar:
                    target.write(json.dumps(_jsonl_run(record), ensure_ascii=False) + "\n")
                rows = []
            else:
                rows = [run_export.run_row(record) for record in bar]
        if output_format == "csv":
            writer = csv.DictWriter(target, fieldnames=_columns(rows))
            writer.writeheader()
            for row in rows:
                writer.writerow({key: _cell(value) for key, value in row.items()})
        elif output_format == "parquet":
            columns = _columns(rows)
            table = pa.Table.from_pylist([{column: _cell(row.get(column)) for column in columns} for row in rows])
            pq.write_table(table, output)
    finally:
        if stream is not None:
            stream.close()
    note(f"{total} runs exported")


def _jsonl_run(record: ModelRunRecord) -> dict[str, Any]:
    """A run as a line 'gemini runs import' reads back."""
    return {
        "id": str(record.id),
        "model_name": record.model_name,
        "model_run_info": record.model_run_info,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return [*run_export.RUN_COLUMNS, *sorted(column for column in columns if column not in run_export.RUN_COLUMNS)]


def _cell(value: Any) -> Any:
    """Scalars as they are; arrays and objects as JSON text (a CSV or Parquet cell holds one value)."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value
