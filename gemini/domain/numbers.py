"""How JSON, which has no NaN or infinity, carries them: as the strings of ``NON_FINITE_TEXT``, both
ways (REST bodies, the CLI's ``--json``, exports)."""

import math

NON_FINITE_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def json_value(value: float | None) -> float | str | None:
    """A metric value for JSON: finite numbers as they are, the others as ``NON_FINITE_TEXT``'s strings."""
    if value is None or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def value_from_json(value: float | int | str | None) -> float | None:
    """The number a JSON value stands for: ``json_value`` undone."""
    if isinstance(value, str):
        return NON_FINITE_TEXT[value]
    return None if value is None else float(value)
