"""ModelRun.search and ModelRun.count with the new keyword-only parameters, seed conventions kept."""

import pytest

from gemini.api.model_run import ModelRun


def test_search_with_where_order_and_limit(sample_runs):
    runs = ModelRun.search(where="exists(metrics.map50)", order_by="-metrics.map50", limit=2)
    assert [run.model_run_info["label"] for run in runs] == ["r4", "r0"]
    runs = ModelRun.search(where="exists(metrics.map50)", order_by=["-metrics.map50"], limit=2, offset=2)
    assert [run.model_run_info["label"] for run in runs] == ["r1", "r3"]


def test_seed_positional_search_still_works(sample_runs):
    runs = ModelRun.search({"data": {"site": "Davis"}}, "yolo")
    assert [run.model_run_info["label"] for run in runs] == ["r0", "r2", "r7"]


def test_new_parameters_are_keyword_only(sample_runs):
    with pytest.raises(TypeError):
        ModelRun.search(None, None, "a = 1")


def test_nothing_matching_or_no_criterion_gives_none(sample_runs):
    assert ModelRun.search(where="params.lr > 100") is None
    assert ModelRun.search() is None
    assert ModelRun.search(order_by="params.lr") is None


def test_count(sample_runs):
    assert ModelRun.count() == 8
    assert ModelRun.count(where="params.lr < 0.05") == 2
    assert ModelRun.count({"data": {"site": "Davis"}}, "yolo", where="params.epochs = 20") == 1
    assert ModelRun.count(where="params.lr > 100") == 0
    assert ModelRun.count(model_name="ghost") is None
