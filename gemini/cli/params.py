"""Argument types: info dicts given as JSON text, ``@file.json`` or ``@-`` (standard input)."""

import json
from typing import Any

import click

from gemini.domain.errors import InvalidInputError


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
