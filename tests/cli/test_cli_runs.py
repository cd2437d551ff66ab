"""``gemini runs``."""

import json
import uuid

import pytest


@pytest.fixture
def db(registry_url) -> str:
    """These commands work the same on SQLite, on PostgreSQL and through a server (``GEMINI_API_URL``)."""
    return registry_url

MISSING = str(uuid.UUID(int=5))


def test_create_show_and_repeat(gemini):
    gemini.ok("models", "create", "stand-counter")
    run = gemini.json("runs", "create", '{"epoch": 3, "lr": 0.001}', "--model", "stand-counter")
    assert run["model_run_info"] == {"epoch": 3, "lr": 0.001}
    again = gemini("runs", "create", '{"lr": 0.001, "epoch": 3.0}', "--model", "stand-counter")
    assert "already has this info" in again.stderr
    assert gemini.json("runs", "show", run["id"]) == run


def test_human_output(gemini):
    gemini.ok("models", "create", "stand-counter")
    created = gemini.ok("runs", "create", '{"epoch": 3}', "--model", "stand-counter")
    assert "recorded model run" in created.stderr
    assert "stand-counter" in created.stdout and '"epoch": 3' in created.stdout
    table = gemini.ok("runs", "list").stdout.splitlines()
    assert table[0].split() == ["ID", "NAME", "MODEL", "INFO", "CREATED"]
    assert "stand-counter" in table[1] and '{"epoch":3}' in table[1]


def test_info_from_a_file_and_from_stdin(gemini, tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"dataset": "plot-7", "note": "première"}), encoding="utf-8")
    from_file = gemini.json("runs", "create", f"@{path}")
    assert from_file["model_run_info"] == {"dataset": "plot-7", "note": "première"}
    from_stdin = gemini.json("runs", "create", "@-", input='{"dataset": "plot-8"}')
    assert from_stdin["model_run_info"] == {"dataset": "plot-8"}


def test_list_search_and_pages(gemini):
    gemini.ok("models", "create", "a")
    for epoch in range(3):
        gemini.ok("runs", "create", json.dumps({"epoch": epoch, "tags": ["final"] if epoch else []}), "--model", "a")
    gemini.ok("runs", "create", '{"epoch": 1}')
    everything = gemini.json("runs", "list")
    assert len(everything) == 4
    page = gemini.json("runs", "list", "--limit", "2", "--offset", "1")
    assert [run["id"] for run in page] == [run["id"] for run in everything[1:3]]
    assert len(gemini.json("runs", "list", "--model", "a")) == 3
    found = gemini.json("runs", "search", '{"tags": ["final"]}', "--model", "a")
    assert [run["model_run_info"]["epoch"] for run in found] == [1, 2]
    assert len(gemini.json("runs", "search", '{"epoch": 1}')) == 2
    more = gemini.ok("runs", "list", "--limit", "1")
    assert "1-1 of 4" in more.stderr
    as_json = gemini.ok("runs", "search", '{"epoch": 1}', "--limit", "1", "--offset", "1", "--json")
    assert [run["model_run_info"] for run in json.loads(as_json.stdout)] == [{"epoch": 1}]
    assert "2-2 of 2" in as_json.stderr


def test_search_with_where_and_order(gemini):
    for lr, score in [(0.1, 0.5), (0.01, 0.9), (0.001, 0.7)]:
        gemini.ok("runs", "create", json.dumps({"params": {"lr": lr}, "metrics": {"map50": score}}))
    found = gemini.json("runs", "search", "--where", "params.lr < 0.05", "--order-by", "-metrics.map50")
    assert [run["model_run_info"]["metrics"]["map50"] for run in found] == [0.9, 0.7]
    assert len(found) == 2
    assert "where" in gemini.fails("runs", "search", "--where", "params.lr <")
    assert "PATTERN, --where or --model" in gemini.fails("runs", "search")


def test_update_and_conflict(gemini):
    gemini.ok("models", "create", "a")
    first = gemini.json("runs", "create", '{"epoch": 1}', "--model", "a")
    second = gemini.json("runs", "create", '{"epoch": 2}', "--model", "a")
    assert gemini.json("runs", "update", second["id"], '{"epoch": 5}')["model_run_info"] == {"epoch": 5}
    message = gemini.fails("runs", "update", second["id"], '{"epoch": 1}')
    assert first["id"] in message
    assert gemini.json("runs", "show", second["id"])["model_run_info"] == {"epoch": 5}


