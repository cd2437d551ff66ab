"""GEMINI's documented example sequences replayed over REST on an empty registry, against the real app:
the same steps as tests/api/test_gemini_examples.py, each answering what GEMINI's documentation prints."""

from gemini.registry import registry


def test_model_api_example_starts_with_a_new_experiment_name(client):
    created = client.post(
        "/api/models",
        json={
            "model_name": "Model A",
            "model_url": "https://example.com/model_a",
            "model_info": {"test": "test"},
            "experiment_name": "Experiment A",
        },
    )
    assert created.status_code == 201, created.text
    model = created.json()
    assert (model["model_name"], model["model_url"], model["model_info"]) == (
        "Model A", "https://example.com/model_a", {"test": "test"}
    )
    assert [e["experiment_name"] for e in client.get(f"/api/models/{model['id']}/experiments").json()] == [
        "Experiment A"
    ]
    assert client.get(f"/api/models/{model['id']}").json() == model

    updated = client.patch(f"/api/models/{model['id']}", json={"model_url": "https://example.com/model_a_updated"})
    assert updated.json()["model_url"] == "https://example.com/model_a_updated"
    info = client.patch(f"/api/models/{model['id']}", json={"model_info": {"test": "test_updated"}})
    assert info.json()["model_info"] == {"test": "test_updated"}
    assert client.get(f"/api/models/{model['id']}").json()["model_info"] == {"test": "test_updated"}
    assert client.delete(f"/api/models/{model['id']}").status_code == 204
    assert client.get(f"/api/models/{model['id']}").status_code == 404
    assert registry().search_experiments(limit=0, with_total=True).total == 1


def test_model_run_api_example_starts_with_a_new_model_name(client):
    created = client.post("/api/model_runs", json={"model_run_info": {"test": "test"}, "model_name": "Model A"})
    assert created.status_code == 201, created.text
    run = created.json()
    model = registry().get_model_by_name(model_name="Model A")
    assert (run["model_id"], run["model_run_info"]) == (str(model.id), {"test": "test"})
    assert client.get(f"/api/model_runs/{run['id']}").json() == run

    updated = client.patch(f"/api/model_runs/{run['id']}", json={"model_run_info": {"test": "test_updated"}})
    assert (updated.json()["model_id"], updated.json()["model_run_info"]) == (str(model.id), {"test": "test_updated"})
    assert client.get(f"/api/model_runs/{run['id']}").json()["model_run_info"] == {"test": "test_updated"}
    again = client.post("/api/model_runs", json={"model_run_info": {"test": "test_updated"}, "model_name": "Model A"})
    assert (again.status_code, again.json()["id"]) == (200, run["id"])
    assert client.delete(f"/api/model_runs/{run['id']}").status_code == 204
    assert client.get(f"/api/model_runs/{run['id']}").status_code == 404


def test_model_to_model_run_example(client):
    model = client.post("/api/models", json={"model_name": "Model A", "experiment_name": "Experiment A"}).json()
    run = client.post(f"/api/models/{model['id']}/runs", json={"model_run_info": {"test": "test"}})
    assert run.status_code == 201, run.text
    assert run.json()["model_id"] == model["id"]
    assert [r["id"] for r in client.get(f"/api/models/{model['id']}/runs").json()] == [run.json()["id"]]


def test_model_run_to_model_example_associates_and_unassociates(client):
    model = client.post("/api/models", json={"model_name": "Model A", "experiment_name": "Experiment A"}).json()
    run = client.post("/api/model_runs", json={"model_run_info": {"test": "test"}, "model_name": "Model B"}).json()
    model_b = client.get(f"/api/model_runs/{run['id']}/model").json()
    assert (model_b["model_name"], run["model_id"]) == ("Model B", model_b["id"])

    associated = client.put(f"/api/model_runs/{run['id']}/model", json={"model_name": "Model A"})
    assert associated.json() == model
    assert client.get(f"/api/model_runs/{run['id']}").json()["model_id"] == model["id"]
    assert client.get(f"/api/model_runs/{run['id']}/model").json() == model

    assert client.delete(f"/api/model_runs/{run['id']}/model").status_code == 204
    assert client.get(f"/api/model_runs/{run['id']}").json()["model_id"] is None
    assert client.get(f"/api/model_runs/{run['id']}/model").status_code == 404


def test_associating_with_a_missing_model_stays_404_and_creates_nothing(client):
    run = client.post("/api/model_runs", json={"model_run_info": {"test": "test"}}).json()
    assert client.put(f"/api/model_runs/{run['id']}/model", json={"model_name": "Model B"}).status_code == 404
    assert client.get("/api/model_runs", params={"model_name": "Model B"}).status_code == 404
    assert registry().search_models(limit=0, with_total=True).total == 0
