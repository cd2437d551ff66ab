"""Printing records: aligned tables for people, JSON (the REST API's shapes) for scripts."""

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from typing import IO, Any

import click

from gemini.domain.records import Page

INFO_COLUMN_WIDTH = 60

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def jsonable(record: Any) -> dict[str, Any]:
    return dataclasses.asdict(record)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, indent=2)


def echo_json(value: Any) -> None:
    click.echo(dumps(value))


def compact_json(value: Any, width: int = INFO_COLUMN_WIDTH) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 1] + "…"


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict):
        return compact_json(value)
    return " ".join(str(value).split())


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[cell(value) for value in row] for row in rows]
    widths = [max([len(header)] + [len(row[i]) for row in cells]) for i, header in enumerate(headers)]
    for row in [list(headers), *cells]:
        click.echo("  ".join(text.ljust(width) for text, width in zip(row, widths)).rstrip())


def echo_record(fields: Sequence[tuple[str, Any]]) -> None:
    """One record as ``name  value`` lines; dicts pretty-printed below their name."""
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        if isinstance(value, dict):
            click.echo(f"{name.ljust(width)}  " + dumps(value).replace("\n", "\n" + " " * (width + 2)))
        else:
            click.echo(f"{name.ljust(width)}  {cell(value) if not isinstance(value, str) else value}")


def echo_page(
    page: Page[Any],
    *,
    offset: int,
    as_json: bool,
    headers: Sequence[str],
    row: Callable[[Any], Sequence[Any]],
    noun: str,
) -> None:
    """One page of a list: a table, or with ``--json`` the plain JSON array the REST API answers. Where the
    page is not the whole list, a line on stderr says which part it is, so stdout stays the array."""
    records, count = page.items, page.total
    if as_json:
        echo_json([jsonable(record) for record in records])
    elif records:
        echo_table(headers, [row(record) for record in records])
    if not records:
        past_the_end = f" (there are {count}; --offset {offset} is past the end)" if count else ""
        note(f"no {noun} found{past_the_end}")
    elif len(records) < count:
        first, last = offset + 1, offset + len(records)
        note(f"{noun} {first}-{last} of {count}; use --limit and --offset for more")


def note(message: str) -> None:
    """A remark for the person at the terminal, on stderr so that stdout stays parseable."""
    click.echo(message, err=True)


def count_lines(stream: IO[str]) -> int | None:
    """Lines in a seekable file (read once ahead, for a progress bar's length); ``None`` for a pipe."""
    try:
        if not stream.seekable():
            return None
        start = stream.tell()
        count = sum(1 for _ in stream)
        stream.seek(start)
        return count
    except (OSError, ValueError):
        return None
