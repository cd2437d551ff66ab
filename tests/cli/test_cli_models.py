"""``gemini models`` and ``gemini experiments``."""

import uuid

import pytest


@pytest.fixture
def db(registry_url) -> str:
    """These commands work the same on SQLite, on PostgreSQL and through a server (``GEMINI_API_URL``)."""
    return registry_url


def test_create_show_by_name_and_id(gemini):
    model = gemini.json("models", "create", "stand-counter", "--url", "https://x.org/sc", "--info", '{"task": "count"}')
    assert model["model_info"] == {"task": "count"}
    assert gemini.json("models", "show", "stand-counter") == model
    assert gemini.json("models", "show", model["id"]) == model
    shown = gemini.ok("models", "show", "stand-counter").stdout
    assert "https://x.org/sc" in shown and '"task": "count"' in shown


def test_create_twice_leaves_the_model_unchanged(gemini):
    first = gemini.json("models", "create", "m", "--info", '{"v": 1}')
    again = gemini("models", "create", "m", "--info", '{"v": 2}', "--json")
    assert "already exists" in again.stderr
    assert gemini.json("models", "show", "m") == first


def test_list_and_filters(gemini):
    gemini.ok("experiments", "create", "Davis 2024")
    gemini.ok("models", "create", "a", "--info", '{"crop": "maize"}', "--experiment", "Davis 2024")
    gemini.ok("models", "create", "b", "--info", '{"crop": "rice"}')
    assert len(gemini.json("models", "list")) == 2
    assert [m["model_name"] for m in gemini.json("models", "list", "--info", '{"crop": "rice"}')] == ["b"]
    assert [m["model_name"] for m in gemini.json("models", "list", "--experiment", "Davis 2024")] == ["a"]
    assert [m["model_name"] for m in gemini.json("models", "list", "--name", "a")] == ["a"]
    table = gemini.ok("models", "list").stdout.splitlines()
    assert table[0].split() == ["ID", "NAME", "URL", "INFO", "CREATED"] and len(table) == 3


def test_update(gemini):
    gemini.ok("models", "create", "a")
    gemini.ok("models", "create", "b")
    renamed = gemini.json("models", "update", "a", "--name", "a2", "--url", "https://x.org/a2")
    assert (renamed["model_name"], renamed["model_url"]) == ("a2", "https://x.org/a2")
    assert "'b'" in gemini.fails("models", "update", "a2", "--name", "b")
    assert "nothing to update" in gemini.fails("models", "update", "a2")
    assert gemini.json("models", "show", "a2")["model_name"] == "a2"


def test_delete_takes_the_runs(gemini):
    gemini.ok("models", "create", "a")
    run = gemini.json("runs", "create", "{}", "--model", "a")
    assert "deleted model 'a'" in gemini.ok("models", "delete", "a").stderr
    assert "no model named 'a'" in gemini.fails("models", "show", "a")
    assert run["id"] in gemini.fails("runs", "show", run["id"])


def test_unknown_models(gemini):
    assert "no model named 'ghost'" in gemini.fails("models", "show", "ghost")
    missing = str(uuid.UUID(int=9))
    assert missing in gemini.fails("models", "delete", missing)
    assert "experiment_name" in gemini.fails("models", "create", "m", "--experiment", "")
    assert len(gemini.json("models", "list")) == 0


def test_experiments(gemini):
    created = gemini.json("experiments", "create", "Davis 2024", "--info", '{"site": "Davis"}')
    assert created["experiment_info"] == {"site": "Davis"}
    listed = gemini.json("experiments", "list")
    assert listed == [created]
    assert "Davis 2024" in gemini.ok("experiments", "list").stdout
    gemini.ok("models", "create", "m", "--experiment", "Davis 2024")
    assert "deleted experiment" in gemini.ok("experiments", "delete", "Davis 2024").stderr
    assert len(gemini.json("experiments", "list")) == 0
    assert gemini.json("models", "show", "m")["model_name"] == "m"
    assert "no experiment named" in gemini.fails("experiments", "delete", "Davis 2024")


def test_create_in_a_new_experiment_creates_it(gemini):
    gemini.ok("models", "create", "m", "--experiment", "new-experiment")
    assert len(gemini.json("models", "list", "--experiment", "new-experiment")) == 1
