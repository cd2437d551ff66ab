"""The one shape of every list answer: a plain JSON array, the total in ``X-Total-Count``, and the
next page, when there is one, in a ``Link`` header (``rel="next"``), as large public APIs do.

GEMINI's clients read the array and ignore the headers; ours follow ``Link`` and show the total.
"""

from typing import Any

from fastapi import Request, Response

from gemini.domain.records import Page

TOTAL_HEADER = "X-Total-Count"
LINK_HEADER = "Link"

LIST_HEADERS: dict[str, Any] = {
    TOTAL_HEADER: {
        "description": "How many items match in all, not only on this page.",
        "schema": {"type": "integer", "minimum": 0},
    },
    LINK_HEADER: {
        "description": 'The next page, as `<url>; rel="next"`; absent on the last page.',
        "schema": {"type": "string"},
    },
}


def list_responses(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of a list answer's headers, for a route's ``responses``."""
    return {200: {"description": description, "headers": LIST_HEADERS}}


def set_page_headers(
    request: Request,
    response: Response,
    page: Page[Any],
    *,
    limit: int | None,
    offset: int = 0,
    cursor: str | None = None,
) -> None:
    """``X-Total-Count`` and, unless this is the last page, ``Link`` to the next one.

    Where the read pages by cursor, the next link carries the cursor (each page then costs what the
    first does); otherwise it carries the next offset. The link is this request's URL with only the
    page parameters changed, so every filter and the order are kept."""
    response.headers[TOTAL_HEADER] = str(page.total)
    returned = len(page.items)
    if limit is None or returned == 0 or returned < limit:
        return
    if page.next_cursor is not None:
        if cursor is None and offset + returned >= page.total:
            return
        url = request.url.remove_query_params(["offset", "cursor"]).include_query_params(cursor=page.next_cursor)
    else:
        if offset + returned >= page.total:
            return
        url = request.url.remove_query_params(["offset", "cursor"]).include_query_params(offset=offset + returned)
    response.headers[LINK_HEADER] = f'<{url}>; rel="next"'
