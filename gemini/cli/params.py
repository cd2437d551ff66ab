"""Arguments and options shared by commands: info dicts given as JSON text, ``@file.json`` or ``@-``
(standard input), page offsets, order keys."""

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import click

from gemini.domain.errors import InvalidInputError
from gemini.domain.limits import MAX_OFFSET


class JsonObject(click.ParamType):
    """A JSON value, from the text itself or from a file named after ``@``; the core checks it is an object.

    Bad text or an unreadable file raise ``InvalidInputError``, so the failure is reported like any other.
    """

    name = "JSON|@FILE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        label = _label(param)
        text, source = value, label
        if value.startswith("@"):
            path = value[1:]
            source = f"{label} file {path!r}" if path != "-" else f"{label} from standard input"
            try:
                with click.open_file(path, encoding="utf-8") as file:
                    text = file.read()
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise InvalidInputError(f"cannot read {source}: {reason}") from exc
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"{source} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            ) from exc
        except RecursionError as exc:
            raise InvalidInputError(f"{source} is nested too deeply") from exc


def _label(param: click.Parameter | None) -> str:
    if param is None:
        return "info"
    if isinstance(param, click.Option):
        return param.opts[-1]
    return (param.name or "info").upper()


JSON_OBJECT = JsonObject()


class Offset(click.ParamType):
    """A page's offset: 0 to the databases' largest (``MAX_OFFSET``). Not an ``IntRange``, whose bounds
    would print in every --help as ``0<=x<=9223372036854775807``."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = click.INT.convert(value, param, ctx)
        if number < 0:
            self.fail(f"{number} is negative; an offset counts the matches to skip", param, ctx)
        if number > MAX_OFFSET:
            self.fail(f"{number} is larger than the largest offset, {MAX_OFFSET}", param, ctx)
        return number


offset_option = click.option(
    "--offset", type=Offset(), default=0, show_default=True, help="Skip this many matches (with --limit, for the next page)."
)

_SQL_DIRECTION = re.compile(r"^(?P<path>.*\S)\s+(?P<direction>desc|descending|asc|ascending)$", re.IGNORECASE)


def descending_spelling(order_by: str | None) -> str | None:
    """``--order-by`` written as SQL does (``metrics.map50 desc``) in the search language's spelling
    (``-metrics.map50``); ``None`` when no key of it ends with a direction word."""
    if not order_by:
        return None
    keys, changed = [], False
    for key in order_by.split(","):
        found = _SQL_DIRECTION.match(key.strip())
        if found is None:
            keys.append(key.strip())
            continue
        changed = True
        descending = found["direction"].lower().startswith("desc")
        keys.append(("-" if descending else "") + found["path"])
    return ",".join(keys) if changed else None


@contextlib.contextmanager
def order_by_hint(order_by: str | None) -> Iterator[None]:
    """An ``order_by`` refused for an SQL-style direction word says how to write it instead."""
    try:
        yield
    except InvalidInputError as exc:
        suggestion = descending_spelling(order_by)
        if suggestion is None or not str(exc).startswith("order_by"):
            raise
        raise InvalidInputError(f"{exc}; a leading '-' means descending: --order-by {suggestion!r}") from exc
