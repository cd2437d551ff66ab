"""Moving a registry SQLite -> PostgreSQL -> SQLite with export/import, and what an import refuses."""

import datetime as dt
import io
import json
import math
import re

import pytest

from gemini.registry import registry
from gemini.core.transfer import export_registry, import_registry
from gemini.domain.errors import InvalidInputError

ODD_INFOS = [
    {"big": 2**64 + 1, "huge": 10**300, "float": 1e300, "one": 1.0, "tiny": 5e-324, "neg": -0.0},
    {"ключ": "значение", "玉米": ["🌽", None, True, False], "quote\"key": "it's \"quoted\"", "sql": "'; DROP TABLE x; --"},
    {"nested": {"deep": [[1, 2], {"a": {"b": [3.5]}}]}, "empty": {}, "list": []},
]


def _populate() -> None:
    registry().create_experiment(experiment_name="trial-2024", experiment_info={"site": "Davis"})
    registry().create_experiment(experiment_name="empty")
    registry().create_model(model_name="detector", model_url="https://example.org/d", experiment_name="trial-2024")
    registry().create_model(model_name="counter", model_info={"arch": "resnet"}, experiment_name="trial-2024")
    registry().create_model(model_name="unused")
    for index, info in enumerate(ODD_INFOS):
        registry().create_run(model_run_info=info, model_name="detector")
        registry().create_run(model_run_info={"n": index}, model_name="counter")
    unassigned, _ = registry().create_run(model_run_info={"unassigned": True})
    registry().create_run(model_run_info={"unassigned": True, "moved": 1})
    registry().replace_run_info(run_id=unassigned.id, model_run_info={"unassigned": True, "updated": 1})
    registry().associate_run(run_id=registry().create_run(model_run_info={"moved": 2})[0].id, model_name="counter")


def _export() -> str:
    stream = io.StringIO()
    export_registry(stream=stream)
    return stream.getvalue()


def _records(export: str) -> list[str]:
    """The export without its header (which carries the time of export)."""
    return export.splitlines()[1:]


def _import(text: str):  # noqa: ANN202
    return import_registry(stream=io.StringIO(text))


def _snapshot() -> tuple:
    """Everything the registry holds, through the core."""
    return (
        registry().search_experiments().items,
        registry().search_models().items,
        {model.model_name: registry().list_model_experiments(model_id=model.id) for model in registry().search_models().items},
        registry().search_runs().items,
    )


@pytest.mark.postgresql
def test_a_registry_moves_sqlite_to_postgresql_and_back_unchanged(tmp_path, new_postgres_database, monkeypatch):
    laptop, server, back = f"sqlite:///{tmp_path / 'laptop.db'}", new_postgres_database(), f"sqlite:///{tmp_path / 'back.db'}"
    monkeypatch.setenv("GEMINI_DATABASE_URL", laptop)
    _populate()
    original, original_export = _snapshot(), _export()

    monkeypatch.setenv("GEMINI_DATABASE_URL", server)
    summary = _import(original_export)
    assert (summary.added.experiments, summary.added.models, summary.added.model_experiments) == (2, 3, 2)
    assert summary.added.model_runs == len(original[3]) == 9
    assert _snapshot() == original
    server_export = _export()
    assert _records(server_export) == _records(original_export)

    monkeypatch.setenv("GEMINI_DATABASE_URL", back)
    _import(server_export)
    assert _snapshot() == original
    assert _records(_export()) == _records(original_export)
    # Odd numbers and strings survived both trips exactly, types included.
    detector_runs = registry().search_runs(model_name="detector").items
    assert [json.dumps(run.model_run_info) for run in detector_runs] == [json.dumps(info) for info in ODD_INFOS]


