import pytest

from tests.conftest import RemoteRegistry, empty_registry


@pytest.fixture
def remote(remote_registry, monkeypatch) -> RemoteRegistry:
    """The session's server, empty, made the configured one (``GEMINI_API_URL``)."""
    monkeypatch.setenv("GEMINI_API_URL", remote_registry.url)
    empty_registry(remote_registry.database_url, monkeypatch, remote_registry.artifact_root)
    return remote_registry
