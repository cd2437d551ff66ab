"""Schemathesis against the app's own OpenAPI schema: no 5xx for any generated request, and every response
matches the schema (status, content type, body). On SQLite only: the point is the HTTP contract."""

import copy

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
from gemini.rest_api.openapi_links import declared_link_count, iter_operations, link_problems

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


def test_links_name_operations_parameters_and_fields_of_the_schema():
    """Every declared link is in the schema and can be followed: its target operationId, the target's
    parameters and body fields, and the fields its expressions read all exist. A renamed route, parameter
    or field fails here rather than silently dropping the link from the stateful fuzzing."""
    served = schema.raw_schema
    assert link_problems(served) == []
    operations = [operation for _, _, operation in iter_operations(served)]
    responses = [response for operation in operations for response in operation["responses"].values()]
    links = [link for response in responses for link in response.get("links", {})]
    assert len(links) == declared_link_count() > 0
    schema.validate()  # the whole schema, links included, against the OpenAPI 3.1 meta-schema


def test_link_problems_catches_a_renamed_target_parameter_and_field():
    broken = copy.deepcopy(app.openapi())
    runs = broken["paths"]["/api/model_runs"]["post"]["responses"]["201"]["links"]
    runs["GetRun"]["operationId"] = "no_such_operation"
    runs["EndRun"]["parameters"] = {"id": "$response.body#/id"}
    runs["Heartbeat"]["parameters"] = {"run_id": "$response.body#/run_identifier"}
    runs["UpdateRun"]["parameters"] = {"run_id": "$request.path.run_id"}
    problems = link_problems(broken)
    assert any("no operation 'no_such_operation'" in problem for problem in problems)
    assert any("EndRun" in problem and "no parameter 'id'" in problem for problem in problems)
    assert any("Heartbeat" in problem and "run_identifier" in problem for problem in problems)
    assert any("UpdateRun" in problem and "no path parameter 'run_id'" in problem for problem in problems)
    del broken["paths"]["/api/experiments"]["post"]["responses"]["201"]["links"]
    assert any("create_experiment_api_experiments_post -> 201 lacks" in problem for problem in link_problems(broken))


def test_openapi_is_built_once_with_its_links():
    built = app.openapi()
    assert app.openapi() is built
    assert built["paths"]["/api/models"]["post"]["responses"]["201"]["links"]["GetModel"] == {
        "operationId": "get_model_api_models__model_id__get",
        "parameters": {"model_id": "$response.body#/id"},
    }
