"""A run's readable name (``run_name``): given when a tracked run starts, changed and removed later, read
with every run, searched as ``name``, and carried by export and import. In every mode (SQLite,
PostgreSQL, through a server) unless a test says otherwise."""

import json
import re

import pytest
import sqlalchemy as sa

from gemini.api.model_run import ModelRun
from gemini.db import engine as db_engine
from gemini.domain.errors import InvalidInputError, NotFoundError
from gemini.registry import registry
from tests.conftest import empty_registry
from tests.transfer_support import export_text, import_text, use_registry

MISSING = "01a2205f-b32f-73e7-91b2-2a0f927874d8"


def _names(where: str, **options) -> list:
    return [run.run_name for run in registry().search_runs(where=where, **options).items]


@pytest.fixture
def named(registry_url) -> dict[str, object]:
    """Tracked runs named ``train``, ``train2``, ``yolo-best``, ``Yolo 50%`` and one without a name,
    each ended, by name (``None`` for the unnamed)."""
    runs = {}
    for name in ("train", "train2", "yolo-best", "Yolo 50%", None):
        run = registry().start_run(model_run_info={"name": f"info-{name}"}, model_name="stand_counter", run_name=name)
        runs[name] = registry().end_run(run_id=run.id)
    return runs


# -- setting, reading, changing ----------------------------------------------------------------------------


def test_a_run_started_with_a_name_keeps_it_in_every_read(named):
    run = named["train2"]
    assert run.run_name == "train2"
    assert registry().get_run(run_id=run.id).run_name == "train2"
    listed = {item.id: item.run_name for item in registry().search_runs(model_name="stand_counter").items}
    assert listed[run.id] == "train2" and listed[named[None].id] is None


def test_a_run_without_a_name_has_none(registry_url):
    recorded, _ = registry().create_run(model_run_info={"n": 1})
    tracked = registry().start_run(model_run_info={"n": 2})
    assert (recorded.run_name, tracked.run_name) == (None, None)
    assert registry().get_run(run_id=tracked.id).run_name is None


def test_rename_changes_the_name_and_none_removes_it(registry_url):
    run, _ = registry().create_run(model_run_info={"n": 1})
    renamed = registry().rename_run(run_id=run.id, run_name="baseline")
    assert renamed.run_name == "baseline" and renamed.model_run_info == {"n": 1}
    assert renamed.updated_at >= run.updated_at
    assert registry().get_run(run_id=run.id).run_name == "baseline"
    assert registry().rename_run(run_id=run.id, run_name="baseline v2").run_name == "baseline v2"
    assert registry().rename_run(run_id=run.id, run_name=None).run_name is None
    assert registry().get_run(run_id=run.id).run_name is None


def test_names_need_not_be_unique(registry_url):
    first = registry().start_run(model_run_info={}, run_name="train")
    second = registry().start_run(model_run_info={}, run_name="train")
    assert first.id != second.id
    assert sorted(_names('name = "train"')) == ["train", "train"]


def test_replacing_the_info_keeps_the_name(registry_url):
    run = registry().start_run(model_run_info={"n": 1}, run_name="train2")
    assert registry().replace_run_info(run_id=run.id, model_run_info={"n": 2}).run_name == "train2"


def test_renaming_a_run_that_does_not_exist_is_not_found(registry_url):
    with pytest.raises(NotFoundError, match=MISSING):
        registry().rename_run(run_id=MISSING, run_name="x")


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("", "must not be blank"),
        ("   ", "must not be blank"),
        ("x" * 256, "256 characters long; at most 255"),
        ("line\nbreak", "U+000A at position 5"),
        ("tab\there", "U+0009"),
        ("nul\x00", "U+0000"),
        ("del\x7f", "U+007F"),
        ("para\u2029graph", "U+2029"),
        (3, "must be a string or null, got int"),
    ],
)
def test_a_bad_name_is_refused_with_the_same_words_in_every_mode_and_changes_nothing(registry_url, bad, words):
    run = registry().start_run(model_run_info={}, run_name="kept")
    with pytest.raises(InvalidInputError, match=re.escape(words)):
        registry().rename_run(run_id=run.id, run_name=bad)
    with pytest.raises(InvalidInputError, match=re.escape(words)):
        registry().start_run(model_run_info={}, run_name=bad)
    assert registry().get_run(run_id=run.id).run_name == "kept"
    assert registry().count_runs() == 1