def test_importing_twice_adds_nothing(db, tmp_path, monkeypatch):
    source = f"sqlite:///{tmp_path / 'source.db'}"
    monkeypatch.setenv("GEMINI_DATABASE_URL", source)
    _populate()
    export = _export()
    monkeypatch.setenv("GEMINI_DATABASE_URL", db)
    first = _import(export)
    state = _snapshot()
    second = _import(export)
    assert vars(second.added) == {
        "experiments": 0, "models": 0, "model_experiments": 0, "model_runs": 0, "metric_points": 0,
        "model_versions": 0, "model_version_aliases": 0, "datasets": 0, "seasons": 0, "sites": 0, "model_records": 0,
    }
    assert second.already_present == first.added
    assert _snapshot() == state


def test_a_model_already_present_by_name_receives_the_runs(db, tmp_path, monkeypatch):
    source = f"sqlite:///{tmp_path / 'source.db'}"
    monkeypatch.setenv("GEMINI_DATABASE_URL", source)
    registry().create_model(model_name="detector")
    moved, _ = registry().create_run(model_run_info={"epoch": 1}, model_name="detector")
    registry().create_run(model_run_info={"epoch": 2}, model_name="detector")
    export = _export()

    monkeypatch.setenv("GEMINI_DATABASE_URL", db)
    local, _ = registry().create_model(model_name="detector", model_info={"local": True})
    registry().create_run(model_run_info={"epoch": 2}, model_name="detector")  # the same run, made here too
    summary = _import(export)
    assert (summary.added.models, summary.already_present.models) == (0, 1)
    assert (summary.added.model_runs, summary.already_present.model_runs) == (1, 1)
    assert registry().get_model_by_name(model_name="detector") == local
    runs = registry().search_runs(model_name="detector").items
    assert sorted(run.model_run_info["epoch"] for run in runs) == [1, 2]
    assert registry().get_run(run_id=moved.id).model_id == local.id


def _valid_export(tmp_path, monkeypatch) -> list[str]:  # noqa: ANN001
    monkeypatch.setenv("GEMINI_DATABASE_URL", f"sqlite:///{tmp_path / 'source.db'}")
    registry().create_model(model_name="m")
    registry().create_run(model_run_info={"a": 1}, model_name="m")
    registry().create_run(model_run_info={"a": 2}, model_name="m")
    return _export().splitlines()


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda lines: [], "the file is empty"),
        (lambda lines: lines[1:], 'line 1: not a gemini registry export'),
        (lambda lines: [lines[0].replace('"version":2', '"version":9')] + lines[1:], "export version 9"),
        (lambda lines: lines + ["{not json"], "line 5: not JSON"),
        (lambda lines: lines + ["[1, 2]"], "line 5: expected a JSON object, got list"),
        (lambda lines: lines + ['{"type": "plot"}'], "line 5: unknown record type 'plot'"),
        (lambda lines: lines[:2] + [lines[2].replace('{"a":1}', '{"a":NaN}')] + lines[3:], "line 3: not JSON|NaN"),
        (lambda lines: lines[:2] + [lines[2].replace('{"a":1}', '"text"')] + lines[3:], "line 3: model_run_info must be a JSON object"),
        (lambda lines: lines[:2] + [lines[2].replace('"id":"', '"id":"zz')] + lines[3:], "line 3: model run id .* is not a valid UUID"),
        (lambda lines: lines[:2] + [lines[2].replace("+00:00", "")] + lines[3:], "line 3: created_at .* UTC offset"),
        (lambda lines: [lines[0]] + lines[2:], "line 2: model .* is neither earlier in the file nor in the database"),
        (lambda lines: lines[:2] + [lines[2].replace('"model_id"', '"modelid"')] + lines[3:], "line 3: model_run record: missing model_id; unknown modelid"),
        (lambda lines: lines + [lines[1].replace('"model_name":"m"', '"model_name":""')], "line 5: model_name must not be empty"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line_and_writes_nothing(db, tmp_path, monkeypatch, corrupt, message):
    lines = _valid_export(tmp_path, monkeypatch)
    monkeypatch.setenv("GEMINI_DATABASE_URL", db)
    registry().create_model(model_name="other")
    before = _snapshot()
    with pytest.raises(InvalidInputError, match=message):
        _import("\n".join(corrupt(lines)) + "\n")
    assert _snapshot() == before


# -- the command line ------------------------------------------------------------------------------------


def _gemini(*args: str, input: str | None = None):  # noqa: ANN202
    from click.testing import CliRunner

    from gemini.cli.main import cli

    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_gemini_db_export_and_import_move_a_registry(db, tmp_path, monkeypatch):
    monkeypatch.setenv("GEMINI_DATABASE_URL", f"sqlite:///{tmp_path / 'source.db'}")
    _populate()
    original = _snapshot()
    path = tmp_path / "registry.jsonl"
    exported = _gemini("db", "export", str(path))
    assert exported.exit_code == 0, exported.stderr
    assert "exported 2 experiments, 3 models, 2 model-experiment links, 9 model runs" in exported.stderr
    assert _records(_gemini("db", "export").stdout) == _records(path.read_text(encoding="utf-8"))

    monkeypatch.setenv("GEMINI_DATABASE_URL", db)
    first = _gemini("db", "import", str(path))
    assert first.exit_code == 0, first.stderr
    assert "added 2 experiments, 3 models, 2 model-experiment links, 9 model runs" in first.stderr
    again = _gemini("db", "import", "-", input=path.read_text(encoding="utf-8"))
    assert "added 0 experiments, 0 models, 0 model-experiment links, 0 model runs" in again.stderr
    assert _snapshot() == original


def test_gemini_db_import_of_a_bad_file_fails_with_one_line_and_writes_nothing(db, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"format": "gemini-registry", "version": 1}\n{"type": "model_run", "id": 1}\n', encoding="utf-8")
    result = _gemini("db", "import", str(path))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: line 2: model_run record: missing model_id, model_run_info, created_at, updated_at"
    ]
    assert registry().count_runs() == 0