def test_associate_and_unassociate(gemini):
    model = gemini.json("models", "create", "a")
    run = gemini.json("runs", "create", '{"epoch": 1}')
    moved = gemini("runs", "associate", run["id"], "a", "--json")
    assert json.loads(moved.stdout)["model_id"] == model["id"]
    assert "now belongs to model 'a'" in moved.stderr
    assert gemini.json("runs", "unassociate", run["id"])["model_id"] is None
    assert "not associated" in gemini.fails("runs", "unassociate", run["id"])
    assert "no model named 'b'" in gemini.fails("runs", "associate", run["id"], "b")


def test_delete(gemini):
    run = gemini.json("runs", "create", "{}")
    assert "deleted" in gemini.ok("runs", "delete", run["id"]).stderr
    assert run["id"] in gemini.fails("runs", "show", run["id"])
    assert run["id"] in gemini.fails("runs", "delete", run["id"])


def test_failures_are_one_line_and_write_nothing(gemini, tmp_path):
    assert "model_name" in gemini.fails("runs", "create", "{}", "--model", "")
    assert "INFO is not valid JSON" in gemini.fails("runs", "create", "{bad")
    assert "must be a JSON object" in gemini.fails("runs", "create", "[1, 2]")
    assert "cannot read INFO file" in gemini.fails("runs", "create", f"@{tmp_path / 'missing.json'}")
    assert "not a valid UUID" in gemini.fails("runs", "show", "nope")
    assert MISSING in gemini.fails("runs", "show", MISSING)
    assert "--info is not valid JSON" in gemini.fails("runs", "list", "--info", "{")
    assert len(gemini.json("runs", "list")) == 0


def test_info_over_the_limit_is_refused(gemini, monkeypatch):
    monkeypatch.setenv("GEMINI_MAX_INFO_BYTES", "50")
    assert "limit is 50 bytes" in gemini.fails("runs", "create", json.dumps({"text": "x" * 100}))
    assert len(gemini.json("runs", "list")) == 0


def test_usage_errors_exit_2(gemini):
    assert gemini("runs", "update").exit_code == 2
    assert gemini("runs", "frobnicate").exit_code == 2


def test_create_with_a_new_model_name_creates_the_model(gemini):
    run = gemini.json("runs", "create", '{"epoch": 1}', "--model", "new-model")
    assert run["model_id"] == gemini.json("models", "show", "new-model")["id"]


def test_create_with_a_new_model_name_says_so_on_stderr(gemini):
    result = gemini.ok("runs", "create", '{"epoch": 1}', "--model", "new-model")
    assert "created model 'new-model'" in result.stderr
    assert "created model" not in gemini.ok("runs", "create", '{"epoch": 2}', "--model", "new-model").stderr


def test_import_with_a_new_model_name_creates_the_model_once(gemini, tmp_path):
    lines = tmp_path / "runs.jsonl"
    lines.write_text('{"epoch": 1}\n{"model_name": "other-model", "model_run_info": {"epoch": 2}}\n')
    gemini.ok("runs", "import", str(lines), "--model", "new-model")
    model = gemini.json("models", "show", "new-model")
    assert len(gemini.json("runs", "list", "--model", "new-model")) == 2
    assert "no model named 'other-model'" in gemini.fails("models", "show", "other-model")
    assert model["model_name"] == "new-model"


def test_runs_rename_names_a_run_and_clear_removes_it(gemini):
    run_id = gemini.json("runs", "create", '{"epoch": 1}')["id"]
    assert gemini.json("runs", "rename", run_id, "yolo11n-lr0.02")["run_name"] == "yolo11n-lr0.02"
    found = gemini.json("runs", "search", "--where", 'name = "yolo11n-lr0.02"')
    assert [run["id"] for run in found] == [run_id]
    assert gemini.json("runs", "rename", run_id, "--clear")["run_name"] is None


def test_runs_rename_wants_a_name_or_clear_and_refuses_a_blank_name(gemini):
    run_id = gemini.json("runs", "create", '{"epoch": 2}')["id"]
    assert gemini("runs", "rename", run_id).exit_code == 2
    assert gemini("runs", "rename", run_id, "x", "--clear").exit_code == 2
    assert "blank" in gemini.fails("runs", "rename", run_id, "  ")
