"""The seed's ModelRun API, method by method, on SQLite and PostgreSQL."""

import datetime as dt
import logging
import uuid

import pytest

from gemini.registry import registry
from gemini.api.model import Model
from gemini.api.model_run import ModelRun


@pytest.fixture
def detector(db):
    return Model.create(model_name="detector")


def run_count() -> int:
    return registry().count_runs()


# -- create -------------------------------------------------------------------------------------------


def test_create_returns_the_run_with_the_model_id_of_the_named_model(detector):
    run = ModelRun.create(model_run_info={"run_id": "12345"}, model_name="detector")
    assert isinstance(run.id, uuid.UUID)
    assert run.model_id == detector.id
    assert run.model_run_info == {"run_id": "12345"}


def test_created_run_prints_as_the_spec_shows(detector):
    run = ModelRun.create(model_run_info={"run_id": "12345"}, model_name="detector")
    expected = f"ModelRun(id={run.id!r}, model_id={detector.id!r}, model_run_info={{'run_id': '12345'}})"
    assert str(run) == expected
    assert repr(run) == expected


def test_create_with_a_new_model_name_creates_the_model_and_the_run_under_it(db):
    run = ModelRun.create(model_run_info={"run_id": "1"}, model_name="new_model")
    assert run.model_id == Model.get("new_model").id
    assert run.model_run_info == {"run_id": "1"}


def test_creating_a_model_by_name_logs_one_info_line_naming_it(db, caplog):
    with caplog.at_level(logging.INFO):
        ModelRun.create(model_run_info={"run_id": "1"}, model_name="new_model")
        ModelRun.create(model_run_info={"run_id": "2"}, model_name="new_model")
    created = [r for r in caplog.records if r.levelno == logging.INFO and r.name == "gemini.core"]
    assert len(created) == 1
    assert created[0].getMessage().startswith("created model 'new_model' (id ")


@pytest.mark.parametrize("bad_name", ["", "x" * 256, "a\x00b"])
def test_create_with_an_invalid_model_name_writes_nothing(db, bad_name, caplog):
    assert ModelRun.create(model_run_info={"run_id": "1"}, model_name=bad_name) is None
    assert "model_name" in caplog.text
    assert run_count() == 0
    assert Model.get_all() is None


def test_create_with_invalid_info_creates_no_model(db):
    assert ModelRun.create(model_run_info={"bad": float("nan")}, model_name="new_model") is None
    assert Model.exists("new_model") is False


def test_creating_the_same_info_for_the_same_model_returns_the_existing_run(detector):
    first = ModelRun.create(model_run_info={"lr": 0.01, "epochs": 10}, model_name="detector")
    second = ModelRun.create(model_run_info={"epochs": 10, "lr": 0.01}, model_name="detector")
    assert second.id == first.id
    assert run_count() == 1


def test_integral_floats_and_integers_are_the_same_info(detector):
    first = ModelRun.create(model_run_info={"epochs": 10}, model_name="detector")
    assert ModelRun.create(model_run_info={"epochs": 10.0}, model_name="detector").id == first.id


def test_the_same_info_for_another_model_is_another_run_and_moves_nothing(detector):
    Model.create(model_name="counter")
    first = ModelRun.create(model_run_info={"lr": 0.01}, model_name="detector")
    second = ModelRun.create(model_run_info={"lr": 0.01}, model_name="counter")
    assert second.id != first.id
    assert ModelRun.get_by_id(first.id).model_id == detector.id
    assert run_count() == 2


def test_runs_without_a_model_are_unique_by_info_too(db):
    first = ModelRun.create(model_run_info={"lr": 0.01})
    assert first.model_id is None
    assert ModelRun.create(model_run_info={"lr": 0.01}).id == first.id
    assert run_count() == 1


def test_a_run_without_a_model_and_one_with_a_model_can_share_info(detector):
    unassigned = ModelRun.create(model_run_info={"lr": 0.01})
    assigned = ModelRun.create(model_run_info={"lr": 0.01}, model_name="detector")
    assert unassigned.id != assigned.id


@pytest.mark.parametrize("empty", [None, {}])
def test_create_without_info_makes_a_run_with_empty_info_under_the_same_rule(detector, empty):
    run = ModelRun.create(model_run_info=empty, model_name="detector")
    assert run.model_run_info == {}
    assert ModelRun.create(model_name="detector").id == run.id
    assert ModelRun.create(model_run_info={}, model_name="detector").id == run.id


