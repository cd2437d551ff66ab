"""OpenAPI links: which answers give the ids that other operations take.

A link on a response says "the value at this place of this answer (or of its request) is that parameter
of that operation", e.g. the ``id`` of the run that ``POST /api/model_runs`` created is the ``run_id`` of
``GET /api/model_runs/{run_id}``. Clients read them in the schema; schemathesis follows them to chain
requests (create a run, log metrics to it, end it, read it back: tests/reliability/test_stateful_fuzz.py).

They are added once to the schema FastAPI builds (``install_openapi_links(app)``) rather than on every
route, and name operations by the operationIds FastAPI generates. ``link_problems(schema)`` lists every
link whose source, target, parameter or field is not in the schema, so that a renamed route or field fails
a test (tests/rest_api/test_rest_openapi_fuzz.py) instead of quietly taking links out of the fuzzing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

JSON = "application/json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Link:
    """One link: its name in the response's ``links``, the target's operationId, and runtime expressions."""

    name: str
    target: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    request_body: Mapping[str, str] | None = None

    def definition(self) -> dict[str, Any]:
        definition: dict[str, Any] = {"operationId": self.target}
        if self.parameters:
            definition["parameters"] = dict(self.parameters)
        if self.request_body is not None:
            definition["requestBody"] = dict(self.request_body)
        return definition


# The operationIds of the operations links start from, as FastAPI names them.
CREATE_MODEL = "create_model_api_models_post"
UPDATE_MODEL = "update_model_api_models__model_id__patch"
CREATE_RUN = "create_model_run_api_model_runs_post"
START_RUN = "start_run_api_model_runs_start_post"
CREATE_MODEL_RUN = "create_model_run_api_models__model_id__runs_post"
UPDATE_RUN = "update_model_run_api_model_runs__run_id__patch"
END_RUN = "end_run_api_model_runs__run_id__end_post"
LOG_METRICS = "log_metric_batch_api_model_runs__run_id__metrics_post"
CREATE_EXPERIMENT = "create_experiment_api_experiments_post"
UPLOAD_ARTIFACT = "upload_artifact_api_model_runs__run_id__artifacts__name__put"
REGISTER_VERSION = "register_model_version_api_model_runs__run_id__versions_post"
CREATE_RECORD = "create_model_record_api_models_id__model_id__records_post"

GET_RUN = "get_model_run_api_model_runs__run_id__get"
HEARTBEAT = "heartbeat_api_model_runs__run_id__heartbeat_post"
METRIC_SUMMARIES = "metric_summaries_api_model_runs__run_id__metrics_get"
METRIC_HISTORY = "metric_history_api_model_runs__run_id__metrics__key__get"
METRIC_HISTORIES = "metric_histories_api_metrics_history_get"
LIST_ARTIFACTS = "list_artifacts_api_model_runs__run_id__artifacts_get"
GET_MODEL = "get_model_api_models__model_id__get"
LIST_MODELS = "list_models_api_models_get"

MODEL_ID = {"model_id": "$response.body#/id"}
RUN_ID = {"run_id": "$response.body#/id"}
EXPERIMENT_ID = {"experiment_id": "$response.body#/id"}
SAME_RUN = {"run_id": "$request.path.run_id"}
VERSION_ID = {"version_id": "$response.body#/id"}

# From an answer that is a model (ModelPublic).
MODEL_LINKS = (
    Link("GetModel", GET_MODEL, MODEL_ID),
    Link("UpdateModel", UPDATE_MODEL, MODEL_ID),
    Link("DeleteModel", "delete_model_api_models__model_id__delete", MODEL_ID),
    Link("ListModelRuns", "list_model_runs_api_models__model_id__runs_get", MODEL_ID),
    Link("CreateModelRun", CREATE_MODEL_RUN, MODEL_ID),
    Link("ListModelExperiments", "list_model_experiments_api_models__model_id__experiments_get", MODEL_ID),
    Link("AddModelToExperiment", "link_model_experiment_api_models__model_id__experiments_post", MODEL_ID),
    Link("GetModelById", "get_model_by_id_api_models_id__model_id__get", MODEL_ID),
    Link("LookupModel", "lookup_model_api_models_lookup_get", {"model_name": "$response.body#/model_name"}),
    Link("ListRunsOfModel", "list_model_runs_api_model_runs_get", {"model_id": "$response.body#/id"}),
    Link("StartRunOfModel", START_RUN, request_body={"model_name": "$response.body#/model_name"}),
    Link("ListModelVersions", "list_model_versions_api_models__model_id__versions_get", MODEL_ID),
    Link("CreateModelRecord", CREATE_RECORD, MODEL_ID),
    Link("ListModelRecords", "get_model_records_api_models_id__model_id__records_get", MODEL_ID),
    Link("FilterModelRecords", "filter_model_records_api_models_id__model_id__records_filter_get", MODEL_ID),
)

# From an answer that is a run just recorded (ModelRunPublic).
RUN_LINKS = (
    Link("GetRun", GET_RUN, RUN_ID),
    Link("UpdateRun", UPDATE_RUN, RUN_ID),
    Link("DeleteRun", "delete_model_run_api_model_runs__run_id__delete", RUN_ID),
    Link("EndRun", END_RUN, RUN_ID),
    Link("Heartbeat", HEARTBEAT, RUN_ID),
    Link("LogMetrics", LOG_METRICS, RUN_ID),
    Link("GetMetricSummaries", METRIC_SUMMARIES, RUN_ID),
    Link("GetMetricHistories", METRIC_HISTORIES, {"run_id": "$response.body#/id"}),
    Link("ListArtifacts", LIST_ARTIFACTS, RUN_ID),
    Link("UploadArtifact", UPLOAD_ARTIFACT, RUN_ID),
    Link("GetRunModel", "get_model_run_model_api_model_runs__run_id__model_get", RUN_ID),
    Link("SetRunModel", "associate_model_run_api_model_runs__run_id__model_put", RUN_ID),
    Link("UnsetRunModel", "unassociate_model_run_api_model_runs__run_id__model_delete", RUN_ID),
    Link("GetModelOfRun", GET_MODEL, {"model_id": "$response.body#/model_id"}),
)

# From an answer that is an experiment (ExperimentPublic).
EXPERIMENT_LINKS = (
    Link("GetExperiment", "get_experiment_api_experiments__experiment_id__get", EXPERIMENT_ID),
    Link("DeleteExperiment", "delete_experiment_api_experiments__experiment_id__delete", EXPERIMENT_ID),
    Link("ListExperimentModels", "list_experiment_models_api_experiments__experiment_id__models_get", EXPERIMENT_ID),
    Link(
        "LookupExperiment",
        "lookup_experiment_api_experiments_lookup_get",
        {"experiment_name": "$response.body#/experiment_name"},
    ),
    Link("ListModelsOfExperiment", LIST_MODELS, {"experiment_name": "$response.body#/experiment_name"}),
    Link("CreateModelInExperiment", CREATE_MODEL, request_body={"experiment_name": "$response.body#/experiment_name"}),
)

# From an artifact just stored (ArtifactPublic); the run is the one in the upload's path.
ARTIFACT_LINKS = (
    Link(
        "DownloadArtifact",
        "download_artifact_api_model_runs__run_id__artifacts__name__get",
        {**SAME_RUN, "name": "$response.body#/name"},
    ),
    Link("ReplaceArtifact", UPLOAD_ARTIFACT, {**SAME_RUN, "name": "$response.body#/name"}),
    Link("ListArtifacts", LIST_ARTIFACTS, SAME_RUN),
    Link("RegisterVersion", REGISTER_VERSION, SAME_RUN, request_body={"artifact_name": "$response.body#/name"}),
)

# From a version just registered (ModelVersionPublic).
VERSION_LINKS = (
    Link("GetModelVersion", "get_model_version_api_models_versions__version_id__get", VERSION_ID),
    Link("UpdateModelVersion", "update_model_version_api_models_versions__version_id__patch", VERSION_ID),
    Link("DeleteModelVersion", "delete_model_version_api_models_versions__version_id__delete", VERSION_ID),
    Link("DownloadModelVersion", "download_model_version_api_models_versions__version_id__file_get", VERSION_ID),
    Link(
        "SetModelVersionAlias",
        "set_model_version_alias_api_models_versions__version_id__aliases__alias__put",
        VERSION_ID,
    ),
    Link(
        "LookupModelVersion",
        "lookup_model_version_api_models_lookup_versions_get",
        {"model_name": "$response.body#/model_name", "version": "$response.body#/version"},
    ),
    Link(
        "ListVersionsOfModel",
        "list_model_versions_api_models__model_id__versions_get",
        {"model_id": "$response.body#/model_id"},
    ),
    Link("RegisterAgain", REGISTER_VERSION, {"run_id": "$request.path.run_id"}),
)

# From a model record just created (ModelOutputRecordPublic).
RECORD_ID = {"record_id": "$response.body#/id"}
RECORD_LINKS = (
    Link("GetModelRecord", "get_model_record_api_models_records_id__record_id__get", RECORD_ID),
    Link("UpdateModelRecord", "update_model_record_api_models_records_id__record_id__patch", RECORD_ID),
    Link("DeleteModelRecord", "delete_model_record_api_models_records_id__record_id__delete", RECORD_ID),
    Link("DownloadModelRecordFile", "download_model_record_file_api_models_records_id__record_id__download_get", RECORD_ID),
    Link("ListRecordsOfModel", "get_model_records_api_models_id__model_id__records_get", {"model_id": "$response.body#/model_id"}),
)

# From a metric batch just logged; the run is the one in its path, the key its first point's.
METRIC_LINKS = (
    Link("GetMetricSummaries", METRIC_SUMMARIES, SAME_RUN),
    Link("GetMetricHistory", METRIC_HISTORY, {**SAME_RUN, "key": "$request.body#/points/0/key"}),
    Link("GetMetricHistories", METRIC_HISTORIES, {**SAME_RUN, "key": "$request.body#/points/0/key"}),
)

# From a run that was ended: read it back, and end it or beat its heart again (409: it is over).
ENDED_RUN_LINKS = (
    Link("GetRun", GET_RUN, RUN_ID),
    Link("EndRunAgain", END_RUN, RUN_ID),
    Link("HeartbeatAfterEnd", HEARTBEAT, RUN_ID),
)

# (source operationId, status code) -> the links of that response.
LINKS: dict[tuple[str, str], tuple[Link, ...]] = {
    (CREATE_MODEL, "201"): MODEL_LINKS,
    (CREATE_MODEL, "200"): MODEL_LINKS,
    (UPDATE_MODEL, "200"): MODEL_LINKS,
    (CREATE_RUN, "201"): RUN_LINKS,
    (CREATE_RUN, "200"): RUN_LINKS,
    (START_RUN, "201"): RUN_LINKS,
    (CREATE_MODEL_RUN, "201"): RUN_LINKS,
    (CREATE_MODEL_RUN, "200"): RUN_LINKS,
    (UPDATE_RUN, "200"): (Link("GetRun", GET_RUN, RUN_ID),),
    (END_RUN, "200"): ENDED_RUN_LINKS,
    (CREATE_EXPERIMENT, "201"): EXPERIMENT_LINKS,
    (CREATE_EXPERIMENT, "200"): EXPERIMENT_LINKS,
    (UPLOAD_ARTIFACT, "201"): ARTIFACT_LINKS,
    (UPLOAD_ARTIFACT, "200"): ARTIFACT_LINKS,
    (LOG_METRICS, "200"): METRIC_LINKS,
    (REGISTER_VERSION, "201"): VERSION_LINKS,
    (CREATE_RECORD, "201"): RECORD_LINKS,
    (CREATE_RECORD, "200"): RECORD_LINKS,
}


def declared_link_count() -> int:
    return sum(len(links) for links in LINKS.values())


def iter_operations(schema: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) for every operation of the schema."""
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def add_links(schema: dict[str, Any]) -> int:
    """Add ``LINKS`` to the responses of an OpenAPI schema (in place); return how many were added.

    A link whose source operation or response is not in the schema is left out: ``link_problems`` reports
    it, so that serving the schema never fails.
    """
    operations = {operation.get("operationId"): operation for _, _, operation in iter_operations(schema)}
    added = 0
    for (source, status), links in LINKS.items():
        response = operations.get(source, {}).get("responses", {}).get(status)
        if response is None:
            continue
        existing = response.setdefault("links", {})
        for link in links:
            existing[link.name] = link.definition()
            added += 1
    return added