def test_gemini_db_export_to_a_missing_directory_and_import_of_a_missing_file_fail_clearly(db, tmp_path):
    exported = _gemini("db", "export", str(tmp_path / "no" / "such" / "dir.jsonl"))
    assert exported.exit_code == 1
    assert exported.stderr.startswith("Error: Could not open file") and len(exported.stderr.splitlines()) == 1
    imported = _gemini("db", "import", str(tmp_path / "missing.jsonl"))
    assert imported.exit_code == 2
    assert "missing.jsonl': No such file or directory" in imported.stderr


@pytest.mark.parametrize("existing", [None, "the export of yesterday\n"])
def test_an_export_that_fails_midway_leaves_the_file_as_it_was(db, tmp_path, monkeypatch, existing):
    from gemini.domain.errors import DatabaseUnavailableError
    from gemini.registry.front import CheckedRegistry

    _populate()
    target = tmp_path / "registry.jsonl"
    if existing is not None:
        target.write_text(existing)
    real_export = CheckedRegistry.export_registry

    def export_then_fail(self, *, stream):
        real_export(self, stream=stream)  # every line written, then the database goes away
        raise DatabaseUnavailableError("database unavailable: the connection was lost")

    monkeypatch.setattr(CheckedRegistry, "export_registry", export_then_fail)
    result = _gemini("db", "export", str(target))
    assert result.exit_code == 1
    assert "the connection was lost" in result.stderr
    assert (target.read_text() if target.exists() else None) == existing  # whole or nothing
    assert sorted(path.name for path in tmp_path.iterdir()) == ([] if existing is None else ["registry.jsonl"])


