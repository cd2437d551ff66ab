"""Query parameters shared by the list operations: pages and JSON-valued filters."""

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query

from gemini.domain.errors import InvalidInputError
from gemini.domain.limits import DEFAULT_PAGE_SIZE, MAX_OFFSET, MAX_PAGE_SIZE


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=0, le=MAX_PAGE_SIZE, description="Items per page.")] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip, in creation order.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


def json_object_param(text: str | None, *, field: str) -> dict[str, Any] | None:
    """Decode a JSON-text query parameter; the registry checks that it is an object."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"query parameter {field} is not valid JSON ({exc.msg} at position {exc.pos})") from exc
    except RecursionError as exc:
        raise InvalidInputError(f"query parameter {field} is nested too deeply") from exc


def json_filter_query(description: str, example: dict[str, Any]) -> Any:
    return Query(description=description, examples=[json.dumps(example)])