def test_info_of_several_hundred_kilobytes_is_stored_and_stays_unique(detector):
    big = {"boxes": [{"x": i, "y": i * 2, "label": f"plant-{i}", "score": i / 7} for i in range(8000)]}
    assert 300_000 < len(str(big)) < 1_000_000
    run = ModelRun.create(model_run_info=big, model_name="detector")
    assert run is not None
    assert ModelRun.get_by_id(run.id).model_run_info == big
    assert ModelRun.create(model_run_info=big, model_name="detector").id == run.id
    assert ModelRun.get(model_run_info=big, model_name="detector").id == run.id
    assert run_count() == 1


@pytest.mark.parametrize(
    ("info", "cause"),
    [
        (["not", "a", "dict"], "must be a JSON object"),
        ("text", "must be a JSON object"),
        ({"when": dt.date(2024, 1, 1)}, "model_run_info['when'] is a date"),
        ({"tags": {"a", "b"}}, "model_run_info['tags'] is a set"),
        ({"loss": float("nan")}, "NaN and Infinity are not JSON"),
        ({"loss": float("inf")}, "NaN and Infinity are not JSON"),
        ({"note": "a\x00b"}, "NUL character"),
        ({"a\x00b": 1}, "NUL character"),
        ({1: "one"}, "keys must be strings"),
        ({"bad": "\ud800"}, "not valid Unicode"),
    ],
)
def test_invalid_info_is_refused_with_a_message_naming_it_and_nothing_is_written(detector, caplog, info, cause):
    with caplog.at_level(logging.ERROR, logger="gemini.api"):
        assert ModelRun.create(model_run_info=info, model_name="detector") is None
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith("ModelRun.create failed: ")
    assert cause in caplog.records[0].getMessage()
    assert run_count() == 0


def test_info_nested_deeper_than_the_limit_is_refused(detector):
    from gemini.domain.checks import MAX_INFO_DEPTH

    deep: dict = {}
    node = deep
    for _ in range(MAX_INFO_DEPTH + 1):
        node["child"] = {}
        node = node["child"]
    assert ModelRun.create(model_run_info=deep, model_name="detector") is None
    assert run_count() == 0


def test_info_over_the_size_limit_is_refused(detector, monkeypatch, caplog):
    monkeypatch.setenv("GEMINI_MAX_INFO_BYTES", "100")
    assert ModelRun.create(model_run_info={"blob": "x" * 200}, model_name="detector") is None
    assert "the limit is 100 bytes" in caplog.text
    assert run_count() == 0


# -- get, exists, get_by_id, get_all ------------------------------------------------------------------


def test_get_finds_the_run_whose_info_equals_the_given_info(detector):
    run = ModelRun.create(model_run_info={"run_id": "12345", "lr": 0.1}, model_name="detector")
    assert ModelRun.get(model_run_info={"lr": 0.1, "run_id": "12345"}, model_name="detector") == run
    assert ModelRun.get(model_run_info={"run_id": "12345"}, model_name="detector") is None


def test_get_without_a_model_name_finds_the_oldest_run_with_that_info(detector):
    Model.create(model_name="counter")
    first = ModelRun.create(model_run_info={"lr": 0.1}, model_name="detector")
    ModelRun.create(model_run_info={"lr": 0.1}, model_name="counter")
    assert ModelRun.get(model_run_info={"lr": 0.1}).id == first.id


def test_get_with_another_model_name_finds_nothing(detector):
    Model.create(model_name="counter")
    ModelRun.create(model_run_info={"lr": 0.1}, model_name="detector")
    assert ModelRun.get(model_run_info={"lr": 0.1}, model_name="counter") is None
    assert ModelRun.get(model_run_info={"lr": 0.1}, model_name="missing") is None


def test_exists(detector):
    ModelRun.create(model_run_info={"run_id": "12345"}, model_name="detector")
    assert ModelRun.exists(model_run_info={"run_id": "12345"}, model_name="detector") is True
    assert ModelRun.exists(model_run_info={"run_id": "12345"}) is True
    assert ModelRun.exists(model_run_info={"run_id": "67890"}, model_name="detector") is False
    assert ModelRun.exists(model_run_info={"run_id": "12345"}, model_name="non_existent_model") is False


