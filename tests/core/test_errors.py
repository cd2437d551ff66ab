"""The core raises typed errors where the seed facade returns None/False."""

import uuid

import pytest

from gemini.registry import registry
from gemini.domain.errors import (
    ConflictError,
    DatabaseUnavailableError,
    InfoTooLargeError,
    InvalidInputError,
    NotFoundError,
)


def test_unknown_model_is_not_found(db):
    with pytest.raises(NotFoundError, match="no model named 'missing'"):
        registry().find_run(model_run_info={"a": 1}, model_name="missing")


def test_unknown_run_is_not_found(db):
    run_id = uuid.uuid4()
    with pytest.raises(NotFoundError, match=str(run_id)):
        registry().get_run(run_id=run_id)
    with pytest.raises(NotFoundError):
        registry().delete_run(run_id=run_id)


def test_malformed_id_is_invalid_input(db):
    with pytest.raises(InvalidInputError, match="model run id 'x' is not a valid UUID"):
        registry().get_run(run_id="x")


def test_duplicate_update_is_a_conflict(db):
    registry().create_model(model_name="m")
    registry().create_run(model_run_info={"a": 1}, model_name="m")
    second, _ = registry().create_run(model_run_info={"a": 2}, model_name="m")
    with pytest.raises(ConflictError, match="already has this info"):
        registry().replace_run_info(run_id=second.id, model_run_info={"a": 1})


def test_renaming_to_a_taken_name_is_a_conflict(db):
    registry().create_model(model_name="taken")
    model, _ = registry().create_model(model_name="m")
    with pytest.raises(ConflictError):
        registry().update_model(model_id=model.id, model_name="taken")


def test_too_large_info_is_its_own_invalid_input(db, monkeypatch):
    monkeypatch.setenv("GEMINI_MAX_INFO_BYTES", "10")
    with pytest.raises(InfoTooLargeError) as raised:
        registry().create_run(model_run_info={"long": "enough to pass ten bytes"})
    assert isinstance(raised.value, InvalidInputError)


def test_create_run_tells_new_from_existing(db):
    run, created = registry().create_run(model_run_info={"a": 1})
    again, created_again = registry().create_run(model_run_info={"a": 1})
    assert (created, created_again) == (True, False)
    assert again == run


def test_unknown_experiment_is_not_found(db):
    with pytest.raises(NotFoundError, match="no experiment named 'x'"):
        registry().get_experiment_by_name(experiment_name="x")


@pytest.mark.parametrize(("limit", "offset"), [(-1, None), (None, -1), ("2", None), (True, None)])
def test_bad_paging_is_invalid_input(db, limit, offset):
    with pytest.raises(InvalidInputError):
        registry().search_runs(limit=limit, offset=offset).items


def test_an_unusable_sqlite_location_is_a_clear_unavailable_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("GEMINI_DATABASE_URL", f"sqlite:///{blocker / 'sub' / 'gemini.db'}")
    with pytest.raises(DatabaseUnavailableError, match="database unavailable"):
        registry().search_runs().items


def test_an_integral_float_is_the_same_info_as_the_integer_its_json_text_stands_for(db):
    run, _ = registry().create_run(model_run_info={"big": 1e300, "small": 2.0})
    assert registry().create_run(model_run_info={"big": 10**300, "small": 2})[0].id == run.id
    assert registry().count_runs() == 1
