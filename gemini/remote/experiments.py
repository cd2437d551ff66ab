"""``gemini.core.experiments`` over REST: the same functions, arguments, records and errors."""

import uuid
from typing import Any

from gemini.core.validation import check_info, check_name, check_page, parse_id
from gemini.records import ExperimentRecord, ModelRecord, Page
from gemini.remote import http, records


def _experiment_path(experiment_id: uuid.UUID) -> str:
    return f"/experiments/{experiment_id}"


def create_experiment(
    *, experiment_name: str, experiment_info: dict[str, Any] | None = None
) -> tuple[ExperimentRecord, bool]:
    check_name(experiment_name, field="experiment_name")
    info = check_info(experiment_info, field="experiment_info")
    response = http.call(
        "POST", "/experiments", json={"experiment_name": experiment_name, "experiment_info": info.value}
    )
    return records.experiment(response.json()), response.status_code == 201


def get_experiment(*, experiment_id: object) -> ExperimentRecord:
    experiment_id = parse_id(experiment_id, field="experiment id")
    return records.experiment(http.get(_experiment_path(experiment_id)))


def get_experiment_by_name(*, experiment_name: str) -> ExperimentRecord:
    check_name(experiment_name, field="experiment_name")
    return records.experiment(http.get("/experiments/lookup", {"experiment_name": experiment_name}))


def list_experiments(*, limit: int | None = None, offset: int | None = None) -> list[ExperimentRecord]:
    return list_and_count_experiments(limit=limit, offset=offset).items


def list_and_count_experiments(*, limit: int | None = None, offset: int | None = None) -> Page[ExperimentRecord]:
    check_page(limit, offset)
    items, total = http.read_pages_and_total("/experiments", {}, limit=limit, offset=offset)
    return Page([records.experiment(item) for item in items], total)


def count_experiments() -> int:
    return http.page_total(http.get_list("/experiments", {"limit": 0}))


def list_experiment_models(*, experiment_id: object) -> list[ModelRecord]:
    experiment_id = parse_id(experiment_id, field="experiment id")
    return [records.model(item) for item in http.page_items(http.get_list(f"{_experiment_path(experiment_id)}/models"))]


def delete_experiment(*, experiment_id: object) -> None:
    experiment_id = parse_id(experiment_id, field="experiment id")
    http.call("DELETE", _experiment_path(experiment_id))
