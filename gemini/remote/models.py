"""Models, runs and experiments over REST: each operation of the contract as one request (a list, one
request per page), its answer read back into the same records the database transport returns."""

import json
import uuid
from typing import Any

from gemini.domain.limits import MAX_BULK_RUNS
from gemini.domain.records import CheckedInfo, ExperimentRecord, ModelRecord, ModelRunRecord, Page
from gemini.registry.contract import ModelQuery, PageRequest, RunQuery
from gemini.remote import http, records

RUN_INFO = "model_run_info"


# -- models ------------------------------------------------------------------------------------------


def create_model(
    *,
    model_name: str,
    model_url: str | None,
    model_info: CheckedInfo,
    experiment_name: str | None,
    created_by: str | None,
) -> tuple[ModelRecord, bool]:
    # created_by is the server's to record (the name of the token the request carries).
    body = {
        "model_name": model_name,
        "model_url": model_url,
        "model_info": model_info.value,
        "experiment_name": experiment_name,
    }
    response = http.send("create_model", json=body)
    return records.model(response.json()), response.status_code == 201


def get_model(*, model_id: uuid.UUID) -> ModelRecord:
    return records.model(http.send("get_model", model_id=model_id).json())


def get_model_by_name(*, model_name: str, experiment_name: str | None) -> ModelRecord:
    params = http.query({"model_name": model_name, "experiment_name": experiment_name})
    return records.model(http.send("get_model_by_name", params=params).json())


def search_models(*, query: ModelQuery, page: PageRequest) -> Page[ModelRecord]:
    params = {
        "model_name": query.model_name,
        "model_url": query.model_url,
        "model_info": json.dumps(query.contains.value) if query.contains is not None else None,
        "experiment_name": query.experiment_name,
    }
    return http.read_page("search_models", params, page, records.model)


def update_model(
    *, model_id: uuid.UUID, model_name: str | None, model_url: str | None, model_info: CheckedInfo | None
) -> ModelRecord:
    values: dict[str, Any] = {"model_name": model_name, "model_url": model_url}
    if model_info is not None:
        values["model_info"] = model_info.value
    body = {field: value for field, value in values.items() if value is not None}
    return records.model(http.send("update_model", model_id=model_id, json=body).json())


def delete_model(*, model_id: uuid.UUID) -> None:
    http.send("delete_model", model_id=model_id)


def create_model_run(
    *, model_id: uuid.UUID, model_run_info: CheckedInfo, model_name: str | None, created_by: str | None
) -> tuple[ModelRunRecord, bool]:
    body = {RUN_INFO: model_run_info.value, "model_name": model_name}
    response = http.send("create_model_run", model_id=model_id, json=body)
    return records.run(response.json()), response.status_code == 201


def list_model_experiments(*, model_id: uuid.UUID) -> list[ExperimentRecord]:
    return [records.experiment(item) for item in http.send("list_model_experiments", model_id=model_id).json()]


def associate_experiment(*, model_id: uuid.UUID, experiment_name: str) -> ExperimentRecord:
    body = {"experiment_name": experiment_name}
    return records.experiment(http.send("associate_experiment", model_id=model_id, json=body).json())


def unassociate_experiment(*, model_id: uuid.UUID, experiment_name: str) -> ExperimentRecord:
    params = {"experiment_name": experiment_name}
    return records.experiment(http.send("unassociate_experiment", model_id=model_id, params=params).json())


# -- runs --------------------------------------------------------------------------------------------


def create_run(
    *, model_run_info: CheckedInfo, model_name: str | None, created_by: str | None
) -> tuple[ModelRunRecord, bool]:
    response = http.send("create_run", json={RUN_INFO: model_run_info.value, "model_name": model_name})
    return records.run(response.json()), response.status_code == 201


