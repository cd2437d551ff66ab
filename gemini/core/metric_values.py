"""Metric keys, values and steps as a tracked run logs them, checked where they are logged, and how
JSON carries the values. Free of database code: a client logging through a server (``gemini.remote``)
uses these too.
"""

import math
import numbers
import uuid

MAX_KEY_LENGTH = 250
"""Longest metric key, in characters."""
MAX_STEP = 2**63 - 1


def check_metric_key(key: object) -> str:
    """A metric key: free text (``metrics/mAP50(B)``), not empty, at most ``MAX_KEY_LENGTH`` characters."""
    if not isinstance(key, str):
        raise TypeError(f"a metric key must be a string, got {type(key).__name__}")
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"a metric key must have 1 to {MAX_KEY_LENGTH} characters, got {len(key)}")
    if "\x00" in key:
        raise ValueError(f"metric key {key!r} contains a NUL character")
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
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise TypeError(f"a step must be an integer, got {type(step).__name__}")
    step = int(step)
    if not 0 <= step <= MAX_STEP:
        raise ValueError(f"a step must be between 0 and {MAX_STEP}, got {step}")
    return step


NON_FINITE_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
"""How JSON, which has no NaN or infinity, carries them (REST and the CLI's ``--json``)."""


def json_value(value: float | None) -> float | str | None:
    """A metric value for JSON: finite numbers as they are, the others as ``NON_FINITE_TEXT``'s strings."""
    if value is None or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def new_batch_id() -> str:
    return uuid.uuid4().hex
