"""Fixtures of the trainer integration tests: real Ultralytics and Lightning training on the CPU."""

import pytest

from tests.integrations.frameworks import remove_ultralytics_config


@pytest.fixture(scope="session", autouse=True)
def _remove_ultralytics_config():
    yield
    remove_ultralytics_config()


@pytest.fixture
def server(remote_registry, monkeypatch, tmp_path):
    """The session's server as the configured registry; the local database made unreachable."""
    monkeypatch.setenv("GEMINI_API_URL", remote_registry.url)
    monkeypatch.setenv("GEMINI_DATABASE_URL", f"sqlite:///{tmp_path / 'no-such-directory' / 'registry.db'}")
    monkeypatch.setenv("GEMINI_SPOOL_PATH", str(tmp_path / "spool.sqlite"))
    return remote_registry