def _populate_tracked():

    running = registry().start_run(model_run_info={"lr": 0.1}, model_name="detector", created_by="alice")
    failed = registry().start_run(model_run_info={"lr": 0.1}, model_name="detector", created_by="bob")
    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)
    points = [("loss", step, value, now + dt.timedelta(seconds=step)) for step, value in enumerate([0.9, math.nan, math.inf, -math.inf, 0.5])]
    points += [("metrics/mAP50(B)", step, step / 2000, now) for step in range(2500)]  # more than one line's worth
    registry().log_batch(run_id=failed.id, batch_id="b1", points=points)
    registry().end_run(run_id=failed.id, status="failed", error_type="RuntimeError", error_message="diverged")
    return running.id, failed.id


def _tracked_state(run_ids):

    state = []
    for run_id in run_ids:
        run = registry().get_run(run_id=run_id)
        histories = {key: [(p.step, repr(p.value), p.timestamp) for p in registry().metric_history(run_id=run_id, key=key).points()] for key in registry().metric_summaries(run_id=run_id)}
        state.append((run, registry().metric_summaries(run_id=run_id), histories))
    return state


def test_tracked_runs_move_with_their_status_author_and_metric_points(db, tmp_path, monkeypatch):
    source = f"sqlite:///{tmp_path / 'source.db'}"
    monkeypatch.setenv("GEMINI_DATABASE_URL", source)
    run_ids = _populate_tracked()
    expected = _tracked_state(run_ids)
    export = _export()
    assert sum(json.loads(line).get("type") == "metric_points" for line in _records(export)) == 4  # 1 + 3 lines

    monkeypatch.setenv("GEMINI_DATABASE_URL", db)
    first = _import(export)
    assert (first.added.model_runs, first.added.metric_points) == (2, 2505)
    moved = _tracked_state(run_ids)
    assert moved == expected
    assert [run.status for run, _, _ in moved] == ["running", "failed"]  # the running run reads lost once its heartbeat is old
    assert [run.created_by for run, _, _ in moved] == ["alice", "bob"]

    second = _import(export)
    assert (second.added.model_runs, second.added.metric_points) == (0, 0)
    assert second.already_present.metric_points == 2505
    assert _tracked_state(run_ids) == expected


def test_a_version_1_file_still_imports(db):
    header = '{"format": "gemini-registry", "version": 1, "exported_at": "2026-01-01T00:00:00+00:00"}'
    run = '{"type": "model_run", "id": "01a2205f-b32f-73e7-91b2-2a0f927874d8", "model_id": null, "model_run_info": {"kept": true}, "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00"}'
    assert _import(f"{header}\n{run}\n").added.model_runs == 1
    assert [(r.model_run_info, r.status) for r in registry().search_runs().items] == [({"kept": True}, None)]


@pytest.mark.parametrize(
    "points, message",
    [
        ([[0, "1.0", "2026-01-01T00:00:00+00:00"]], "must be a real number"),
        ([[0, 10**400, "2026-01-01T00:00:00+00:00"]], "too large for a float"),
        ([[-1, 1.0, "2026-01-01T00:00:00+00:00"]], "step"),
        ([[0, 1.0, "2026-01-01T00:00:00+00:00"], [0, 2.0, "2026-01-01T00:00:00+00:00"]], "given twice"),
        ([[0, 1.0]], "[step, value, timestamp]"),
    ],
)
def test_a_bad_metric_points_line_names_its_line_and_writes_nothing(db, tmp_path, monkeypatch, points, message):
    source = f"sqlite:///{tmp_path / 'source.db'}"
    monkeypatch.setenv("GEMINI_DATABASE_URL", source)
    _populate_tracked()
    lines = _export().splitlines()
    run_id = json.loads(next(line for line in lines if '"metric_points"' in line))["run_id"]
    lines.append(json.dumps({"type": "metric_points", "run_id": run_id, "key": "extra", "points": points}))
    monkeypatch.setenv("GEMINI_DATABASE_URL", db)
    with pytest.raises(InvalidInputError, match=rf"line {len(lines)}: .*{re.escape(message)}"):
        _import("\n".join(lines) + "\n")
    assert registry().search_runs().items == []
