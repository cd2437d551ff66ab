"""Request bodies read as strict JSON: a number literal must be a number a float can hold.

Python's JSON reader turns ``1e309`` into infinity, while an integer too large for a float is refused
by the registry's checks: two rules for one mistake. Here both are refused, as invalid JSON naming the
literal; infinity is still written as the string ``"Infinity"`` (``gemini.domain.numbers``).

msgspec reads each body first, several times faster than the standard reader. What it accepts it reads
exactly as the standard reader does (integers of any length up to Python's 4,300 digits kept exact,
floats correctly rounded); what it refuses (an out-of-range number, the bare ``NaN`` and ``Infinity``
that Python writes, a lone surrogate, UTF-16 text, malformed JSON) goes to the standard reader, whose
verdict and error message stand.

``read_json`` and ``validated`` read a body into a model the way FastAPI does (same errors, same
messages), for the routes that read a large body off the event loop (a metric batch of up to 100,000
points).
"""

import json
import math
import re
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import msgspec
from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

# Python reads at most this many digits of an integer literal (sys.get_int_max_str_digits's default);
# a float holds no integer of more than 309 digits anyway.
_MAX_INTEGER_DIGITS = 4300
# Only a literal with a three-digit exponent or hundreds of digits can leave a float's range: bodies
# without one are read at the full speed of the C reader, without a call per number.
_MAYBE_OUT_OF_RANGE = re.compile(rb"[eE][+-]?[0-9]{3}|[0-9]{300}")

Model = TypeVar("Model", bound=BaseModel)


def _float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise json.JSONDecodeError(f"the number {literal[:40]} is out of a float's range", literal, 0)
    return value


def _integer(literal: str) -> int:
    if len(literal) > _MAX_INTEGER_DIGITS:
        raise json.JSONDecodeError(f"an integer of {len(literal)} digits is out of range", literal[:40], 0)
    return int(literal)


_FAST_READER = msgspec.json.Decoder()


def strict_loads(body: bytes) -> Any:
    try:
        return _FAST_READER.decode(body)
    except (msgspec.DecodeError, RecursionError):
        pass  # the standard reader's verdict below: it accepts more (NaN), and its errors are the API's
    if _MAYBE_OUT_OF_RANGE.search(body) is None:
        return json.loads(body)
    return json.loads(body, parse_float=_float, parse_int=_integer)


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """A route that reads its JSON body with ``StrictJsonRequest``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler


def read_body(model: type[Model], body: bytes, content_type: str | None) -> Model:
    """``body`` as ``model``, or the error FastAPI raises for a body parameter of that model."""
    return validated(model, read_json(body, content_type))


def read_json(body: bytes, content_type: str | None) -> Any:
    """``body``'s JSON value, or the error FastAPI raises for a JSON body it cannot read."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not (media_type.startswith("application/") and media_type.endswith("+json")):
        raise RequestValidationError([{"type": "model_attributes_type", "loc": ("body",), "msg": "", "input": body}])
    if not body:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}])
    try:
        data = strict_loads(body)
    except json.JSONDecodeError as exc:
        error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error"}
        raise RequestValidationError([{**error, "ctx": {"error": exc.msg}}]) from exc
    except (UnicodeDecodeError, RecursionError) as exc:
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc
    return data


def validated(model: type[Model], data: Any) -> Model:
    """A body's JSON value as ``model``, or the error FastAPI raises for a body parameter of that model."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its sub-models written in place, for a request body declared by hand."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref", "")
            if reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)
