"""Keyset cursors: an opaque token holding the sort values and id of the last row of a page."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import hashlib
import json
from typing import Any

from gemini.domain.errors import InvalidInputError
from gemini.query.ast import OrderKey


def order_signature(keys: tuple[OrderKey, ...]) -> str:
    """What a cursor remembers of its order, so that it is refused under another one."""
    return hashlib.sha256(repr(keys).encode()).hexdigest()[:16] if keys else ""


def encode_cursor(order_signature: str, values: list[Any], last_id: Any) -> str:
    """An opaque, URL-safe token for "the rows after this one" in this order."""
    payload = {"o": order_signature, "v": [_encode_value(value) for value in values], "i": str(last_id)}
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, order_signature: str, component_count: int) -> tuple[list[Any], str]:
    """The sort values and id a cursor holds; ``InvalidInputError`` if it is malformed or was made for
    another order."""
    if not isinstance(cursor, str):
        raise InvalidInputError(f"cursor must be a string, got {type(cursor).__name__}")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
        signature, raw_values, last_id = payload["o"], payload["v"], payload["i"]
        values = [_decode_value(value) for value in raw_values]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError, decimal.InvalidOperation):
        raise InvalidInputError("cursor is not one this registry issued (pass next_cursor unchanged)") from None
    if signature != order_signature or len(values) != component_count or not isinstance(last_id, str):
        raise InvalidInputError(
            f"cursor was made for order_by {signature or 'creation order'!r}, not {order_signature or 'creation order'!r}"
        )
    return values, last_id


def _encode_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return {"d": str(value)}
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, float):
        return {"f": repr(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "d" in value:
            return decimal.Decimal(value["d"])
        if "t" in value:
            return dt.datetime.fromisoformat(value["t"])
        if "f" in value:
            return float(value["f"])
        raise ValueError("unknown cursor value")
    if value is None or isinstance(value, (str, int)) and not isinstance(value, bool):
        return value
    raise ValueError("unknown cursor value")
