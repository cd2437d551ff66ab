"""``version exists``: the runs that have a registered model version, a run field like ``status``.

On SQLite, PostgreSQL and through a server (``registry_url``: the where text travels as is), and once
through the REST app's ``GET /api/model_runs?where=version exists``.
"""

import pytest
from fastapi.testclient import TestClient

from gemini.domain.errors import InvalidInputError
from gemini.registry import registry
from gemini.rest_api.app import create_app


@pytest.fixture
def runs(registry_url, tmp_path) -> dict[str, object]:
    """``registered`` has two versions; ``logged`` has the artifact but no version; ``unassigned`` has no
    model; ``deleted`` had a version, deleted since; ``other`` has a version of another model and the info
    key ``version``."""
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"weights")
    registry().create_model(model_name="counter")
    registry().create_model(model_name="detector")
    made = {}
    for label, model_name, info in [
        ("registered", "counter", {"label": "registered"}),
        ("logged", "counter", {"label": "logged", "version": 3}),
        ("unassigned", None, {"label": "unassigned"}),
        ("deleted", "detector", {"label": "deleted"}),
        ("other", "detector", {"label": "other", "version": 3}),
    ]:
        made[label], _ = registry().create_run(model_run_info=info, model_name=model_name)
        if model_name is not None:
            registry().log_artifact_file(run_id=made[label].id, path=weights, name="weights/best.pt")
    for label in ("registered", "registered", "deleted", "other"):
        registry().register_model_version(run_id=made[label].id, artifact_name="weights/best.pt")
    deleted = registry().find_model_version(model_name="detector", version=1)
    registry().delete_model_version(version_id=deleted.id)
    return made


def _labels(where: str, **options) -> list[str]:
    return sorted(run.model_run_info["label"] for run in registry().search_runs(where=where, **options).items)


def test_version_exists_finds_the_runs_with_a_registered_version(runs):
    assert _labels("version exists") == ["other", "registered"]
    assert _labels("exists(version)") == ["other", "registered"]  # the same test, spelled like an info path's
    assert _labels("version EXISTS") == ["other", "registered"]  # keywords are case-insensitive, names not


def test_not_version_exists_finds_the_others(runs):
    assert _labels("not version exists") == ["deleted", "logged", "unassigned"]
    assert _labels("not exists(version)") == ["deleted", "logged", "unassigned"]


def test_combined_counted_and_paged(runs):
    assert _labels('version exists and model.name = "counter"') == ["registered"]
    assert _labels("version exists or model.name = 'counter'") == ["logged", "other", "registered"]
    assert _labels("not version exists and exists(model.name)") == ["deleted", "logged"]
    assert registry().count_runs(where="version exists") == 2
    assert _labels("version exists", model_name="detector") == ["other"]
    first = registry().search_runs(where="version exists", limit=1)
    second = registry().search_runs(where="version exists", limit=1, cursor=first.next_cursor)
    assert [run.id for run in first.items + second.items] == [runs["registered"].id, runs["other"].id]


def test_a_quoted_key_still_reaches_the_info(runs):
    assert _labels("`version` = 3") == ["logged", "other"]
    assert _labels("exists(`version`) and not version exists") == ["logged"]


@pytest.mark.parametrize(
    "where",
    ["version = 1", "version != 1", "version in (1, 2)", "version glob 'x*'", "version startswith 'x'", "version"],
)
def test_version_takes_only_exists(runs, where):
    with pytest.raises(InvalidInputError, match=r"version is tested with 'version exists' or 'not version exists'"):
        registry().search_runs(where=where)


def test_version_does_not_order_runs(runs):
    with pytest.raises(InvalidInputError, match="version does not order runs"):
        registry().search_runs(order_by="-version")
    ordered = registry().search_runs(order_by="-`version`", where="exists(`version`)").items
    assert [run.model_run_info["label"] for run in ordered] == ["logged", "other"]  # ties by creation


def test_the_rest_search_takes_version_exists(db, tmp_path):
    """``db`` is SQLite and PostgreSQL: the runs are made on the database, then searched over REST."""
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"weights")
    registered, _ = registry().create_run(model_run_info={"n": 1}, model_name="counter")
    registry().create_run(model_run_info={"n": 2}, model_name="counter")
    registry().log_artifact_file(run_id=registered.id, path=weights, name="best.pt")
    registry().register_model_version(run_id=registered.id, artifact_name="best.pt")
    client = TestClient(create_app(), raise_server_exceptions=False)

    found = client.get("/api/model_runs", params={"where": "version exists"})
    assert found.status_code == 200, found.text
    assert [run["id"] for run in found.json()] == [str(registered.id)]
    assert [run["model_run_info"]["n"] for run in client.get("/api/model_runs?where=not%20version%20exists").json()] == [2]
    refused = client.get("/api/model_runs", params={"where": "version = 1"})
    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_input" and "version exists" in refused.json()["detail"]
