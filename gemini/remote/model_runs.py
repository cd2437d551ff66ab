"""``gemini.core.model_runs`` over REST: the same functions, arguments, records and errors.

Arguments are checked here with the core's own checks before anything is sent, so a bad id, name or
info fails with the words it fails with locally; the server checks them again.
"""

import json
import uuid
from dataclasses import dataclass
from typing import Any

from gemini.core.validation import check_info, check_name, check_page, parse_id
from gemini.errors import InvalidInputError, NotFoundError
from gemini.records import ModelRecord, ModelRunRecord, Page
from gemini.remote import http, records

INFO = "model_run_info"

MAX_BULK_RUNS = 10_000
"""The most runs the server records in one request (``POST /api/model_runs/bulk``)."""


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of a search: its runs, and the cursor of the next page (``None`` after the last)."""

    runs: list[ModelRunRecord]
    next_cursor: str | None


def _run_path(run_id: uuid.UUID) -> str:
    return f"/model_runs/{run_id}"


def create_run(
    *, model_run_info: dict[str, Any] | None = None, model_name: str | None = None
) -> tuple[ModelRunRecord, bool]:
    """Record a run (of ``model_name``, created if missing, or of no model); the run, and whether it is new."""
    info = check_info(model_run_info, field=INFO)
    if model_name is not None:
        check_name(model_name, field="model_name")
    response = http.call("POST", "/model_runs", json={INFO: info.value, "model_name": model_name})
    return records.run(response.json()), response.status_code == 201


def create_runs(
    *, model_run_infos: list[dict[str, Any]], model_name: str | None = None
) -> list[tuple[ModelRunRecord, bool]]:
    """Like the core's; more than ``MAX_BULK_RUNS`` runs are sent as several requests, each one
    transaction (every info is checked before the first is sent, and repeating the call is harmless)."""
    if isinstance(model_run_infos, (str, bytes, dict)) or not hasattr(model_run_infos, "__iter__"):
        raise InvalidInputError(f"model_run_infos must be a list of dicts, got {type(model_run_infos).__name__}")
    checked = [check_info(info, field=f"{INFO}[{index}]").value for index, info in enumerate(model_run_infos)]
    if model_name is not None:
        check_name(model_name, field="model_name")
    results: list[tuple[ModelRunRecord, bool]] = []
    for start in range(0, len(checked), MAX_BULK_RUNS):
        body = http.call(
            "POST", "/model_runs/bulk", json={"model_run_infos": checked[start : start + MAX_BULK_RUNS], "model_name": model_name}
        ).json()
        results.extend(zip([records.run(item) for item in body["data"]], body["created"], strict=True))
    return results


def get_run(*, run_id: object) -> ModelRunRecord:
    run_id = parse_id(run_id, field="model run id")
    return records.run(http.get(_run_path(run_id)))


def find_run(*, model_run_info: dict[str, Any], model_name: str | None = None) -> ModelRunRecord:
    """The run whose info equals ``model_run_info`` (of ``model_name`` when given; else the oldest such run)."""
    info = check_info(model_run_info, field=INFO)
    if model_name is not None:
        check_name(model_name, field="model_name")
    response = http.call("POST", "/model_runs/lookup", json={INFO: info.value, "model_name": model_name})
    return records.run(response.json())


def run_exists(*, model_run_info: dict[str, Any], model_name: str | None = None) -> bool:
    """Whether ``find_run`` would find a run; an unknown model simply has none."""
    try:
        find_run(model_run_info=model_run_info, model_name=model_name)
    except NotFoundError:
        return False
    return True


def _filters(model_run_info: dict[str, Any] | None, model_name: str | None, where: str | None) -> dict[str, Any]:
    contains = check_info(model_run_info, field=INFO).value if model_run_info is not None else None
    if model_name is not None:
        check_name(model_name, field="model_name")
    if where is not None and not isinstance(where, str):
        raise InvalidInputError(f"where must be a string, got {type(where).__name__}")
    return {
        INFO: json.dumps(contains) if contains is not None else None,
        "model_name": model_name,
        "where": where,
    }


def _order_param(order_by: str | list[str] | None) -> str | None:
    if order_by is None or isinstance(order_by, str):
        return order_by
    if isinstance(order_by, (list, tuple)) and all(isinstance(key, str) for key in order_by):
        return ",".join(order_by)
    raise InvalidInputError(f"order_by must be a string or a list of strings, got {order_by!r}")


def list_runs(
    *,
    model_run_info: dict[str, Any] | None = None,
    model_name: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[ModelRunRecord]:
    return search_runs(model_run_info=model_run_info, model_name=model_name, limit=limit, offset=offset).runs


def count_runs(
    *, model_run_info: dict[str, Any] | None = None, model_name: str | None = None, where: str | None = None
) -> int:
    return http.page_total(http.get_list("/model_runs", {**_filters(model_run_info, model_name, where), "limit": 0}))


def search_runs(
    *,
    model_run_info: dict[str, Any] | None = None,
    model_name: str | None = None,
    where: str | None = None,
    order_by: str | list[str] | None = None,
    limit: int | None = None,
    offset: int | None = None,
    cursor: str | None = None,
) -> RunPage:
    """The core's ``search_runs``; without ``limit``, every match, read a page of ``http.PAGE_SIZE`` at a time."""
    page = search_and_count_runs(
        model_run_info=model_run_info,
        model_name=model_name,
        where=where,
        order_by=order_by,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    return RunPage(page.items, page.next_cursor)


def search_and_count_runs(
    *,
    model_run_info: dict[str, Any] | None = None,
    model_name: str | None = None,
    where: str | None = None,
    order_by: str | list[str] | None = None,
    limit: int | None = None,
    offset: int | None = None,
    cursor: str | None = None,
) -> Page[ModelRunRecord]:
    """The core's ``search_and_count_runs``: the total comes with the page's first request (``X-Total-Count``),
    one read on the server."""
    params = {**_filters(model_run_info, model_name, where), "order_by": _order_param(order_by)}
    check_page(limit, offset)
    if cursor is not None and offset:
        raise InvalidInputError("give either offset or cursor, not both")
    runs: list[ModelRunRecord] = []
    total: int | None = None
    while True:
        size = http.PAGE_SIZE if limit is None else min(http.PAGE_SIZE, limit - len(runs))
        page_position = {"cursor": cursor} if cursor is not None else {"offset": (offset or 0) + len(runs)}
        body = http.get_list("/model_runs", {**params, **page_position, "limit": size})
        if total is None:
            total = http.page_total(body)
        runs.extend(records.run(item) for item in http.page_items(body))
        cursor = body.next_cursor
        if cursor is None or size == 0 or (limit is not None and len(runs) >= limit):
            return Page(runs, total, cursor)


def replace_run_info(*, run_id: object, model_run_info: dict[str, Any]) -> ModelRunRecord:
    run_id = parse_id(run_id, field="model run id")
    if model_run_info is None:
        raise InvalidInputError(f"{INFO} is required to update a model run")
    info = check_info(model_run_info, field=INFO)
    return records.run(http.call("PATCH", _run_path(run_id), json={INFO: info.value}).json())


def delete_run(*, run_id: object) -> None:
    run_id = parse_id(run_id, field="model run id")
    http.call("DELETE", _run_path(run_id))


def get_run_model(*, run_id: object) -> ModelRecord:
    run_id = parse_id(run_id, field="model run id")
    return records.model(http.get(f"{_run_path(run_id)}/model"))


def associate_run(*, run_id: object, model_name: str) -> tuple[ModelRunRecord, ModelRecord]:
    run_id = parse_id(run_id, field="model run id")
    check_name(model_name, field="model_name")
    model = records.model(http.call("PUT", f"{_run_path(run_id)}/model", json={"model_name": model_name}).json())
    return get_run(run_id=run_id), model


def unassociate_run(*, run_id: object) -> tuple[ModelRunRecord, ModelRecord]:
    run_id = parse_id(run_id, field="model run id")
    model = get_run_model(run_id=run_id)
    http.call("DELETE", f"{_run_path(run_id)}/model")
    return get_run(run_id=run_id), model


def run_belongs_to_model(*, run_id: object, model_name: str) -> bool:
    run_id = parse_id(run_id, field="model run id")
    check_name(model_name, field="model_name")
    run = get_run(run_id=run_id)
    try:
        model = records.model(http.get("/models/lookup", {"model_name": model_name}))
    except NotFoundError:
        return False
    return run.model_id == model.id
