"""What both integrations share: turning a framework's settings into info, and starting a run."""

import math
import os
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from gemini.api.model_run import ModelRun


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON for a run's info: mappings with string keys, lists, strings, finite numbers.

    Paths become their text, tuples and sets lists, numpy and torch scalars numbers, NaN and infinities
    and any other object their ``repr``: a trainer's settings are recorded as they were, never refused.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else repr(float(value))
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((json_safe(item) for item in value), key=repr)
    item = getattr(value, "item", None)  # numpy and torch scalars
    if callable(item) and getattr(value, "ndim", None) == 0:
        return json_safe(item())
    return repr(value)


def versions(*distributions: str) -> dict[str, str]:
    """The installed version of each distribution that is installed."""
    found = {}
    for name in distributions:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def start_run(*, model_run_info: dict, model_name: str | None) -> ModelRun:
    """Start a tracked run of ``model_name`` (which ``ModelRun.start`` creates when it does not exist).

    Raises ``RuntimeError`` when the registry refuses: a training is better stopped at its start than
    run for hours untracked. The ``gemini.api`` log line before it says why.
    """
    run = ModelRun.start(model_run_info=model_run_info, model_name=model_name)
    if run is None:
        raise RuntimeError(f"gemini could not start a run of {model_name!r}; see the gemini.api log")
    return run
