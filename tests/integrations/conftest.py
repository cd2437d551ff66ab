"""Fixtures of the trainer integration tests: real Ultralytics and Lightning training on the CPU."""

import pytest

from tests.integrations.frameworks import remove_ultralytics_config


@pytest.fixture(scope="session", autouse=True)
def _remove_ultralytics_config():
    yield
    remove_ultralytics_config()