def test_a_name_of_the_longest_length_and_any_script_is_kept(registry_url):
    for name in ("x" * 255, "épi de maïs 🌽", "名前", "a/b:c@d#1"):
        run = registry().start_run(model_run_info={}, run_name=name)
        assert registry().get_run(run_id=run.id).run_name == name


# -- the Python API ----------------------------------------------------------------------------------------


def test_track_and_start_take_a_name_and_rename_changes_it(registry_url):
    with ModelRun.track(model_run_info={"lr": 0.01}, model_name="detector", run_name="yolo-a") as tracked:
        assert tracked.run_name == "yolo-a"
    started = ModelRun.start(model_run_info={"lr": 0.02}, model_name="detector", run_name="yolo-b")
    assert started.run_name == "yolo-b"
    started.end()
    assert started.rename("yolo-b2") is started and started.run_name == "yolo-b2"
    assert ModelRun.get_by_id(started.id).run_name == "yolo-b2"
    assert started.rename(None).run_name is None
    assert ModelRun.get_by_id(started.id).run_name is None


def test_the_printed_form_stays_the_seeds(registry_url):
    run = ModelRun.start(model_run_info={"n": 1}, run_name="train2")
    run.end()
    assert repr(run) == f"ModelRun(id={run.id!r}, model_id=None, model_run_info={{'n': 1}})"


def test_a_refused_name_is_none_with_one_log_line_and_changes_nothing(registry_url, caplog):
    run = ModelRun.create({"n": 1})
    run.rename("kept")
    assert run.rename("two\nlines") is None
    assert run.run_name == "kept" and ModelRun.get_by_id(run.id).run_name == "kept"
    assert "ModelRun.rename failed: run_name contains the control character U+000A" in caplog.text
    assert ModelRun.start(model_run_info={}, run_name="") is None


def test_the_facade_searches_by_name(named):
    found = ModelRun.search(where='name startswith "yolo"')
    assert [run.run_name for run in found] == ["yolo-best"]
    assert ModelRun.count(where="exists(name)") == 4


# -- searching ---------------------------------------------------------------------------------------------


def test_equality_and_lists(named):
    assert _names('name = "train2"') == ["train2"]
    assert _names("name in ('train', 'yolo-best', 'absent')") == ["train", "yolo-best"]
    assert _names('name = "TRAIN2"') == []  # case-sensitive, as every string comparison


def test_not_equal_and_not_in_match_named_runs_only(named):
    assert _names('name != "train"') == ["train2", "yolo-best", "Yolo 50%"]
    assert _names("name not in ('train', 'train2')") == ["yolo-best", "Yolo 50%"]


def test_glob_and_prefix_are_case_sensitive_and_literal_but_for_the_wildcards(named):
    assert _names('name glob "train*"') == ["train", "train2"]
    assert _names('name glob "train?"') == ["train2"]
    assert _names('name glob "*50%"') == ["Yolo 50%"]
    assert _names('name glob "*5_%"') == []  # % and _ are no wildcards
    assert _names('name startswith "yolo"') == ["yolo-best"]
    assert _names('name startswith "Yolo"') == ["Yolo 50%"]


def test_exists_means_a_name(named):
    assert _names("exists(name)") == ["train", "train2", "yolo-best", "Yolo 50%"]
    assert [run.id for run in registry().search_runs(where="not name exists").items] == [named[None].id]


def test_ranges_compare_by_code_point(named):
    assert _names('name < "a"') == ["Yolo 50%"]  # "Y" sorts before "a"
    assert _names('name >= "train2"') == ["train2", "yolo-best"]


def test_order_by_name_puts_runs_without_one_last(named):
    assert [run.run_name for run in registry().search_runs(order_by="name", where="exists(status)").items] == [
        "Yolo 50%", "train", "train2", "yolo-best", None,
    ]
    assert [run.run_name for run in registry().search_runs(order_by="-name", where="exists(status)").items] == [
        "yolo-best", "train2", "train", "Yolo 50%", None,
    ]


