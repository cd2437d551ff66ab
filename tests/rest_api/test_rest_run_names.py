"""A run's name over REST: ``run_name`` in every run answer, given with ``POST /api/model_runs/start``,
changed and removed with ``PATCH /api/model_runs/{id}``, searched with ``where=name ...``."""

import uuid

from tests.rest_api.conftest import assert_error, create_run

MISSING = str(uuid.UUID(int=1))


def start(client, **body) -> dict:
    response = client.post("/api/model_runs/start", json={"model_run_info": {}, **body})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_run_answer_carries_its_name_in_the_list_and_the_detail(client):
    named = start(client, model_name="detector", run_name="train2")
    unnamed = create_run(client, {"n": 1}, model_name="detector")
    assert (named["run_name"], unnamed["run_name"]) == ("train2", None)
    assert client.get(f"/api/model_runs/{named['id']}").json()["run_name"] == "train2"
    listed = {run["id"]: run["run_name"] for run in client.get("/api/model_runs").json()}
    assert listed == {named["id"]: "train2", unnamed["id"]: None}
    by_model = client.get("/api/model_runs", params={"model_name": "detector"}).json()
    assert [run["run_name"] for run in by_model] == ["train2", None]


def test_patch_sets_changes_and_removes_the_name(client):
    run = create_run(client, {"n": 1})
    renamed = client.patch(f"/api/model_runs/{run['id']}", json={"run_name": "baseline"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["run_name"] == "baseline" and renamed.json()["model_run_info"] == {"n": 1}
    assert client.get(f"/api/model_runs/{run['id']}").json()["run_name"] == "baseline"
    cleared = client.patch(f"/api/model_runs/{run['id']}", json={"run_name": None})
    assert cleared.status_code == 200 and cleared.json()["run_name"] is None
    assert client.get(f"/api/model_runs/{run['id']}").json()["run_name"] is None


def test_patching_the_info_alone_keeps_the_name(client):
    run = start(client, run_name="train2")
    response = client.patch(f"/api/model_runs/{run['id']}", json={"model_run_info": {"n": 2}})
    assert response.status_code == 200, response.text
    assert response.json()["run_name"] == "train2" and response.json()["model_run_info"] == {"n": 2}


def test_patch_with_both_replaces_the_info_and_renames(client):
    run = create_run(client, {"n": 1})
    response = client.patch(f"/api/model_runs/{run['id']}", json={"model_run_info": {"n": 2}, "run_name": "both"})
    assert response.status_code == 200, response.text
    assert (response.json()["model_run_info"], response.json()["run_name"]) == ({"n": 2}, "both")


def test_a_bad_name_is_422_and_changes_neither_the_name_nor_the_info(client):
    run = start(client, run_name="kept", model_run_info={"n": 1})
    for bad in ("", "a\nb", "x" * 256):
        response = client.patch(f"/api/model_runs/{run['id']}", json={"model_run_info": {"n": 2}, "run_name": bad})
        assert_error(response, 422, "invalid_input", "run_name")
    stored = client.get(f"/api/model_runs/{run['id']}").json()
    assert (stored["run_name"], stored["model_run_info"]) == ("kept", {"n": 1})


def test_a_name_that_is_not_text_is_422(client):
    run = create_run(client, {"n": 1})
    assert client.patch(f"/api/model_runs/{run['id']}", json={"run_name": 3}).status_code == 422
    assert client.post("/api/model_runs/start", json={"run_name": ["x"]}).status_code == 422


def test_a_bad_name_at_start_is_422_and_starts_nothing(client):
    assert_error(client.post("/api/model_runs/start", json={"run_name": "tab\there"}), 422, "invalid_input", "U+0009")
    assert client.get("/api/model_runs").json() == []


def test_patch_with_nothing_to_change_is_422(client):
    run = create_run(client, {"n": 1})
    assert_error(client.patch(f"/api/model_runs/{run['id']}", json={}), 422, "invalid_input", "nothing to update")
    response = client.patch(f"/api/model_runs/{run['id']}", json={"model_run_info": None})
    assert_error(response, 422, "invalid_input", "nothing to update")


def test_renaming_a_missing_run_is_404(client):
    assert_error(client.patch(f"/api/model_runs/{MISSING}", json={"run_name": "x"}), 404, "not_found", MISSING)


def test_where_searches_by_name(client):
    start(client, run_name="train")
    start(client, run_name="train2")
    start(client, run_name="yolo-best")
    found = client.get("/api/model_runs", params={"where": 'name glob "train*"', "order_by": "-name"})
    assert found.status_code == 200, found.text
    assert [run["run_name"] for run in found.json()] == ["train2", "train"]
    assert int(found.headers["X-Total-Count"]) == 2
