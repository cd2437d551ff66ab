"""Printing records: aligned tables for people, JSON (the REST API's shapes) for scripts."""

import contextlib
import dataclasses
import datetime as dt
import json
import math
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from gemini.domain.records import Page

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

T = TypeVar("T")

INFO_COLUMN_WIDTH = 60
SIGNIFICANT_DIGITS = 4
"""Digits a float keeps in a table: enough to compare runs, few enough to read (``--json`` keeps all)."""
LARGEST_PLAIN_NUMBER = 1e15
"""Below this a large float prints as a whole number (``123457``) rather than ``1.235e+05``."""
PROGRESS_RENDERS = 500
"""About how often a progress bar of known length is redrawn over its whole run."""

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


def number(value: float) -> str:
    """A float for people: ``SIGNIFICANT_DIGITS`` significant digits (``0.9517``, ``3.042e-05``), a large
    one as a whole number (``123457``). Integers are not floats here and print in full."""
    text = f"{value:.{SIGNIFICANT_DIGITS}g}"
    if "e+" in text and abs(value) < LARGEST_PLAIN_NUMBER:
        return f"{value:.0f}"
    return text


def _compact(value: Any) -> str:
    """Compact JSON with its floats as ``number`` writes them (still JSON: ``3.042e-05`` is a number)."""
    if isinstance(value, float):
        return number(value) if math.isfinite(value) else json.dumps(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_compact(str(key))}:{_compact(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_compact(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def compact_json(value: Any, width: int = INFO_COLUMN_WIDTH) -> str:
    text = _compact(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def cell(value: Any) -> str:
    """A value in a table or a ``name  value`` line; every table prints its values through this."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return number(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (dict, list)):
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


def _is_terminal(stream: IO[str] | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_shown(*, writes_stdout: bool = False) -> bool:
    """Whether a progress bar is for someone: stderr is a terminal, and the command's output does not go
    to that screen too (a bar between the lines of an export to stdout would garble them)."""
    return _is_terminal(sys.stderr) and not (writes_stdout and _is_terminal(sys.stdout))


def progress(
    items: Iterable[T], *, label: str, length: int | None, writes_stdout: bool = False
) -> contextlib.AbstractContextManager[Iterable[T]]:
    """``items``, counted on a progress bar on stderr as they are taken, when ``progress_shown``; otherwise
    the items alone, with nothing printed (not even the label: piped stderr stays as it was). ``length``
    is how many there will be, ``None`` when unknown (the bar then counts them)."""
    if not progress_shown(writes_stdout=writes_stdout):
        return contextlib.nullcontext(items)
    return _bar(items, label=label, length=length)


def _bar(items: Iterable[T], *, label: str, length: int | None) -> "ProgressBar[T]":
    steps = max(1, length // PROGRESS_RENDERS) if length else 100  # a redraw per item slows a large import
    return click.progressbar(
        items,
        length=length,
        label=label,
        file=sys.stderr,
        show_pos=length is None,
        # Without a length there is no bar to fill: the count of items done is the progress.
        bar_template="%(label)s  [%(bar)s]  %(info)s" if length is not None else "%(label)s  %(info)s",
        update_min_steps=steps,
    )


class CountedLines:
    """A text stream whose lines a progress bar counts as they are read or written: for the operations
    that take a whole stream and handle it a line (one record) at a time."""

    def __init__(self, stream: IO[str], advance: Callable[[int], None]) -> None:
        self._stream = stream
        self._advance = advance

    def __iter__(self) -> Iterator[str]:
        for line in self._stream:
            yield line
            self._advance(1)

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        self._advance(text.count("\n"))
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def counted_lines(
    stream: IO[str], *, label: str, length: int | None, writes_stdout: bool = False
) -> Iterator[IO[str]]:
    """``stream`` as a ``CountedLines`` on a progress bar (see ``progress``), or itself when no bar is shown."""
    if not progress_shown(writes_stdout=writes_stdout):
        yield stream
        return
    with _bar((_ for _ in ()), label=label, length=length) as bar:  # advanced by the lines, not iterated
        yield CountedLines(stream, bar.update)  # type: ignore[misc]


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