def create_runs(
    *, model_run_infos: list[CheckedInfo], model_name: str | None, created_by: str | None
) -> list[tuple[ModelRunRecord, bool]]:
    """More than ``MAX_BULK_RUNS`` runs go as several requests, each one transaction on the server
    (repeating the call is harmless: existing runs are returned)."""
    values = [info.value for info in model_run_infos]
    results: list[tuple[ModelRunRecord, bool]] = []
    for start in range(0, len(values), MAX_BULK_RUNS):
        body = {"model_run_infos": values[start : start + MAX_BULK_RUNS], "model_name": model_name}
        answer = http.send("create_runs", json=body).json()
        results.extend(zip([records.run(item) for item in answer["data"]], answer["created"], strict=True))
    return results


def get_run(*, run_id: uuid.UUID) -> ModelRunRecord:
    return records.run(http.send("get_run", run_id=run_id).json())


def find_run(*, model_run_info: CheckedInfo, model_name: str | None) -> ModelRunRecord:
    response = http.send("find_run", json={RUN_INFO: model_run_info.value, "model_name": model_name})
    return records.run(response.json())


def search_runs(*, query: RunQuery, page: PageRequest) -> Page[ModelRunRecord]:
    params = {
        RUN_INFO: json.dumps(query.contains.value) if query.contains is not None else None,
        "model_name": query.model_name,
        "model_id": query.model_id,
        "where": query.where,
        "order_by": ",".join(query.order_by) if query.order_by else None,
    }
    return http.read_page("search_runs", params, page, records.run)


def replace_run_info(*, run_id: uuid.UUID, model_run_info: CheckedInfo) -> ModelRunRecord:
    return records.run(http.send("replace_run_info", run_id=run_id, json={RUN_INFO: model_run_info.value}).json())


def rename_run(*, run_id: uuid.UUID, run_name: str | None) -> ModelRunRecord:
    return records.run(http.send("rename_run", run_id=run_id, json={"run_name": run_name}).json())


def delete_run(*, run_id: uuid.UUID) -> None:
    http.send("delete_run", run_id=run_id)


def get_run_model(*, run_id: uuid.UUID) -> ModelRecord:
    return records.model(http.send("get_run_model", run_id=run_id).json())


def associate_run(*, run_id: uuid.UUID, model_name: str) -> tuple[ModelRunRecord, ModelRecord]:
    model = records.model(http.send("associate_run", run_id=run_id, json={"model_name": model_name}).json())
    return get_run(run_id=run_id), model


def unassociate_run(*, run_id: uuid.UUID) -> tuple[ModelRunRecord, ModelRecord]:
    model = get_run_model(run_id=run_id)
    http.send("unassociate_run", run_id=run_id)
    return get_run(run_id=run_id), model


# -- experiments -------------------------------------------------------------------------------------


def create_experiment(*, experiment_name: str, experiment_info: CheckedInfo) -> tuple[ExperimentRecord, bool]:
    body = {"experiment_name": experiment_name, "experiment_info": experiment_info.value}
    response = http.send("create_experiment", json=body)
    return records.experiment(response.json()), response.status_code == 201


def get_experiment(*, experiment_id: uuid.UUID) -> ExperimentRecord:
    return records.experiment(http.send("get_experiment", experiment_id=experiment_id).json())


def get_experiment_by_name(*, experiment_name: str) -> ExperimentRecord:
    response = http.send("get_experiment_by_name", params={"experiment_name": experiment_name})
    return records.experiment(response.json())


def search_experiments(*, page: PageRequest) -> Page[ExperimentRecord]:
    return http.read_page("search_experiments", {}, page, records.experiment)


def list_experiment_models(*, experiment_id: uuid.UUID) -> list[ModelRecord]:
    answer = http.send("list_experiment_models", experiment_id=experiment_id).json()
    return [records.model(item) for item in answer]


def delete_experiment(*, experiment_id: uuid.UUID) -> None:
    http.send("delete_experiment", experiment_id=experiment_id)
