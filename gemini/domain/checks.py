"""The input checks of every registry operation, pure: ids, names, info dicts, paging, metric keys,
values, steps and batches, run ends, artifact names.

The registry's checking front (``gemini.registry.front``) runs them once, before a call is handed to
the database or to the server, so both refuse the same input with the same exception and message. Each
failure raises ``InvalidInputError`` with a message that names the offending field and, for info, the
path inside it (``model_run_info['params']['lr']``). The metric checks that ``log_metrics`` runs in the
training loop raise ``TypeError``/``ValueError`` there, as Python's own argument checks do.
"""

import datetime as dt
import hashlib
import json
import math
import numbers
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from gemini.config import get_settings
from gemini.domain.errors import ArtifactTooLargeError, InfoTooLargeError, InvalidInputError
from gemini.domain.records import ArtifactBlob, BlobParts, CheckedData, CheckedInfo
from gemini.domain.limits import (
    MAX_ALIAS_LENGTH,
    MAX_ARTIFACT_NAME_LENGTH,
    MAX_ARTIFACTS_PER_REQUEST,
    MAX_BATCH_ID_LENGTH,
    MAX_BATCH_POINTS,
    MAX_ERROR_MESSAGE_LENGTH,
    MAX_INFO_DEPTH,
    MAX_KEY_LENGTH,
    MAX_NAME_LENGTH,
    MAX_SEGMENT_BYTES,
    MAX_STEP,
    MAX_UPLOAD_PART_BYTES,
    MAX_UPLOAD_PARTS,
    MAX_VERSION,
    MIN_UPLOAD_PART_BYTES,
)
from gemini.domain.statuses import END_STATUSES



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


def check_cursor_page(limit: int | None, offset: int | None, cursor: str | None) -> None:
    """``check_page`` for the reads that also page by cursor: a cursor is text, and excludes an offset."""
    check_page(limit, offset)
    if cursor is not None and not isinstance(cursor, str):
        raise InvalidInputError(f"cursor must be a string, got {type(cursor).__name__}")
    if cursor is not None and offset:
        raise InvalidInputError("give either offset or cursor, not both")


def parse_ids(values: object, *, field: str = "model run id", at_most: int | None = None) -> list[uuid.UUID]:
    """A non-empty list of distinct ids, in the order given (repeats dropped)."""
    if isinstance(values, (str, bytes, uuid.UUID)) or not isinstance(values, Iterable):
        raise InvalidInputError(f"give the {field}s as a list, got {type(values).__name__}")
    ids = list(dict.fromkeys(parse_id(value, field=field) for value in values))
    if not ids:
        raise InvalidInputError(f"give at least one {field}")
    if at_most is not None and len(ids) > at_most:
        raise InvalidInputError(f"at most {at_most} {field}s per read, got {len(ids)}")
    return ids


_CHECKED_NAMES: set[str] = set()
"""Names that passed ``check_name``: a bulk insert names the same few models and places a million times."""
MAX_CHECKED_NAMES = 10_000


