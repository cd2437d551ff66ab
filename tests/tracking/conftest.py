"""The tracking suite runs on every registry mode with the artifact store in a directory and in a bucket
(a tracked run logs its checkpoints and plots as artifacts)."""

import pytest

from tests.conftest import STORE_REGISTRY_MODES, registry_on_store


@pytest.fixture(params=STORE_REGISTRY_MODES)
def registry_url(request, monkeypatch) -> str:
    return registry_on_store(request, monkeypatch)