def install_openapi_links(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so ``/openapi.json``) answer the schema with ``LINKS`` in it."""
    build = app.openapi

    def openapi_with_links() -> dict[str, Any]:
        if app.openapi_schema is None:
            add_links(build())  # FastAPI keeps the schema it built in app.openapi_schema
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi_with_links  # type: ignore[method-assign]


# --- Checking the links against the schema -------------------------------------------------------------

_EXPRESSION = re.compile(r"^\$(?P<source>request|response)\.(?P<rest>.+)$")


def _resolve(schema: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        reference = node["$ref"]
        if not reference.startswith("#/"):
            return None
        target: Any = schema
        for part in reference[2:].split("/"):
            target = target.get(part) if isinstance(target, Mapping) else None
        node = target
    return node


def _pointer_exists(schema: Mapping[str, Any], node: Any, pointer: str) -> bool:
    """Whether a JSON pointer can point into values of JSON Schema ``node`` (through $ref and anyOf)."""
    if pointer in ("", "/"):
        return node is not None
    if not pointer.startswith("/"):
        return False
    head, _, rest = pointer[1:].partition("/")
    head = head.replace("~1", "/").replace("~0", "~")
    rest = "/" + rest if rest else ""
    node = _resolve(schema, node)
    if not isinstance(node, Mapping):
        return False
    for keyword in ("anyOf", "oneOf", "allOf"):
        if any(_pointer_exists(schema, branch, pointer) for branch in node.get(keyword, ())):
            return True
    if head in node.get("properties", {}):
        return _pointer_exists(schema, node["properties"][head], rest)
    if head.isdigit() and "items" in node:
        return _pointer_exists(schema, node["items"], rest)
    return False


def _json_body_schema(schema: Mapping[str, Any], holder: Mapping[str, Any] | None) -> Any:
    holder = _resolve(schema, holder)
    if not isinstance(holder, Mapping):
        return None
    return holder.get("content", {}).get(JSON, {}).get("schema")


def _expression_problem(
    schema: Mapping[str, Any], operation: Mapping[str, Any], status: str, expression: Any
) -> str | None:
    """Why ``expression`` cannot be evaluated on an answer ``status`` of ``operation``; None when it can."""
    if not isinstance(expression, str):
        return f"{expression!r} is not a runtime expression"
    match = _EXPRESSION.match(expression)
    if match is None:
        return f"{expression!r} is not a runtime expression this check knows"
    rest = match["rest"]
    if rest.startswith("body#"):
        if match["source"] == "response":
            body = _json_body_schema(schema, operation.get("responses", {}).get(status))
        else:
            body = _json_body_schema(schema, operation.get("requestBody"))
        if not _pointer_exists(schema, body, rest[len("body#") :]):
            return f"{expression!r}: no such field in the {match['source']} body"
        return None
    location, _, name = rest.partition(".")
    if match["source"] == "request" and location in ("path", "query", "header", "cookie"):
        if not any(
            parameter.get("in") == location and parameter.get("name") == name
            for parameter in (_resolve(schema, p) for p in operation.get("parameters", ()))
        ):
            return f"{expression!r}: the source has no {location} parameter {name!r}"
        return None
    return f"{expression!r} is not a runtime expression this check knows"


def link_problems(schema: Mapping[str, Any]) -> list[str]:
    """Everything wrong with the links of ``schema``: declared links it lacks, and links naming an
    operation, parameter or field it does not have. Empty when every link can be followed."""
    problems: list[str] = []
    by_id: dict[str, dict[str, Any]] = {}
    for path, method, operation in iter_operations(schema):
        operation_id = operation.get("operationId")
        if not operation_id:
            problems.append(f"{method.upper()} {path} has no operationId")
        elif operation_id in by_id:
            problems.append(f"operationId {operation_id!r} is not unique")
        else:
            by_id[operation_id] = operation

    for (source, status), links in LINKS.items():
        response = by_id.get(source, {}).get("responses", {}).get(status)
        if response is None:
            problems.append(f"declared source {source} -> {status} is not in the schema")
            continue
        missing = sorted({link.name for link in links} - set(response.get("links", {})))
        if missing:
            problems.append(f"{source} -> {status} lacks the links {missing}")

    for path, method, operation in iter_operations(schema):
        for status, response in operation.get("responses", {}).items():
            for name, link in (_resolve(schema, response) or {}).get("links", {}).items():
                where = f"{method.upper()} {path} -> {status} -> {name}"
                target = by_id.get(link.get("operationId"))
                if target is None:
                    problems.append(f"{where}: no operation {link.get('operationId')!r}")
                    continue
                parameters = {
                    (parameter.get("in"), parameter.get("name"))
                    for parameter in (_resolve(schema, p) for p in target.get("parameters", ()))
                }
                for parameter, expression in link.get("parameters", {}).items():
                    location, _, bare = parameter.rpartition(".")
                    if not any(n == bare and (not location or loc == location) for loc, n in parameters):
                        problems.append(f"{where}: {link['operationId']} has no parameter {parameter!r}")
                    if (problem := _expression_problem(schema, operation, status, expression)) is not None:
                        problems.append(f"{where}: {problem}")
                if "requestBody" in link:
                    body = _json_body_schema(schema, target.get("requestBody"))
                    if body is None:
                        problems.append(f"{where}: {link['operationId']} takes no JSON body")
                        continue
                    fields = link["requestBody"]
                    if not isinstance(fields, Mapping):
                        fields = {"": fields}
                    for key, expression in fields.items():
                        if key and not _pointer_exists(schema, body, "/" + key):
                            problems.append(f"{where}: {link['operationId']}'s body has no field {key!r}")
                        if (problem := _expression_problem(schema, operation, status, expression)) is not None:
                            problems.append(f"{where}: {problem}")
    return problems