def test_pages_by_cursor_in_name_order(named):
    page = registry().search_runs(order_by="name", limit=2)
    seen = [run.run_name for run in page.items]
    while page.next_cursor:
        page = registry().search_runs(order_by="name", limit=2, cursor=page.next_cursor)
        seen += [run.run_name for run in page.items]
    assert seen == ["Yolo 50%", "train", "train2", "yolo-best", None]


def test_name_combines_with_info_model_and_status(named):
    assert _names('name glob "*train*" and status = "finished"', model_name="stand_counter") == ["train", "train2"]
    assert registry().count_runs(where='name = "train" or `name` = "info-train2"') == 2


def test_a_quoted_key_still_reaches_the_info(named):
    assert _names('`name` = "info-yolo-best"') == ["yolo-best"]
    assert _names('name = "info-yolo-best"') == []


def test_a_number_is_refused(named):
    with pytest.raises(InvalidInputError, match="name is compared with a quoted string"):
        registry().search_runs(where="name = 3")


def test_a_renamed_run_is_found_by_its_new_name_only(named):
    registry().rename_run(run_id=named["train"].id, run_name="baseline")
    assert _names('name = "baseline"') == ["baseline"]
    assert _names('name = "train"') == []


# -- export and import (run on a database) ----------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def target(request, monkeypatch, tmp_path) -> str:
    return empty_registry(request.getfixturevalue(f"{request.param}_database_url"), monkeypatch, tmp_path / "target-store")


def test_a_runs_name_survives_export_and_import(target, tmp_path, monkeypatch):
    use_registry(monkeypatch, f"sqlite:///{tmp_path / 'source.db'}", tmp_path / "source-store")
    named = registry().start_run(model_run_info={"n": 1}, model_name="detector", run_name="train2")
    renamed, _ = registry().create_run(model_run_info={"n": 2}, model_name="detector")
    registry().rename_run(run_id=renamed.id, run_name="épi 🌽")
    unnamed, _ = registry().create_run(model_run_info={"n": 3})
    text = export_text()
    lines = {line["id"]: line for line in map(json.loads, text.splitlines()[1:]) if line.get("type") == "model_run"}
    assert lines[str(named.id)]["run_name"] == "train2"
    assert "run_name" not in lines[str(unnamed.id)]  # a run without a name is written as before names

    use_registry(monkeypatch, target, tmp_path / "target-store")
    summary = import_text(text)
    assert summary.added.model_runs == 3
    assert registry().get_run(run_id=named.id).run_name == "train2"
    assert registry().get_run(run_id=renamed.id).run_name == "épi 🌽"
    assert registry().get_run(run_id=unnamed.id).run_name is None
    assert [run.id for run in registry().search_runs(where='name = "train2"').items] == [named.id]
    assert import_text(text).already_present.model_runs == 3


def test_an_import_keeps_the_name_a_run_already_has(target, tmp_path, monkeypatch):
    run = registry().start_run(model_run_info={}, run_name="here")
    text = export_text()
    registry().rename_run(run_id=run.id, run_name="renamed since")
    import_text(text)
    assert registry().get_run(run_id=run.id).run_name == "renamed since"


def test_an_imported_bad_name_is_refused_naming_its_line(target, tmp_path, monkeypatch):
    registry().start_run(model_run_info={}, run_name="fine")
    lines = export_text().splitlines()
    run_line = json.loads(lines[1])
    lines[1] = json.dumps({**run_line, "run_name": "two\nlines"})
    empty_registry(target, monkeypatch, tmp_path / "target-store")
    with pytest.raises(InvalidInputError, match="line 2: run_name contains the control character U[+]000A"):
        import_text("\n".join(lines) + "\n")
    assert registry().count_runs() == 0


def test_the_name_is_a_column_of_the_runs_table(target):
    run = registry().start_run(model_run_info={}, run_name="train2")
    with db_engine.get_engine(target).connect() as connection:
        stored = connection.execute(sa.text("SELECT run_name FROM model_runs")).scalar_one()
    assert stored == "train2" and run.run_name == stored
