"""The Python API's tests run in three modes: on SQLite, on PostgreSQL, and through a real server."""

import pytest


@pytest.fixture
def db(registry_url) -> str:
    return registry_url