def test_get_by_id_accepts_a_uuid_its_string_and_its_integer(detector):
    run = ModelRun.create(model_run_info={"a": 1}, model_name="detector")
    assert ModelRun.get_by_id(run.id) == run
    assert ModelRun.get_by_id(str(run.id)) == run
    assert ModelRun.get_by_id(run.id.int) == run


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", "1234", 3.5, None, [1]])
def test_get_by_id_with_a_malformed_id_returns_none(db, bad_id, caplog):
    assert ModelRun.get_by_id(bad_id) is None
    assert "is not a valid UUID" in caplog.text


def test_get_by_id_of_an_unknown_run_returns_none(db):
    assert ModelRun.get_by_id(uuid.uuid4()) is None


def test_get_all_lists_runs_in_creation_order_and_pages(detector):
    runs = [ModelRun.create(model_run_info={"i": i}, model_name="detector") for i in range(5)]
    assert [r.id for r in ModelRun.get_all()] == [r.id for r in runs]
    assert [r.id for r in ModelRun.get_all(limit=2, offset=1)] == [r.id for r in runs[1:3]]
    assert ModelRun.get_all(offset=5) is None


def test_get_all_on_an_empty_database_returns_none(db):
    assert ModelRun.get_all() is None


# -- search -------------------------------------------------------------------------------------------


@pytest.fixture
def searchable(detector):
    Model.create(model_name="counter")
    infos = {
        "a": {"params": {"lr": 0.01, "batch": 8}, "tags": ["davis", "2024"], "metrics": {"map": 0.81}},
        "b": {"params": {"lr": 0.01, "batch": 16}, "tags": ["kearney"], "metrics": {"map": 0.7}},
        "c": {"params": {"lr": 0.1}, "tags": ["davis"], "note": "it's \"quoted\"; DROP TABLE model_runs"},
    }
    runs = {key: ModelRun.create(model_run_info=info, model_name="detector") for key, info in infos.items()}
    runs["d"] = ModelRun.create(model_run_info=infos["a"], model_name="counter")
    return runs


def ids(runs):
    return {run.id for run in runs or []}


def test_search_matches_nested_subsets(searchable):
    found = ModelRun.search(model_run_info={"params": {"lr": 0.01}})
    assert ids(found) == ids([searchable["a"], searchable["b"], searchable["d"]])


def test_search_matches_lists_that_contain_the_given_items(searchable):
    assert ids(ModelRun.search(model_run_info={"tags": ["davis"]})) == ids(
        [searchable["a"], searchable["c"], searchable["d"]]
    )
    assert ids(ModelRun.search(model_run_info={"tags": ["2024", "davis"]})) == ids([searchable["a"], searchable["d"]])


def test_search_compares_numbers_as_numbers(searchable):
    assert ids(ModelRun.search(model_run_info={"params": {"batch": 8.0}})) == ids([searchable["a"], searchable["d"]])


def test_search_does_not_match_a_value_of_another_type(searchable):
    assert ModelRun.search(model_run_info={"params": {"batch": "8"}}) is None


def test_search_filters_by_model_name_and_combines_with_info(searchable):
    assert ids(ModelRun.search(model_name="counter")) == ids([searchable["d"]])
    found = ModelRun.search(model_run_info={"params": {"lr": 0.01}}, model_name="detector")
    assert ids(found) == ids([searchable["a"], searchable["b"]])


def test_search_treats_quotes_and_sql_in_values_as_plain_text(searchable):
    found = ModelRun.search(model_run_info={"note": "it's \"quoted\"; DROP TABLE model_runs"})
    assert ids(found) == ids([searchable["c"]])
    assert run_count() == 4


def test_search_with_no_criterion_returns_none(searchable):
    assert ModelRun.search() is None


def test_search_without_a_match_returns_none(searchable):
    assert ModelRun.search(model_run_info={"params": {"lr": 0.5}}) is None
    assert ModelRun.search(model_name="missing") is None


# -- update, set_info, get_info, refresh, delete -------------------------------------------------------


def test_update_replaces_the_info_and_updates_the_object(detector):
    run = ModelRun.create(model_run_info={"run_id": "12345", "stage": "train"}, model_name="detector")
    updated = run.update(model_run_info={"run_id": "67890"})
    assert updated is run
    assert run.model_run_info == {"run_id": "67890"}
    assert ModelRun.get_by_id(run.id).model_run_info == {"run_id": "67890"}
    assert run.updated_at > run.created_at


