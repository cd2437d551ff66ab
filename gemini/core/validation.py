"""Input checks shared by every operation: ids, names and info dicts.

Each failure raises ``InvalidInputError`` with a message that names the offending field and, for info,
the path inside it (``model_run_info['params']['lr']``).
"""

import hashlib
import json
import math
import sys
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gemini.config import get_settings
from gemini.errors import InfoTooLargeError, InvalidInputError

MAX_INFO_DEPTH = 64
"""Deepest nesting of objects and arrays accepted in an info dict."""

MAX_NAME_LENGTH = 255
"""Longest model or experiment name, in characters."""


def parse_id(value: object, *, field: str = "id") -> uuid.UUID:
    """A UUID from a UUID, its string form (with or without dashes/braces/urn) or its integer value."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, int):
            return uuid.UUID(int=value)
        if isinstance(value, str):
            return uuid.UUID(value.strip())
    except (ValueError, TypeError):
        pass
    raise InvalidInputError(f"{field} {value!r} is not a valid UUID")


def check_page(limit: int | None, offset: int | None) -> None:
    for name, value in (("limit", limit), ("offset", offset)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise InvalidInputError(f"{name} must be a non-negative integer, got {value!r}")


def check_name(value: object, *, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInputError(f"{field} must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"{field} is {len(value)} characters long; at most {MAX_NAME_LENGTH} are allowed")
    _check_string(value, field)
    return value


def check_optional_text(value: object, *, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string, got {type(value).__name__}")
    _check_string(value, field)
    return value


@dataclass(frozen=True, slots=True)
class CheckedInfo:
    """An info dict that passed validation, with its identity hash."""

    value: dict[str, Any]
    hash: str


def check_info(value: object, *, field: str) -> CheckedInfo:
    """Validate a JSON object and compute its hash; ``None`` means the empty object.

    The hash is SHA-256 of the canonical JSON: keys sorted, compact, and integral floats written as
    integers, so ``{"a": 1, "b": 2.0}`` and ``{"b": 2, "a": 1}`` are the same info.
    """
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidInputError(f"{field} must be a JSON object (a dict), got {type(value).__name__}")
    try:
        normalized = _normalize_fast(value, 0)
        encoded = _canonical_json(normalized).encode("utf-8")
    except (_NotPlainJSON, UnicodeEncodeError, RecursionError, ValueError):  # ValueError: a huge integer
        # Find what is wrong, with its path, the slow way; it raises unless the value only held
        # subclasses of JSON types (an IntEnum, a str subclass), which it normalises.
        normalized = _normalize(value, field, 0)
        encoded = _canonical_json(normalized).encode("utf-8")
    limit = get_settings().max_info_bytes
    if len(encoded) > limit:
        raise InfoTooLargeError(f"{field} is {len(encoded)} bytes as JSON; the limit is {limit} bytes")
    return CheckedInfo(value=value, hash=hashlib.sha256(encoded).hexdigest())


def _integral(value: float) -> int:
    """The integer an integral float stands for as JSON: the value of its decimal text, so 1e300 is
    10**300 (as PostgreSQL and search read it), not the binary double's exact value."""
    return int(Decimal(repr(value)))


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class _NotPlainJSON(Exception):
    """Raised by the fast walk at anything it does not accept as is."""


def _normalize_fast(value: Any, depth: int) -> Any:
    """``_normalize`` for the common case, without building error paths; raises ``_NotPlainJSON``."""
    kind = type(value)
    if kind is str:
        if "\x00" in value:
            raise _NotPlainJSON
        return value
    if kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if value - value != 0.0:  # NaN or an infinity
            raise _NotPlainJSON
        return _integral(value) if value.is_integer() else value
    if depth >= MAX_INFO_DEPTH:
        raise _NotPlainJSON
    if kind is dict:
        normalized = {}
        for key, item in value.items():
            if type(key) is not str or "\x00" in key:
                raise _NotPlainJSON
            normalized[key] = _normalize_fast(item, depth + 1)
        return normalized
    if kind is list:
        return [_normalize_fast(item, depth + 1) for item in value]
    raise _NotPlainJSON


def _normalize(value: Any, path: str, depth: int) -> Any:
    if isinstance(value, str):
        _check_string(value, path)
        return value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if value.bit_length() > 14_000 and not _writable_integer(value):  # 14,000 bits: about 4,200 digits
            raise InvalidInputError(
                f"{path} is an integer of more than {sys.get_int_max_str_digits()} digits, too long to write as JSON"
            )
        return int(value)  # int subclasses (IntEnum) become plain ints
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(f"{path} is {value!r}; NaN and Infinity are not JSON")
        return _integral(value) if value.is_integer() else value
    if depth >= MAX_INFO_DEPTH:
        raise InvalidInputError(f"{path} is nested deeper than {MAX_INFO_DEPTH} levels")
    if isinstance(value, dict):
        normalized = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(f"{path} has a key {key!r} of type {type(key).__name__}; keys must be strings")
            _check_string(key, f"{path} key {key!r}")
            normalized[key] = _normalize(item, f"{path}[{key!r}]", depth + 1)
        return normalized
    if isinstance(value, list):
        return [_normalize(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)]
    raise InvalidInputError(f"{path} is a {type(value).__name__}, which is not a JSON value")


def _writable_integer(value: int) -> bool:
    try:
        str(int(value))
    except ValueError:  # beyond Python's limit on integer-to-text conversion (sys.set_int_max_str_digits)
        return False
    return True


def _check_string(value: str, path: str) -> None:
    if "\x00" in value:
        raise InvalidInputError(f"{path} contains a NUL character, which the databases cannot store")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(f"{path} is not valid Unicode text ({exc.reason})") from exc
