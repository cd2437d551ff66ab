"""Schemathesis against the app's own OpenAPI schema: no 5xx for any generated request, and every response
matches the schema (status, content type, body). On SQLite only: the point is the HTTP contract."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gemini.rest_api.app import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

app = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def sqlite_registry(tmp_path_factory, monkeypatch) -> None:
    monkeypatch.setenv("GEMINI_DATABASE_URL", f"sqlite:///{tmp_path_factory.getbasetemp() / 'fuzz.db'}")
    monkeypatch.delenv("GEMINI_API_TOKEN", raising=False)


@pytest.mark.usefixtures("sqlite_registry")
@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests(case):
    case.call_and_validate(checks=CHECKS)
