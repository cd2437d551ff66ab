"""Searching and sorting by metrics (``metric.`` namespace) and by the tracked runs' own fields."""

import pytest

from gemini.registry import registry
from gemini.api.model_run import ModelRun
from gemini.domain.errors import InvalidInputError
from gemini.tracking import lifecycle


@pytest.fixture
def runs(db):
    """Six finished runs n=0..5: map50 reaches n/10 at step 0 then falls to n/20; loss is 1 - n/10;
    a recorded run without metrics, and a failed tracked run."""
    for n in range(6):
        with ModelRun.track(model_run_info={"n": n}) as run:
            run.log_metrics({"map50": n / 10, "loss": 1 - n / 10, "metrics/mAP50(B)": n}, step=0)
            run.log_metrics({"map50": n / 20}, step=1)
    ModelRun.create(model_run_info={"n": 99})
    ModelRun.start(model_run_info={"n": 100}).end(status="failed")


def found(where=None, order_by=None, limit=None, cursor=None):
    page = registry().search_runs(where=where, order_by=order_by, limit=limit, cursor=cursor)
    return [run.model_run_info["n"] for run in page.items], page.next_cursor


def test_max_of_a_metric_in_where_and_order_by_with_limit(runs):
    assert found("max(metric.map50) > 0.25", "-max(metric.map50)", limit=100)[0] == [5, 4, 3]


def test_the_same_search_without_limit_gives_the_same_order(runs):
    assert found("max(metric.map50) > 0.25", "-max(metric.map50)")[0] == [5, 4, 3]


def test_metric_dot_key_is_the_value_at_the_highest_step(runs):
    assert found("metric.map50 >= 0.2")[0] == [4, 5]


def test_min_of_a_metric(runs):
    assert found("min(metric.loss) < 0.75", "min(metric.loss)")[0] == [5, 4, 3]


def test_runs_without_the_metric_sort_last(runs):
    assert found(None, "-max(metric.map50)", limit=100)[0] == [5, 4, 3, 2, 1, 0, 99, 100]
    assert found(None, "-max(metric.map50)")[0] == [5, 4, 3, 2, 1, 0, 99, 100]


def test_pages_ordered_by_a_metric_follow_each_other(runs):
    first, cursor = found(None, "metric.map50", limit=3)
    second, cursor = found(None, "metric.map50", limit=3, cursor=cursor)
    third, _ = found(None, "metric.map50", limit=3, cursor=cursor)
    assert first + second + third == [0, 1, 2, 3, 4, 5, 99, 100]


def test_backquotes_reach_keys_that_are_not_plain_names(runs):
    assert found("metric.`metrics/mAP50(B)` in (1, 3)")[0] == [1, 3]


def test_exists_of_a_metric(runs):
    assert found("not exists(metric.loss)")[0] == [99, 100]


def test_status_equality(runs):
    assert found('status = "failed"')[0] == [100]


def test_status_inequality_leaves_out_runs_that_are_not_tracked(runs):
    assert found('status != "finished"')[0] == [100]


def test_status_lost_is_computed_from_the_heartbeat(db, monkeypatch):
    run = ModelRun.start(model_run_info={"n": 1})
    lifecycle.heartbeat_of(run).stop()
    assert found('status = "running"')[0] == [1]
    monkeypatch.setenv("GEMINI_HEARTBEAT_TIMEOUT", "0")
    assert found('status = "lost"')[0] == [1]
    assert found('status = "running"')[0] == []
    assert found(None, "status", limit=1)[0] == [1]
    monkeypatch.setenv("GEMINI_HEARTBEAT_TIMEOUT", "300")
    run.end()


def test_started_and_ended_at(runs):
    assert found('ended_at > "2000-01-01T00:00:00Z"', "-started_at", limit=2)[0] == [100, 5]
    assert found("not exists(started_at)")[0] == [99]


def test_count_takes_metric_conditions(runs):
    assert registry().count_runs(where="max(metric.map50) > 0.25 and status = 'finished'") == 3


def test_an_info_key_named_metric_is_reached_with_backquotes(db):
    ModelRun.create(model_run_info={"metric": {"map50": 0.9}})
    page = registry().search_runs(where="`metric`.map50 > 0.5")
    assert [run.model_run_info for run in page.items] == [{"metric": {"map50": 0.9}}]


@pytest.mark.parametrize(
    "where",
    ['metric.map50 = "high"', "metric.map50 = null", 'status > "failed"', 'status = "done"', "min(params.lr) < 1", "metric < 1"],
)
def test_malformed_metric_and_status_conditions_are_refused(db, where):
    with pytest.raises(InvalidInputError):
        registry().search_runs(where=where)
