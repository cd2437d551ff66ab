"""create_many: one transaction, input order kept, idempotent, duplicates within a batch are one run."""

import pytest

from gemini.registry import registry
from gemini.api.model_run import ModelRun
from gemini.domain.errors import InfoTooLargeError, InvalidInputError


def test_creates_in_input_order(db):
    infos = [{"i": index, "params": {"lr": 10.0**-index}} for index in range(50)]
    runs = [run for run, _ in registry().create_runs(model_run_infos=infos)]
    assert [run.model_run_info for run in runs] == infos
    assert [run.id for run in runs] == sorted(run.id for run in runs)
    assert [run.id for run in registry().search_runs().items] == [run.id for run in runs]


def test_existing_runs_are_returned_not_duplicated(db):
    registry().create_model(model_name="m")
    first, _ = registry().create_run(model_run_info={"i": 1}, model_name="m")
    result = registry().create_runs(model_run_infos=[{"i": 0}, {"i": 1}, {"i": 2}], model_name="m")
    assert [created for _, created in result] == [True, False, True]
    assert result[1][0] == first
    again = registry().create_runs(model_run_infos=[{"i": 2}, {"i": 0}], model_name="m")
    assert [created for _, created in again] == [False, False]
    assert [record.id for record, _ in again] == [result[2][0].id, result[0][0].id]
    assert registry().count_runs() == 3


def test_equal_infos_in_one_batch_are_one_run(db):
    result = registry().create_runs(model_run_infos=[{"a": 1, "b": 2.0}, {"x": 1}, {"b": 2, "a": 1}])
    assert result[0][0].id == result[2][0].id
    assert [created for _, created in result] == [True, True, False]
    assert registry().count_runs() == 2


def test_same_info_in_different_models_are_different_runs(db):
    registry().create_model(model_name="a")
    in_a = [run for run, _ in registry().create_runs(model_run_infos=[{"k": 1}], model_name="a")]
    unassigned = [run for run, _ in registry().create_runs(model_run_infos=[{"k": 1}])]
    assert in_a[0].id != unassigned[0].id
    assert in_a[0].model_id is not None and unassigned[0].model_id is None


def test_one_bad_info_writes_nothing_and_names_its_index(db):
    with pytest.raises(InvalidInputError, match=r"model_run_info\[2\]"):
        registry().create_runs(model_run_infos=[{"a": 1}, {"b": 2}, {"c": float("nan")}])
    with pytest.raises(InvalidInputError, match=r"model_run_info\[1\] must be a JSON object"):
        registry().create_runs(model_run_infos=[{"a": 1}, "not a dict"])
    assert registry().count_runs() == 0


def test_too_large_info_is_refused(db, monkeypatch):
    monkeypatch.setenv("GEMINI_MAX_INFO_BYTES", "100")
    with pytest.raises(InfoTooLargeError, match=r"model_run_info\[1\]"):
        registry().create_runs(model_run_infos=[{"a": 1}, {"a": "x" * 200}])
    assert registry().count_runs() == 0


def test_a_new_model_name_creates_the_model_once_for_the_whole_batch(db):
    runs = [run for run, _ in registry().create_runs(model_run_infos=[{"a": 1}, {"a": 2}], model_name="ghost")]
    model = registry().get_model_by_name(model_name="ghost")
    assert [run.model_id for run in runs] == [model.id, model.id]
    assert registry().search_models(limit=0, with_total=True).total == 1


def test_an_invalid_info_with_a_new_model_name_writes_nothing(db):
    with pytest.raises(InvalidInputError, match=r"model_run_info\[1\]"):
        registry().create_runs(model_run_infos=[{"a": 1}, {"a": float("nan")}], model_name="ghost")
    assert registry().count_runs() == 0
    assert registry().search_models(limit=0, with_total=True).total == 0


@pytest.mark.parametrize("infos", [{"a": 1}, "abc", 5, None])
def test_not_a_list_is_refused(db, infos):
    with pytest.raises(InvalidInputError, match="must be a list of dicts"):
        registry().create_runs(model_run_infos=infos)


def test_empty_batch(db):
    assert [run for run, _ in registry().create_runs(model_run_infos=[])] == []


def test_large_batch_spans_many_statements(db):
    infos = [{"n": index} for index in range(2500)] + [{"n": 7}]
    runs = [run for run, _ in registry().create_runs(model_run_infos=infos)]
    assert len(runs) == 2501 and runs[-1].id == runs[7].id
    assert registry().count_runs() == 2500
    assert registry().search_runs(where="n = 2499").items[0].id == runs[2499].id


def test_facade(db, caplog):
    runs = ModelRun.create_many([{"a": 1}, {"a": 2}])
    assert [run.model_run_info for run in runs] == [{"a": 1}, {"a": 2}]
    assert ModelRun.create_many([{"a": 1}, {"a": 3}])[0].id == runs[0].id
    assert ModelRun.create_many([{"a": 4}], model_name="ghost")[0].model_id is not None
    assert ModelRun.create_many([{"a": 5}, {"a": float("inf")}], model_name="ghost") is None
    assert "model_run_info[1]" in caplog.text
    assert ModelRun.count() == 4
