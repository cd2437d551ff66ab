"""Metrics of tracked runs: logging, validation, history and summaries, on both databases."""

import math

import pytest

from gemini.api.model_run import ModelRun
from gemini.registry import registry


@pytest.fixture
def db(registry_url) -> str:
    """The same tests on SQLite, on PostgreSQL and through a server (``GEMINI_API_URL``)."""
    return registry_url


@pytest.fixture
def run(db):
    run = ModelRun.start(model_run_info={"test": "metrics"})
    yield run
    if run._buffer is not None:
        run.end()


def test_history_comes_back_by_step_with_timestamps(run):
    for step in (2, 0, 1):
        run.log_metrics({"map50": step / 10}, step=step)
    history = run.get_metric_history("map50")
    assert [(point["step"], point["value"]) for point in history] == [(0, 0.0), (1, 0.1), (2, 0.2)]
    assert all(point["timestamp"].tzinfo is not None for point in history)


def test_summaries_give_last_min_max_step_and_count(run):
    for step, loss in enumerate([0.9, 0.3, 0.5]):
        run.log_metrics({"loss": loss, "map50": 1 - loss}, step=step)
    assert run.get_metrics() == {
        "loss": {"last": 0.5, "min": 0.3, "max": 0.9, "step": 2, "count": 3},
        "map50": {"last": 0.5, "min": pytest.approx(0.1), "max": pytest.approx(0.7), "step": 2, "count": 3},
    }


def test_summaries_merge_across_batches(run):
    run.log_metric("loss", 5.0, step=0)
    run.flush()
    run.log_metric("loss", 1.0, step=1)
    run.flush()
    run.log_metric("loss", 3.0, step=2)
    assert run.get_metrics()["loss"] == {"last": 3.0, "min": 1.0, "max": 5.0, "step": 2, "count": 3}


def test_logging_a_step_again_replaces_its_value_and_the_summary_follows(run):
    run.log_metrics({"loss": 9.0}, step=0)
    run.log_metrics({"loss": 2.0}, step=1)
    run.flush()
    run.log_metrics({"loss": 1.0}, step=0)
    assert [point["value"] for point in run.get_metric_history("loss")] == [1.0, 2.0]
    assert run.get_metrics()["loss"] == {"last": 2.0, "min": 1.0, "max": 2.0, "step": 1, "count": 2}


def test_step_none_follows_the_last_step_logged_for_that_key(run):
    run.log_metric("lr", 0.1)
    run.log_metric("lr", 0.2)
    run.log_metrics({"lr": 0.3, "loss": 1.0}, step=10)
    run.log_metrics({"lr": 0.4, "loss": 2.0})
    assert [point["step"] for point in run.get_metric_history("lr")] == [0, 1, 10, 11]
    assert [point["step"] for point in run.get_metric_history("loss")] == [10, 11]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinities_come_back_as_they_were(run, value):
    run.log_metrics({"odd": value, "plain": 1.0}, step=0)
    [point] = run.get_metric_history("odd")
    assert math.isnan(point["value"]) if math.isnan(value) else point["value"] == value
    summary = run.get_metrics()["odd"]
    assert math.isnan(summary["last"]) if math.isnan(value) else summary["last"] == value


def test_extremes_skip_nan(run):
    run.log_metrics({"loss": math.nan}, step=0)
    assert run.get_metrics()["loss"]["min"] is None
    run.log_metrics({"loss": 2.0}, step=1)
    run.log_metrics({"loss": math.nan}, step=2)
    summary = run.get_metrics()["loss"]
    assert (summary["min"], summary["max"], summary["count"]) == (2.0, 2.0, 3)
    assert math.isnan(summary["last"])


@pytest.mark.parametrize("value", ["0.5", {"a": 1}, [1.0, 2.0], None, True])
def test_a_value_that_is_not_a_real_number_raises_type_error_at_the_call(run, value):
    with pytest.raises(TypeError):
        run.log_metrics({"loss": value}, step=0)


def test_a_value_too_large_for_a_float_raises_value_error(run):
    with pytest.raises(ValueError):
        run.log_metric("loss", 10**400)


@pytest.mark.parametrize(("key", "error"), [("", ValueError), (3, TypeError), ("a\x00b", ValueError), ("k" * 251, ValueError)])
def test_a_bad_key_is_refused_at_the_call(run, key, error):
    with pytest.raises(error):
        run.log_metric(key, 1.0)


@pytest.mark.parametrize(("step", "error"), [(-1, ValueError), (1.5, TypeError), ("3", TypeError), (2**63, ValueError)])
def test_a_bad_step_is_refused_at_the_call(run, step, error):
    with pytest.raises(error):
        run.log_metric("loss", 1.0, step=step)


