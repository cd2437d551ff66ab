"""``/api/model_runs``: every operation, its not-found, conflict and malformed-input cases."""

import uuid

import pytest

from gemini.registry import registry
from tests.rest_api.conftest import assert_error, create_model, create_run, next_link, total

MISSING = str(uuid.UUID(int=1))


def test_create_returns_201_then_200_for_the_same_info(client):
    create_model(client)
    first = client.post("/api/model_runs", json={"model_run_info": {"epoch": 1}, "model_name": "stand-counter"})
    again = client.post("/api/model_runs", json={"model_run_info": {"epoch": 1.0}, "model_name": "stand-counter"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["model_id"] == client.get("/api/models/all").json()[0]["id"]


def test_create_without_a_model_or_info(client):
    response = client.post("/api/model_runs", json={})
    assert response.status_code == 201
    assert response.json()["model_id"] is None
    assert response.json()["model_run_info"] == {}


def test_create_for_a_new_model_name_creates_the_model_and_the_run_under_it(client):
    response = client.post("/api/model_runs", json={"model_run_info": {"a": 1}, "model_name": "nope"})
    assert response.status_code == 201, response.text
    assert response.json()["model_id"] == str(registry().get_model_by_name(model_name="nope").id)


@pytest.mark.parametrize("bad_name", ["", "x" * 256, "a\x00b"])
def test_create_with_an_invalid_model_name_is_422_and_writes_nothing(client, bad_name):
    response = client.post("/api/model_runs", json={"model_run_info": {"a": 1}, "model_name": bad_name})
    assert_error(response, 422, "invalid_input", "model_name")
    assert registry().count_runs() == 0
    assert registry().search_models(limit=0, with_total=True).total == 0


def test_get_roundtrips_info(client):
    info = {"params": {"lr": 0.001, "layers": [64, 32]}, "note": "première", "ok": True, "none": None}
    run = create_run(client, info)
    response = client.get(f"/api/model_runs/{run['id']}")
    assert response.status_code == 200
    assert response.json() == run
    assert response.json()["model_run_info"] == info


def test_get_unknown_is_404_naming_the_id(client):
    assert_error(client.get(f"/api/model_runs/{MISSING}"), 404, "not_found", MISSING)


def test_malformed_id_is_422_naming_the_parameter(client):
    assert_error(client.get("/api/model_runs/not-a-uuid"), 422, "invalid_input", "run_id")
    assert_error(client.delete("/api/model_runs/12"), 422, "invalid_input", "run_id")


def test_list_pages_and_counts(client):
    ids = [create_run(client, {"epoch": epoch})["id"] for epoch in range(5)]
    response = client.get("/api/model_runs", params={"limit": 2, "offset": 1})
    assert [run["id"] for run in response.json()] == ids[1:3]
    assert total(response) == 5


def test_list_filters_by_model_and_info_containment(client):
    create_model(client, "a")
    create_model(client, "b")
    wanted = create_run(client, {"dataset": "plot-7", "tags": ["final", "v2"]}, "a")
    create_run(client, {"dataset": "plot-7", "tags": ["draft"]}, "a")
    create_run(client, {"dataset": "plot-7", "tags": ["final"]}, "b")
    response = client.get("/api/model_runs", params={"model_name": "a", "model_run_info": '{"tags": ["final"]}'})
    assert response.status_code == 200
    assert response.json() == [wanted]
    assert total(response) == 1 and next_link(response) is None


def test_search_with_where_and_order_by(client):
    create_model(client, "a")
    for lr, score in [(0.1, 0.5), (0.01, 0.9), (0.001, 0.7), (0.02, 0.95)]:
        create_run(client, {"params": {"lr": lr}, "metrics": {"map50": score}}, "a")
    response = client.get(
        "/api/model_runs", params={"where": "params.lr < 0.05", "order_by": "-metrics.map50", "model_name": "a"}
    )
    assert response.status_code == 200
    assert [run["model_run_info"]["metrics"]["map50"] for run in response.json()] == [0.95, 0.9, 0.7]
    assert total(response) == 3


def test_cursor_pages_walk_every_match_once(client):
    for epoch in range(5):
        create_run(client, {"epoch": epoch})
    seen, url = [], "/api/model_runs?limit=2&order_by=-epoch"
    while url is not None:
        response = client.get(url)
        seen += [run["model_run_info"]["epoch"] for run in response.json()]
        url = next_link(response)
        assert url is None or "cursor=" in url
    assert seen == [4, 3, 2, 1, 0]


def test_malformed_where_order_and_cursor_are_422(client):
    assert_error(client.get("/api/model_runs", params={"where": "params.lr <"}), 422, "invalid_input", "where")
    assert_error(client.get("/api/model_runs", params={"order_by": "-"}), 422, "invalid_input", "order_by")
    assert_error(client.get("/api/model_runs", params={"cursor": "not-a-cursor"}), 422, "invalid_input")
    response = client.get("/api/model_runs", params={"cursor": "x", "offset": 3})
    assert_error(response, 422, "invalid_input", "offset")


def test_list_with_an_unknown_model_is_404(client):
    assert_error(client.get("/api/model_runs", params={"model_name": "ghost"}), 404, "not_found", "ghost")


def test_list_filters_by_model_id_and_pages_by_cursor(client):
    model = create_model(client, "a")
    create_model(client, "b")
    wanted = [create_run(client, {"epoch": epoch}, "a") for epoch in range(3)]
    create_run(client, {"epoch": 0}, "b")
    create_run(client, {"epoch": 9})
    seen, url = [], f"/api/model_runs?limit=2&model_id={model['id']}"
    first = client.get(url)
    assert total(first) == 3
    while url is not None:
        response = client.get(url)
        seen += response.json()
        url = next_link(response)
        assert url is None or ("cursor=" in url and f"model_id={model['id']}" in url)
    assert seen == wanted


def test_list_with_an_unknown_or_malformed_model_id_is_404_or_422(client):
    missing = str(uuid.UUID(int=7))
    assert_error(client.get("/api/model_runs", params={"model_id": missing}), 404, "not_found")
    assert_error(client.get("/api/model_runs", params={"model_id": "nope"}), 422, "invalid_input", "model_id")


def test_list_with_bad_json_filter_is_422(client):
    response = client.get("/api/model_runs", params={"model_run_info": '{"a":'})
    assert_error(response, 422, "invalid_input", "model_run_info", "not valid JSON")


def test_list_with_non_object_filter_is_422(client):
    response = client.get("/api/model_runs", params={"model_run_info": "[1, 2]"})
    assert_error(response, 422, "invalid_input", "model_run_info", "JSON object")


def test_list_with_out_of_range_page_is_422(client):
    assert_error(client.get("/api/model_runs", params={"limit": -1}), 422, "invalid_input", "limit")
    assert_error(client.get("/api/model_runs", params={"limit": 100_000}), 422, "invalid_input", "limit")
    assert_error(client.get("/api/model_runs", params={"offset": "x"}), 422, "invalid_input", "offset")


def test_patch_replaces_info(client):
    run = create_run(client, {"epoch": 1, "lr": 0.1})
    response = client.patch(f"/api/model_runs/{run['id']}", json={"model_run_info": {"epoch": 2}})
    assert response.status_code == 200
    assert response.json()["model_run_info"] == {"epoch": 2}
    assert client.get(f"/api/model_runs/{run['id']}").json()["model_run_info"] == {"epoch": 2}


def test_patch_colliding_with_another_run_is_409_and_changes_nothing(client):
    create_model(client)
    first = create_run(client, {"epoch": 1}, "stand-counter")
    second = create_run(client, {"epoch": 2}, "stand-counter")
    response = client.patch(f"/api/model_runs/{second['id']}", json={"model_run_info": {"epoch": 1}})
    assert_error(response, 409, "conflict", first["id"])
    assert client.get(f"/api/model_runs/{second['id']}").json()["model_run_info"] == {"epoch": 2}


def test_patch_without_info_is_422(client):
    run = create_run(client, {})
    assert_error(client.patch(f"/api/model_runs/{run['id']}", json={}), 422, "invalid_input", "model_run_info")


def test_patch_unknown_is_404(client):
    assert_error(client.patch(f"/api/model_runs/{MISSING}", json={"model_run_info": {}}), 404, "not_found")


def test_delete_then_get_is_404(client):
    run = create_run(client, {"epoch": 1})
    assert client.delete(f"/api/model_runs/{run['id']}").status_code == 204
    assert_error(client.get(f"/api/model_runs/{run['id']}"), 404, "not_found")
    assert_error(client.delete(f"/api/model_runs/{run['id']}"), 404, "not_found")


def test_model_association_lifecycle(client):
    model = create_model(client)
    run = create_run(client, {"epoch": 1})
    assert_error(client.get(f"/api/model_runs/{run['id']}/model"), 404, "not_found", "not associated")

    put = client.put(f"/api/model_runs/{run['id']}/model", json={"model_name": "stand-counter"})
    assert put.status_code == 200
    assert put.json()["id"] == model["id"]
    assert client.get(f"/api/model_runs/{run['id']}/model").json()["model_name"] == "stand-counter"
    assert client.get(f"/api/model_runs/{run['id']}").json()["model_id"] == model["id"]

    assert client.delete(f"/api/model_runs/{run['id']}/model").status_code == 204
    assert client.get(f"/api/model_runs/{run['id']}").json()["model_id"] is None
    assert_error(client.delete(f"/api/model_runs/{run['id']}/model"), 404, "not_found", "not associated")


def test_associate_with_unknown_model_is_404(client):
    run = create_run(client, {})
    response = client.put(f"/api/model_runs/{run['id']}/model", json={"model_name": "ghost"})
    assert_error(response, 404, "not_found", "ghost")


def test_associate_colliding_run_is_409_and_changes_nothing(client):
    create_model(client)
    create_run(client, {"epoch": 1}, "stand-counter")
    loose = create_run(client, {"epoch": 1})
    response = client.put(f"/api/model_runs/{loose['id']}/model", json={"model_name": "stand-counter"})
    assert_error(response, 409, "conflict")
    assert client.get(f"/api/model_runs/{loose['id']}").json()["model_id"] is None


def test_unassociate_colliding_run_is_409(client):
    create_model(client)
    create_run(client, {"epoch": 1})
    owned = create_run(client, {"epoch": 1}, "stand-counter")
    assert_error(client.delete(f"/api/model_runs/{owned['id']}/model"), 409, "conflict")
    assert client.get(f"/api/model_runs/{owned['id']}").json()["model_id"] is not None


def test_every_run_read_carries_its_models_name(client):
    create_model(client, "a")
    created = create_run(client, {"epoch": 1}, "a")
    unassigned = create_run(client, {"epoch": 2})
    assert created["model_name"] == "a" and unassigned["model_name"] is None
    assert client.get(f"/api/model_runs/{created['id']}").json()["model_name"] == "a"
    listed = client.get("/api/model_runs", params={"order_by": "epoch"}).json()
    assert [run["model_name"] for run in listed] == ["a", None]
    searched = client.get("/api/model_runs", params={"where": "epoch = 1"}).json()
    assert [run["model_name"] for run in searched] == ["a"]
