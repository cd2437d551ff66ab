"""The tracking suite runs on every registry mode with the artifact store in a directory and in a bucket
(a tracked run logs its checkpoints and plots as artifacts)."""

import time

import pytest

from tests.conftest import STORE_REGISTRY_MODES, registry_on_store


@pytest.fixture(params=STORE_REGISTRY_MODES)
def registry_url(request, monkeypatch) -> str:
    return registry_on_store(request, monkeypatch)


def wait_until(condition, seconds: float = 20) -> bool:  # noqa: ANN001
    """Whether ``condition()`` came true within ``seconds`` (asked every 10 ms)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