def check_name(value: object, *, field: str) -> str:
    if type(value) is str and value in _CHECKED_NAMES:
        return value
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInputError(f"{field} must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"{field} is {len(value)} characters long; at most {MAX_NAME_LENGTH} are allowed")
    _check_string(value, field)
    if type(value) is str:
        if len(_CHECKED_NAMES) >= MAX_CHECKED_NAMES:
            _CHECKED_NAMES.clear()
        _CHECKED_NAMES.add(value)
    return value


def check_optional_text(value: object, *, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string, got {type(value).__name__}")
    _check_string(value, field)
    return value


# Control characters and line or paragraph separators: a run's name is one line of a table or a page.
_UNPRINTABLE_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_run_name(value: object, *, field: str = "run_name") -> str | None:
    """A run's readable name (``train2``, ``version_3``): up to ``MAX_NAME_LENGTH`` characters, not
    blank, without control characters or line breaks; ``None`` is no name. Names need not be unique."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string or null, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInputError(f"{field} must not be blank (null removes the name)")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInputError(f"{field} is {len(value)} characters long; at most {MAX_NAME_LENGTH} are allowed")
    unprintable = _UNPRINTABLE_NAME.search(value)
    if unprintable is not None:
        raise InvalidInputError(
            f"{field} contains the control character U+{ord(unprintable.group()):04X} at position "
            f"{unprintable.start() + 1}; a run name is one line of text"
        )
    _check_string(value, field)
    return value


def check_info(value: object, *, field: str, max_bytes: int | None = None) -> CheckedInfo:
    """Validate a JSON object and compute its hash; ``None`` means the empty object.

    The hash is SHA-256 of the canonical JSON: keys sorted, compact, and integral floats written as
    integers, so ``{"a": 1, "b": 2.0}`` and ``{"b": 2, "a": 1}`` are the same info.
    """
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidInputError(f"{field} must be a JSON object (a dict), got {type(value).__name__}")
    if not value:
        return CheckedInfo(value=value, hash=_EMPTY_INFO_HASH)
    try:
        normalized = _normalize_fast(value, 0)
        encoded = _canonical_json(normalized).encode("utf-8")
    except (_NotPlainJSON, UnicodeEncodeError, RecursionError, ValueError):  # ValueError: a huge integer
        # Find what is wrong, with its path, the slow way; it raises unless the value only held
        # subclasses of JSON types (an IntEnum, a str subclass), which it normalises.
        normalized = _normalize(value, field, 0)
        encoded = _canonical_json(normalized).encode("utf-8")
    limit = max_bytes or get_settings().max_info_bytes  # a batch reads the setting once
    if len(encoded) > limit:
        raise InfoTooLargeError(f"{field} is {len(encoded)} bytes as JSON; the limit is {limit} bytes")
    return CheckedInfo(value=value, hash=hashlib.sha256(encoded).hexdigest())


def check_data(value: object, *, field: str, max_bytes: int | None = None) -> CheckedData:
    """Validate a JSON object as ``check_info`` does, without the identity hash; ``None`` means ``{}``.
    Its compact JSON text comes with it, so a million records are encoded once."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidInputError(f"{field} must be a JSON object (a dict), got {type(value).__name__}")
    try:
        _check_plain(value, 0)
        encoded = _PLAIN_JSON.encode(value)
    except (_NotPlainJSON, UnicodeEncodeError, RecursionError, ValueError):
        encoded = _compact_json(_normalize(value, field, 0)).encode("utf-8")
    limit = max_bytes or get_settings().max_info_bytes
    if len(encoded) > limit:
        raise InfoTooLargeError(f"{field} is {len(encoded)} bytes as JSON; the limit is {limit} bytes")
    return CheckedData(value=value, json=encoded.decode("utf-8"))


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""Made once: ``json.dumps`` with options builds an encoder per call, a good part of a small document's cost."""
_PLAIN_JSON = msgspec.json.Encoder()
"""Plain JSON (``_check_plain``) as ``_COMPACT`` writes it, in a third of its time: the same text but for
how some floats are spelled (``1e16`` for ``1e+16``, ``0.00001`` for ``1e-05``), the same numbers."""


def _compact_json(value: Any) -> str:
    return _COMPACT.encode(value)


def check_record_moment(value: object, *, field: str = "timestamp") -> dt.datetime:
    """A model record's moment in UTC: a ``datetime`` or ISO 8601 text. A moment without a zone is
    taken as UTC (as GEMINI's database reads it), so every client writes the same moment for it."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise InvalidInputError(f"{field} {value!r:.80} is not an ISO 8601 date and time") from exc
    if not isinstance(value, dt.datetime):
        raise InvalidInputError(f"{field} must be a datetime or ISO 8601 text, got {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return check_moment(value, field=field)


def check_collection_date(value: object, *, field: str = "collection_date") -> dt.date | None:
    """A date (a ``datetime`` gives its date), ISO text (``2026-06-01``), or ``None``."""
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            try:
                return dt.datetime.fromisoformat(text).date()
            except ValueError as exc:
                raise InvalidInputError(f"{field} {value!r:.80} is not an ISO 8601 date") from exc
    raise InvalidInputError(f"{field} must be a date or ISO 8601 text, got {type(value).__name__}")


_EMPTY_INFO_HASH = hashlib.sha256(b"{}").hexdigest()


def _integral(value: float) -> int:
    """The integer an integral float stands for as JSON: the value of its decimal text, so 1e300 is
    10**300 (as PostgreSQL and search read it), not the binary double's exact value."""
    return int(Decimal(repr(value)))


def _canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


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


def _check_plain(value: Any, depth: int) -> None:
    """``_normalize_fast``'s test without its copy: for a value written as given (``check_data``)."""
    kind = type(value)
    if kind is str:
        if "\x00" in value:
            raise _NotPlainJSON
    elif kind is int or kind is bool or value is None:
        return
    elif kind is float:
        if value - value != 0.0:  # NaN or an infinity
            raise _NotPlainJSON
    elif depth >= MAX_INFO_DEPTH:
        raise _NotPlainJSON
    elif kind is dict:
        for key, item in value.items():
            if type(key) is not str or "\x00" in key:
                raise _NotPlainJSON
            _check_plain(item, depth + 1)
    elif kind is list:
        for item in value:
            _check_plain(item, depth + 1)
    else:
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


def _check_short_text(value: object, field: str, maximum: int) -> None:
    """A string of 1 to ``maximum`` characters."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidInputError(f"{field} must not be empty")
    if len(value) > maximum:
        raise InvalidInputError(f"{field} is {len(value)} characters long; at most {maximum} are allowed")


def _check_string(value: str, path: str) -> None:
    if "\x00" in value:
        raise InvalidInputError(f"{path} contains a NUL character, which the databases cannot store")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(f"{path} is not valid Unicode text ({exc.reason})") from exc


# -- metrics -----------------------------------------------------------------------------------------


_CHECKED_KEYS: set[str] = set()
"""Keys that passed ``check_metric_key``: a run logs the same few keys at every step, so the training
loop and a batch of 100,000 points pay a set lookup per point, not the checks."""
MAX_CHECKED_KEYS = 100_000


def check_metric_key(key: object) -> str:
    """A metric key: free text (``metrics/mAP50(B)``), not empty, at most ``MAX_KEY_LENGTH`` characters."""
    if type(key) is str and key in _CHECKED_KEYS:
        return key
    if not isinstance(key, str):
        raise TypeError(f"a metric key must be a string, got {type(key).__name__}")
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"a metric key must have 1 to {MAX_KEY_LENGTH} characters, got {len(key)}")
    if "\x00" in key:
        raise ValueError(f"metric key {key!r} contains a NUL character")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: no database stores it
        raise ValueError(f"metric key {key!r} is not valid Unicode text ({exc.reason})") from exc
    if type(key) is str and len(_CHECKED_KEYS) < MAX_CHECKED_KEYS:
        _CHECKED_KEYS.add(key)
    return key


def check_metric_value(key: str, value: object) -> float:
    """A real number as a float: ints, floats, NumPy scalars, one-element tensors; NaN and ±inf kept.

    Strings, booleans and containers are refused with ``TypeError``."""
    if isinstance(value, float):
        return value
    if isinstance(value, (bool, str, bytes)) or not (isinstance(value, numbers.Real) or hasattr(value, "__float__")):
        raise TypeError(f"metric {key!r} must be a real number, got {type(value).__name__} {value!r:.80}")
    try:
        return float(value)
    except OverflowError as exc:
        raise ValueError(f"metric {key!r}: {value!r:.80} is too large for a float") from exc
    except (TypeError, ValueError) as exc:  # e.g. an array of several values
        raise TypeError(f"metric {key!r} must be a real number, got {type(value).__name__}: {exc}") from exc


def check_step(step: object) -> int:
    """A step: an integer from 0 to 2**63 - 1."""
    if type(step) is not int and (isinstance(step, bool) or not isinstance(step, numbers.Integral)):
        raise TypeError(f"a step must be an integer, got {type(step).__name__}")
    step = int(step)
    if not 0 <= step <= MAX_STEP:
        raise ValueError(f"a step must be between 0 and {MAX_STEP}, got {step}")
    return step


def checked_metric_key(key: object) -> str:
    """``check_metric_key`` for a registry operation: ``InvalidInputError`` instead of ``TypeError``."""
    try:
        return check_metric_key(key)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(str(exc)) from exc


def check_max_points(max_points: object) -> int | None:
    if max_points is not None and (isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 2):
        raise InvalidInputError(f"max_points must be an integer of at least 2, got {max_points!r}")
    return max_points


def check_step_range(start_step: object, end_step: object) -> tuple[int | None, int | None]:
    """A range of steps, both ends included, either open (``None``)."""
    ends = []
    for name, step in (("start_step", start_step), ("end_step", end_step)):
        try:
            ends.append(None if step is None else check_step(step))
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"{name}: {exc}") from exc
    start, end = ends
    if start is not None and end is not None and start > end:
        raise InvalidInputError(f"start_step ({start}) must not be after end_step ({end})")
    return start, end


def check_batch_id(batch_id: object) -> str:
    if not isinstance(batch_id, str) or not 1 <= len(batch_id) <= MAX_BATCH_ID_LENGTH or not batch_id.isprintable():
        raise InvalidInputError(f"batch_id must be 1 to {MAX_BATCH_ID_LENGTH} printable characters, got {batch_id!r:.80}")
    return batch_id


Point = tuple[str, int, float, dt.datetime]
"""A checked metric point: key, step, value, an aware timestamp."""


@dataclass(frozen=True, slots=True)
class PointColumns:
    """A batch as columns, one entry per point in each (the REST API's columnar batch body): no object
    per point is made before the checks. ``timestamps`` holds aware datetimes or ``None`` (now); the
    whole column may be ``None`` (all now)."""

    keys: Sequence[Any]
    steps: Sequence[Any]
    values: Sequence[Any]
    timestamps: Sequence[Any] | None = None


def check_points(points: Iterable[Any] | PointColumns) -> list[Point]:
    """Points as (key, step, value, timestamp), checked; a (key, step) given twice keeps the last value.

    Each point may also be a mapping with ``key``, ``step``, ``value`` and ``timestamp`` (an aware
    datetime; ``None`` means now); or the whole batch a ``PointColumns``, whose refusals name the column
    and the place (``steps[3]: ...``)."""
    if isinstance(points, PointColumns):
        return _check_point_columns(points)
    if isinstance(points, (str, bytes, Mapping)) or not isinstance(points, Iterable):
        raise InvalidInputError(f"points must be a list of points, got {type(points).__name__}")
    checked: dict[tuple[str, int], Point] = {}
    now = dt.datetime.now(dt.timezone.utc)
    for index, point in enumerate(points):
        if index >= MAX_BATCH_POINTS:
            raise InvalidInputError(f"a batch carries at most {MAX_BATCH_POINTS} points")
        try:
            if type(point) is tuple and len(point) == 4:  # the client buffer's shape
                key, step, value, stamp = point
            elif isinstance(point, Mapping):
                key, step, value, stamp = point["key"], point["step"], point["value"], point.get("timestamp")
            else:
                key, step, value, stamp = point
            key = check_metric_key(key)
            step = check_step(step)
            if type(value) is not float:
                value = check_metric_value(key, value)
        except (TypeError, ValueError, KeyError) as exc:
            raise InvalidInputError(f"point {index}: {exc}") from exc
        if stamp is None:
            stamp = now
        elif stamp.__class__ is not dt.datetime or stamp.tzinfo is not dt.timezone.utc:
            stamp = check_moment(stamp, field=f"point {index}: timestamp")
        place = (key, step)
        if place in checked:  # the last one wins, and keeps its place in logging order
            del checked[place]
        checked[place] = (key, step, value, stamp)
    return list(checked.values())


_UTC = dt.timezone.utc


def _check_point_columns(columns: PointColumns) -> list[Point]:
    """``check_points`` for columns: one pass over each column that only looks at types and ranges; the
    checks entry by entry (naming the first refused one) only for a column that fails it."""
    keys, steps, values, stamps = columns.keys, columns.steps, columns.values, columns.timestamps
    given = {"keys": keys, "steps": steps, "values": values, **({} if stamps is None else {"timestamps": stamps})}
    for name, column in given.items():
        if isinstance(column, (str, bytes)) or not isinstance(column, Sequence):
            raise InvalidInputError(f"{name} must be a list, got {type(column).__name__}")
    count = len(keys)
    for name, column in given.items():
        if len(column) != count:
            raise InvalidInputError(
                f"keys, steps, values and timestamps have one entry per point: keys has {count}, {name} has {len(column)}"
            )
    if count > MAX_BATCH_POINTS:
        raise InvalidInputError(f"a batch carries at most {MAX_BATCH_POINTS} points")
    try:
        distinct_keys = set(keys)
    except TypeError:  # an unhashable entry (a list): refused below, with its place
        distinct_keys = None
    if distinct_keys is None or not all(type(key) is str and key in _CHECKED_KEYS for key in distinct_keys):
        keys = _each_checked("keys", keys, check_metric_key)
    # The types of a column as a set: one pass at C speed (a bool is not an int here, as in check_step).
    if set(map(type, steps)) - {int} or (count and (min(steps) < 0 or max(steps) > MAX_STEP)):
        steps = _each_checked("steps", steps, check_step)
    if set(map(type, values)) - {float}:
        values = _each_checked("values", zip(keys, values), lambda keyed: check_metric_value(*keyed))
    now = dt.datetime.now(_UTC)
    if stamps is None:
        stamps = [now] * count
    elif not all(stamp.__class__ is dt.datetime and stamp.tzinfo is _UTC for stamp in _distinct(stamps)):
        stamps = [
            now if stamp is None else check_moment(stamp, field=f"timestamps[{index}]")
            for index, stamp in enumerate(stamps)
        ]
    if len(set(zip(keys, steps))) == count:
        return list(zip(keys, steps, values, stamps))
    checked: dict[tuple[str, int], Point] = {}
    for place, point in zip(zip(keys, steps), zip(keys, steps, values, stamps)):
        if place in checked:  # as for points: the last one wins, and keeps its place in logging order
            del checked[place]
        checked[place] = point
    return list(checked.values())


def _distinct(column: Sequence[Any]) -> Iterable[Any]:
    # The points of one logging call share one timestamp object: its checks are made once.
    try:
        return set(column)
    except TypeError:  # an unhashable entry: every entry is looked at
        return column


def _each_checked(name: str, entries: Iterable[Any], check: Callable[[Any], Any]) -> list[Any]:
    """``check(entry)`` of each entry, the first refusal raised as ``InvalidInputError`` naming
    ``name[index]``."""
    checked = []
    for index, entry in enumerate(entries):
        try:
            checked.append(check(entry))
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"{name}[{index}]: {exc}") from exc
    return checked


def check_moment(value: object, *, field: str) -> dt.datetime:
    """A timezone-aware datetime, in UTC: both databases store and read back every such moment, while a
    local time that lands past year 9999 (or before year 1) once in UTC cannot be read back."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise InvalidInputError(f"{field} must be a timezone-aware datetime, got {value!r}")
    if value.tzinfo is dt.timezone.utc:
        return value
    try:
        return value.astimezone(dt.timezone.utc)
    except OverflowError as exc:
        raise InvalidInputError(f"{field} {value.isoformat()} is out of range once in UTC") from exc


def check_end(status: object, error_type: object, error_message: object) -> tuple[str, str | None, str | None]:
    """A run's end: a status of ``END_STATUSES``, and the error's type and message as text, cut to length."""
    if status not in END_STATUSES:
        raise InvalidInputError(f"status must be one of {', '.join(END_STATUSES)}, got {status!r}")
    error_type = check_optional_text(error_type, field="error_type")
    error_message = check_optional_text(error_message, field="error_message")
    return (
        status,
        None if error_type is None else error_type[:MAX_KEY_LENGTH],
        None if error_message is None else error_message[:MAX_ERROR_MESSAGE_LENGTH],
    )


# -- artifacts ---------------------------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_artifact_name(name: object, *, field: str = "artifact name") -> str:
    """A relative path with ``/`` between its parts, each a plain file or directory name.

    Refused: absolute paths, ``.`` and ``..`` parts, empty parts (``a//b``, a trailing ``/``),
    backslashes, drive letters (``C:``), NUL and other control characters.
    """
    _check_short_text(name, field, MAX_ARTIFACT_NAME_LENGTH)
    if "\x00" in name:
        raise InvalidInputError(f"{field} {name!r} contains a NUL character")
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in name):
        raise InvalidInputError(f"{field} {name!r} contains a control character")
    if "\\" in name:
        raise InvalidInputError(f"{field} {name!r} contains a backslash; separate directories with '/'")
    if name.startswith("/"):
        raise InvalidInputError(f"{field} {name!r} is an absolute path; give a path relative to the run")
    if _DRIVE.match(name):
        raise InvalidInputError(f"{field} {name!r} starts with a drive letter; give a path relative to the run")
    for segment in name.split("/"):
        if segment == "":
            raise InvalidInputError(f"{field} {name!r} has an empty part (a doubled or trailing '/')")
        if segment in (".", ".."):
            raise InvalidInputError(f"{field} {name!r} has a {segment!r} part; give a plain relative path")
        if len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            raise InvalidInputError(f"{field} {name!r} has a part longer than {MAX_SEGMENT_BYTES} bytes")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(f"{field} {name!r} is not valid Unicode text") from exc
    return name


# -- model versions ----------------------------------------------------------------------------------

LATEST = "latest"
"""The alias every model has without storing it: its highest version."""
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def check_alias(value: object, *, field: str = "alias") -> str:
    """An alias a version may hold: ASCII, a letter first, then letters, digits, ``-`` and ``_``, at most
    ``MAX_ALIAS_LENGTH`` characters. ``latest`` is refused (it always names the highest version), and so
    is anything purely numeric (``@3`` means version 3), which the first-letter rule already excludes."""
    _check_short_text(value, field, MAX_ALIAS_LENGTH)
    if value.isdigit():
        raise InvalidInputError(f"{field} {value!r} is a number: a number names a version, not an alias")
    if _ALIAS.fullmatch(value) is None:
        raise InvalidInputError(
            f"{field} {value!r} is not an alias: ASCII letters, digits, '-' and '_', starting with a letter"
        )
    if value == LATEST:
        raise InvalidInputError(f"{field} {LATEST!r} is reserved: it always names a model's highest version")
    return value


def check_version_number(value: object, *, field: str = "version") -> int:
    """A version number: an integer from 1 up."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{field} must be an integer, got {type(value).__name__}")
    if not 1 <= value <= MAX_VERSION:
        raise InvalidInputError(f"{field} must be between 1 and {MAX_VERSION}, got {value}")
    return value


def check_version_selector(version: object, alias: object) -> tuple[int | None, str | None]:
    """Exactly one of a version number and an alias (``latest`` allowed), checked."""
    if (version is None) == (alias is None):
        raise InvalidInputError("give either a version number or an alias, not both or neither")
    if version is not None:
        return check_version_number(version), None
    if alias == LATEST:
        return None, LATEST
    return None, check_alias(alias)


def parse_version_reference(reference: object) -> tuple[str, int | None, str | None]:
    """``name@3`` or ``name@alias`` (``name@latest`` too) as (model name, version, alias), one of the
    last two ``None``. The name is what comes before the last ``@``: an alias and a number have none."""
    if not isinstance(reference, str):
        raise InvalidInputError(f"a version reference must be a string, got {type(reference).__name__}")
    name, at, selector = reference.rpartition("@")
    if not at or not name or not selector:
        raise InvalidInputError(
            f"{reference!r:.300} is not a version reference: give MODEL_NAME@VERSION or MODEL_NAME@ALIAS"
        )
    name = check_name(name, field="model_name")
    if selector.isascii() and selector.isdigit():
        try:
            if len(selector) > len(str(MAX_VERSION)):
                raise InvalidInputError(f"version must be between 1 and {MAX_VERSION}, got {selector[:20]}...")
            return name, check_version_number(int(selector)), None
        except InvalidInputError as exc:
            raise InvalidInputError(f"{reference!r:.300}: {exc}") from exc
    version, alias = check_version_selector(None, selector)
    return name, version, alias


def is_sha256(text: str) -> bool:
    return _SHA256.fullmatch(text) is not None


def check_artifact_blobs(artifacts: object) -> list[ArtifactBlob]:
    """A list of artifacts by name, SHA-256 and size (``ArtifactBlob``s or mappings with those keys), at
    most ``MAX_ARTIFACTS_PER_REQUEST``, each name once."""
    if not isinstance(artifacts, (list, tuple)) or not artifacts:
        raise InvalidInputError("artifacts must be a non-empty list of {name, sha256, size}")
    if len(artifacts) > MAX_ARTIFACTS_PER_REQUEST:
        raise InvalidInputError(f"{len(artifacts)} artifacts in one request; at most {MAX_ARTIFACTS_PER_REQUEST}")
    checked: list[ArtifactBlob] = []
    for index, item in enumerate(artifacts):
        if isinstance(item, ArtifactBlob):
            name, sha256, size = item.name, item.sha256, item.size
            part_bytes, part_sha256s = (item.parts.part_bytes, item.parts.sha256s) if item.parts else (None, None)
        elif isinstance(item, Mapping) and set(item) in (_BLOB_KEYS, _BLOB_KEYS | _PARTS_KEYS):
            name, sha256, size = item["name"], item["sha256"], item["size"]
            part_bytes, part_sha256s = item.get("part_bytes"), item.get("part_sha256s")
        else:
            raise InvalidInputError(
                f"artifacts[{index}] must be {{name, sha256, size}}, with part_bytes and part_sha256s or without"
            )
        sha256, size = check_blob(sha256, size)
        parts = None if part_bytes is None and part_sha256s is None else _check_parts(part_bytes, part_sha256s, size, index)
        checked.append(ArtifactBlob(check_artifact_name(name), sha256, size, parts))
    names = [item.name for item in checked]
    if len(set(names)) != len(names):
        repeated = next(name for name in names if names.count(name) > 1)
        raise InvalidInputError(f"the artifact name {repeated!r} is given twice")
    return checked


_BLOB_KEYS = {"name", "sha256", "size"}
_PARTS_KEYS = {"part_bytes", "part_sha256s"}


def _check_parts(part_bytes: object, part_sha256s: object, size: int, index: int) -> BlobParts:
    """A large file's declared parts: S3's sizes (at least 5 MiB but the last, at most 10,000 parts), as
    many digests as the size makes parts, each 64 hexadecimal digits."""
    where = f"artifacts[{index}]"
    if isinstance(part_bytes, bool) or not isinstance(part_bytes, int) or not (
        MIN_UPLOAD_PART_BYTES <= part_bytes <= MAX_UPLOAD_PART_BYTES
    ):
        raise InvalidInputError(
            f"{where}.part_bytes must be a whole number of bytes from {MIN_UPLOAD_PART_BYTES} to "
            f"{MAX_UPLOAD_PART_BYTES}, not {part_bytes!r}"
        )
    if size == 0:
        raise InvalidInputError(f"{where} is empty: it has no parts to declare")
    expected = -(-size // part_bytes)
    if not isinstance(part_sha256s, (list, tuple)) or len(part_sha256s) != expected:
        count = len(part_sha256s) if isinstance(part_sha256s, (list, tuple)) else part_sha256s
        raise InvalidInputError(
            f"{where}.part_sha256s must list one SHA-256 for each of the {expected} parts of {part_bytes} bytes "
            f"that {size} bytes make, not {count!r}"
        )
    if expected > MAX_UPLOAD_PARTS:
        raise InvalidInputError(f"{where} is cut in {expected} parts; at most {MAX_UPLOAD_PARTS}: give larger part_bytes")
    for number, digest in enumerate(part_sha256s):
        if not isinstance(digest, str) or not is_sha256(digest.lower()):
            raise InvalidInputError(f"{where}.part_sha256s[{number}] must be 64 hexadecimal digits, not {digest!r}")
    return BlobParts(part_bytes, tuple(digest.lower() for digest in part_sha256s))


def check_blob(sha256: object, size: object) -> tuple[str, int]:
    """A blob's digest (64 hexadecimal digits, given in either case) and size (bytes, at most
    ``GEMINI_MAX_ARTIFACT_BYTES``), as a client declares them before its bytes are stored."""
    if not isinstance(sha256, str) or not is_sha256(sha256.lower()):
        raise InvalidInputError(f"sha256 must be 64 hexadecimal digits, not {sha256!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidInputError(f"size must be a whole number of bytes, 0 or more, not {size!r}")
    limit = get_settings().max_artifact_bytes
    if size > limit:
        raise ArtifactTooLargeError(
            f"the artifact is {size} bytes, larger than {limit} bytes, the limit (GEMINI_MAX_ARTIFACT_BYTES)"
        )
    return sha256.lower(), size


def new_batch_id() -> str:
    return uuid.uuid4().hex