def test_update_with_nothing_returns_none_and_changes_nothing(detector):
    run = ModelRun.create(model_run_info={"run_id": "12345"}, model_name="detector")
    assert run.update() is None
    assert ModelRun.get_by_id(run.id).model_run_info == {"run_id": "12345"}


def test_update_that_would_duplicate_another_run_of_the_model_is_refused(detector, caplog):
    ModelRun.create(model_run_info={"run_id": "1"}, model_name="detector")
    second = ModelRun.create(model_run_info={"run_id": "2"}, model_name="detector")
    assert second.update(model_run_info={"run_id": "1"}) is None
    assert "already has this info" in caplog.text
    assert ModelRun.get_by_id(second.id).model_run_info == {"run_id": "2"}


def test_set_info_replaces_the_info(detector):
    run = ModelRun.create(model_run_info={"run_id": "12345"}, model_name="detector")
    new_info = {"run_id": "67890", "start_time": "2023-10-01T12:00:00Z"}
    assert run.set_info(model_run_info=new_info).model_run_info == new_info
    assert run.get_info() == new_info


def test_set_info_with_invalid_info_changes_nothing(detector):
    run = ModelRun.create(model_run_info={"run_id": "12345"}, model_name="detector")
    assert run.set_info(model_run_info={"loss": float("nan")}) is None
    assert ModelRun.get_by_id(run.id).model_run_info == {"run_id": "12345"}


def test_refresh_reads_changes_made_elsewhere(detector):
    run = ModelRun.create(model_run_info={"v": 1}, model_name="detector")
    ModelRun.get_by_id(run.id).set_info({"v": 2})
    assert run.model_run_info == {"v": 1}
    assert run.refresh() is run
    assert run.model_run_info == {"v": 2}


def test_delete_removes_the_run(detector):
    run = ModelRun.create(model_run_info={"v": 1}, model_name="detector")
    assert run.delete() is True
    assert ModelRun.get_by_id(run.id) is None
    assert run.delete() is False
    assert run.refresh() is None
    assert run.get_info() is None


def test_timestamps_are_utc(detector):
    run = ModelRun.create(model_run_info={"v": 1}, model_name="detector")
    stored = ModelRun.get_by_id(run.id)
    assert stored.created_at.utcoffset() == dt.timedelta(0)
    assert abs(stored.created_at - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)
    assert stored.created_at == run.created_at


# -- model association --------------------------------------------------------------------------------


def test_associate_model_moves_the_run_and_returns_the_model(detector):
    run = ModelRun.create(model_run_info={"v": 1})
    model = run.associate_model(model_name="detector")
    assert model.id == detector.id and model.model_name == "detector"
    assert run.model_id == detector.id
    assert ModelRun.get_by_id(run.id).model_id == detector.id
    assert run.belongs_to_model("detector") is True
    assert run.get_associated_model() == model


def test_associate_with_an_unknown_model_returns_none_and_changes_nothing(detector):
    run = ModelRun.create(model_run_info={"v": 1}, model_name="detector")
    assert run.associate_model(model_name="missing") is None
    assert ModelRun.get_by_id(run.id).model_id == detector.id


def test_associate_that_would_duplicate_a_run_of_the_target_model_is_refused(detector):
    ModelRun.create(model_run_info={"v": 1}, model_name="detector")
    loose = ModelRun.create(model_run_info={"v": 1})
    assert loose.associate_model(model_name="detector") is None
    assert ModelRun.get_by_id(loose.id).model_id is None


def test_unassociate_model_detaches_the_run_and_returns_the_model_it_left(detector):
    run = ModelRun.create(model_run_info={"v": 1}, model_name="detector")
    assert run.unassociate_model() == detector
    assert run.model_id is None
    assert ModelRun.get_by_id(run.id).model_id is None
    assert run.belongs_to_model("detector") is False
    assert run.get_associated_model() is None
    assert run.unassociate_model() is None


def test_belongs_to_model(detector):
    Model.create(model_name="counter")
    run = ModelRun.create(model_run_info={"v": 1}, model_name="detector")
    assert run.belongs_to_model("detector") is True
    assert run.belongs_to_model("counter") is False
    assert run.belongs_to_model("missing") is False


def test_deleting_a_model_deletes_its_runs(detector):
    run = ModelRun.create(model_run_info={"v": 1}, model_name="detector")
    loose = ModelRun.create(model_run_info={"v": 2})
    assert detector.delete() is True
    assert ModelRun.get_by_id(run.id) is None
    assert ModelRun.get_by_id(loose.id) == loose