def test_numpy_like_scalars_are_accepted(run):
    class Scalar:
        def __float__(self) -> float:
            return 0.25

    run.log_metric("loss", Scalar(), step=0)
    assert run.get_metric_history("loss")[0]["value"] == 0.25


def test_keys_are_free_text(run):
    run.log_metrics({"metrics/mAP50(B)": 0.5, "val/loss": 0.1, "naïve key": 1.0}, step=0)
    assert set(run.get_metrics()) == {"metrics/mAP50(B)", "val/loss", "naïve key"}


def test_a_batch_written_twice_is_stored_once(run):
    points = [("loss", step, float(step), None) for step in range(10)]
    assert registry().log_batch(run_id=run.id, batch_id="batch-1", points=points) is True
    assert registry().log_batch(run_id=run.id, batch_id="batch-1", points=points) is False
    assert len(registry().metric_history(run_id=run.id, key="loss").points()) == 10
    assert registry().metric_summaries(run_id=run.id)["loss"].count == 10


def test_a_batch_for_an_unknown_run_is_refused(db):
    from gemini.domain.errors import NotFoundError

    with pytest.raises(NotFoundError):
        registry().log_batch(run_id="00000000-0000-0000-0000-000000000001", batch_id="b", points=[("a", 0, 1.0, None)])


def test_a_bad_point_refuses_the_whole_batch(run):
    from gemini.domain.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="point 1"):
        registry().log_batch(run_id=run.id, batch_id="b", points=[("a", 0, 1.0, None), ("a", 1, "x", None)])
    assert registry().metric_summaries(run_id=run.id) == {}


def test_history_of_many_runs_for_one_key(db):
    runs = [ModelRun.start(model_run_info={"n": n}) for n in range(3)]
    for n, run in enumerate(runs[:2]):
        run.log_metrics({"map50": n}, step=0)
        run.end()
    runs[2].end()
    histories = registry().metric_histories(run_ids=[run.id for run in runs], key="map50")
    assert list(histories) == [runs[0].id, runs[1].id]
    assert histories[runs[1].id].values == [1.0]


def test_a_reduced_history_keeps_the_extremes_within_the_limit(run):
    values = [math.sin(step / 50) for step in range(1000)]
    values[333], values[777] = 50.0, -50.0
    for step, value in enumerate(values):
        run.log_metric("wave", value, step=step)
    run.flush()
    [series] = registry().metric_histories(run_ids=[run.id], key="wave", max_points=100).values()
    assert series.reduced
    reduced = series.points()
    assert len(reduced) <= 100
    steps = [point.step for point in reduced]
    assert steps == sorted(steps)
    assert {(333, 50.0), (777, -50.0)} <= {(point.step, point.value) for point in reduced}
    assert all(point.value == values[point.step] for point in reduced)


def test_a_short_series_is_not_reduced(run):
    for step in range(10):
        run.log_metric("loss", float(step), step=step)
    run.flush()
    [history] = registry().metric_histories(run_ids=[run.id], key="loss", max_points=100).values()
    assert history.steps == list(range(10)) and not history.reduced


def test_metrics_can_be_logged_to_a_run_recorded_with_create(db):
    run = ModelRun.create(model_run_info={"a": 1})
    run.log_metric("accuracy", 0.9, step=0)
    assert run.get_metrics()["accuracy"]["last"] == 0.9
    assert ModelRun.get_by_id(run.id).status is None


def test_histories_as_columns_a_range_and_reduced_in_every_mode(db):
    run = ModelRun.start(model_run_info={"test": "ranges"})
    for step in range(300):
        run.log_metric("wave", math.sin(step / 10) + (5.0 if step == 123 else 0.0), step=step)
    run.flush()
    [zoomed] = registry().metric_histories(run_ids=[run.id], key="wave", start_step=100, end_step=149).values()
    assert zoomed.steps == list(range(100, 150)) and not zoomed.reduced
    [reduced] = registry().metric_histories(
        run_ids=[run.id], key="wave", max_points=20, start_step=100, end_step=299
    ).values()
    assert reduced.reduced and len(reduced.steps) <= 20 and 123 in reduced.steps
    columns = ModelRun.get_metric_histories([run], "wave", max_points=20)
    assert set(columns[run.id]) == {"steps", "values", "timestamps"} and len(columns[run.id]["steps"]) <= 20
    assert len(run.get_metric_history("wave", max_points=20)) <= 20
    run.end()
