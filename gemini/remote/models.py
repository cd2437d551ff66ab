"""``gemini.core.models`` over REST: the same functions, arguments, records and errors."""

import json
import uuid
from typing import Any

from gemini.core.validation import check_info, check_name, check_optional_text, check_page, parse_id
from gemini.errors import InvalidInputError, NotFoundError
from gemini.records import ExperimentRecord, ModelRecord, ModelRunRecord, Page
from gemini.remote import http, records

INFO = "model_info"


def _model_path(model_id: uuid.UUID) -> str:
    return f"/models/{model_id}"


def create_model(
    *,
    model_name: str,
    model_url: str | None = None,
    model_info: dict[str, Any] | None = None,
    experiment_name: str | None = None,
) -> tuple[ModelRecord, bool]:
    check_name(model_name, field="model_name")
    check_optional_text(model_url, field="model_url")
    info = check_info(model_info, field=INFO)
    if experiment_name is not None:
        check_name(experiment_name, field="experiment_name")
    body = {"model_name": model_name, "model_url": model_url, INFO: info.value, "experiment_name": experiment_name}
    response = http.call("POST", "/models", json=body)
    return records.model(response.json()), response.status_code == 201


def get_model(*, model_id: object) -> ModelRecord:
    model_id = parse_id(model_id, field="model id")
    return records.model(http.get(_model_path(model_id)))


def get_model_by_name(*, model_name: str, experiment_name: str | None = None) -> ModelRecord:
    check_name(model_name, field="model_name")
    return records.model(http.get("/models/lookup", {"model_name": model_name, "experiment_name": experiment_name}))


def model_exists(*, model_name: str) -> bool:
    check_name(model_name, field="model_name")
    try:
        http.get("/models/lookup", {"model_name": model_name})
    except NotFoundError:
        return False
    return True


def _filters(model_name: object, model_url: object, model_info: object, experiment_name: object) -> dict[str, Any]:
    contains = check_info(model_info, field=INFO).value if model_info is not None else None
    return {
        "model_name": check_optional_text(model_name, field="model_name"),
        "model_url": check_optional_text(model_url, field="model_url"),
        INFO: json.dumps(contains) if contains is not None else None,
        "experiment_name": (
            check_name(experiment_name, field="experiment_name") if experiment_name is not None else None
        ),
    }


def list_models(
    *,
    model_name: str | None = None,
    model_url: str | None = None,
    model_info: dict[str, Any] | None = None,
    experiment_name: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[ModelRecord]:
    return list_and_count_models(
        model_name=model_name,
        model_url=model_url,
        model_info=model_info,
        experiment_name=experiment_name,
        limit=limit,
        offset=offset,
    ).items


def list_and_count_models(
    *,
    model_name: str | None = None,
    model_url: str | None = None,
    model_info: dict[str, Any] | None = None,
    experiment_name: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> Page[ModelRecord]:
    check_page(limit, offset)
    params = _filters(model_name, model_url, model_info, experiment_name)
    items, total = http.read_pages_and_total("/models", params, limit=limit, offset=offset)
    return Page([records.model(item) for item in items], total)


def count_models(
    *,
    model_name: str | None = None,
    model_url: str | None = None,
    model_info: dict[str, Any] | None = None,
    experiment_name: str | None = None,
) -> int:
    params = _filters(model_name, model_url, model_info, experiment_name)
    return http.page_total(http.get_list("/models", {**params, "limit": 0}))


def update_model(
    *,
    model_id: object,
    model_name: str | None = None,
    model_url: str | None = None,
    model_info: dict[str, Any] | None = None,
) -> ModelRecord:
    model_id = parse_id(model_id, field="model id")
    values: dict[str, Any] = {}
    if model_name is not None:
        values["model_name"] = check_name(model_name, field="model_name")
    if model_url is not None:
        values["model_url"] = check_optional_text(model_url, field="model_url")
    if model_info is not None:
        values[INFO] = check_info(model_info, field=INFO).value
    if not values:
        raise InvalidInputError("nothing to update: give model_name, model_url or model_info")
    return records.model(http.call("PATCH", _model_path(model_id), json=values).json())


def delete_model(*, model_id: object) -> None:
    model_id = parse_id(model_id, field="model id")
    http.call("DELETE", _model_path(model_id))


def list_model_runs(*, model_id: object, limit: int | None = None, offset: int | None = None) -> list[ModelRunRecord]:
    model_id = parse_id(model_id, field="model id")
    check_page(limit, offset)
    items, _ = http.read_pages_and_total(f"{_model_path(model_id)}/runs", {}, limit=limit, offset=offset)
    return [records.run(item) for item in items]


def count_model_runs(*, model_id: object) -> int:
    model_id = parse_id(model_id, field="model id")
    return http.page_total(http.get_list(f"{_model_path(model_id)}/runs", {"limit": 0}))


def create_model_run(
    *, model_id: object, model_run_info: dict[str, Any] | None = None
) -> tuple[ModelRunRecord, bool]:
    model_id = parse_id(model_id, field="model id")
    info = check_info(model_run_info, field="model_run_info")
    response = http.call("POST", f"{_model_path(model_id)}/runs", json={"model_run_info": info.value})
    return records.run(response.json()), response.status_code == 201


def list_model_experiments(*, model_id: object) -> list[ExperimentRecord]:
    model_id = parse_id(model_id, field="model id")
    return [records.experiment(item) for item in http.page_items(http.get_list(f"{_model_path(model_id)}/experiments"))]


def associate_experiment(*, model_id: object, experiment_name: str) -> ExperimentRecord:
    model_id = parse_id(model_id, field="model id")
    check_name(experiment_name, field="experiment_name")
    response = http.call("POST", f"{_model_path(model_id)}/experiments", json={"experiment_name": experiment_name})
    return records.experiment(response.json())


def unassociate_experiment(*, model_id: object, experiment_name: str) -> ExperimentRecord:
    model_id = parse_id(model_id, field="model id")
    check_name(experiment_name, field="experiment_name")
    response = http.call("DELETE", f"{_model_path(model_id)}/experiments", params={"experiment_name": experiment_name})
    return records.experiment(response.json())


def model_belongs_to_experiment(*, model_id: object, experiment_name: str) -> bool:
    model_id = parse_id(model_id, field="model id")
    check_name(experiment_name, field="experiment_name")
    return any(
        experiment.experiment_name == experiment_name for experiment in list_model_experiments(model_id=model_id)
    )
