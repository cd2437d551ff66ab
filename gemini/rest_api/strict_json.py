"""Request bodies read as strict JSON: a number literal must be a number a float can hold.

Python's JSON reader turns ``1e309`` into infinity, while an integer too large for a float is refused
by the registry's checks: two rules for one mistake. Here both are refused, as invalid JSON naming the
literal; infinity is still written as the string ``"Infinity"`` (``gemini.domain.numbers``).
"""

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

# Python reads at most this many digits of an integer literal (sys.get_int_max_str_digits's default);
# a float holds no integer of more than 309 digits anyway.
_MAX_INTEGER_DIGITS = 4300


def _float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise json.JSONDecodeError(f"the number {literal[:40]} is out of a float's range", literal, 0)
    return value


def _integer(literal: str) -> int:
    if len(literal) > _MAX_INTEGER_DIGITS:
        raise json.JSONDecodeError(f"an integer of {len(literal)} digits is out of range", literal[:40], 0)
    return int(literal)


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_float=_float, parse_int=_integer)
        return self._json


class StrictJsonRoute(APIRoute):
    """A route that reads its JSON body with ``StrictJsonRequest``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler
