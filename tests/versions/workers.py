"""Bodies of the child processes of the concurrency tests (spawned, so they must be importable).

Each child is given the ``GEMINI_*`` settings of the test's mode (a database, or a server's URL) and
sets them itself, as a separate program using the registry would. Failures come back as text."""

import os
from typing import Any

from gemini.domain.errors import GeminiError
from gemini.registry import registry


def register_versions(settings: dict[str, str], run_id: str, artifact_name: str, count: int, start: Any) -> list:
    """Register ``count`` versions of the run's artifact; the numbers received, or an error's text."""
    for key in [key for key in os.environ if key.startswith("GEMINI_")]:
        del os.environ[key]
    os.environ.update(settings)
    start.wait()
    received: list = []
    for _ in range(count):
        try:
            received.append(registry().register_model_version(run_id=run_id, artifact_name=artifact_name).version)
        except GeminiError as exc:
            received.append(f"error: {type(exc).__name__}: {exc}")
    return received


def move_alias(settings: dict[str, str], version_id: str, alias: str, count: int, start: Any) -> list[str]:
    """Give the version ``alias`` ``count`` times; the errors' texts."""
    for key in [key for key in os.environ if key.startswith("GEMINI_")]:
        del os.environ[key]
    os.environ.update(settings)
    start.wait()
    errors = []
    for _ in range(count):
        try:
            registry().set_model_version_alias(version_id=version_id, alias=alias)
        except GeminiError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    return errors
