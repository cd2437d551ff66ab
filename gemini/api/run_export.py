"""Reading runs out in bulk: every match of a search, page by page, with info flattened to columns.

Built on ``registry()`` alone, so an export reads the same from a database and from a server; the rows
and the DataFrame themselves are made from records.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from gemini.domain.limits import MAX_SUMMARY_RUNS
from gemini.domain.records import MetricSummary, ModelRunRecord
from gemini.registry import registry

EXPORT_PAGE_SIZE = 1_000

RUN_COLUMNS = ("id", "run_name", "model_name", "created_at", "updated_at")
"""The columns of an exported run before its ``info.<path>`` columns."""
TRACKING_COLUMNS = ("status", "started_at", "ended_at")
"""The DataFrame's columns of a tracked run's lifecycle, after ``RUN_COLUMNS``."""


def iter_runs(
    *,
    model_run_info: dict[str, Any] | None = None,
    model_name: str | None = None,
    where: str | None = None,
    order_by: str | list[str] | None = None,
    page_size: int = EXPORT_PAGE_SIZE,
) -> Iterator[ModelRunRecord]:
    """Every run matching the filters of ``search_runs``, read by keyset pages of ``page_size``: each
    page is its own short read (or request), so an export never holds a transaction open for its whole
    length."""
    cursor = None
    while True:
        page = registry().search_runs(
            model_run_info=model_run_info,
            model_name=model_name,
            where=where,
            order_by=order_by,
            limit=page_size,
            cursor=cursor,
        )
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def flatten_info(info: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"params": {"lr": 0.01}}`` as ``{"params.lr": 0.01}``; arrays and empty objects stay values."""
    flat: dict[str, Any] = {}
    for key, value in info.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten_info(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _row(record: ModelRunRecord) -> dict[str, Any]:
    """One run as a flat row of Python values: the ``RUN_COLUMNS``, then ``info.<path>``."""
    row: dict[str, Any] = dict(
        zip(
            RUN_COLUMNS,
            (record.id, record.run_name, record.model_name, record.created_at, record.updated_at),
            strict=True,
        )
    )
    row.update({f"info.{path}": value for path, value in flatten_info(record.model_run_info).items()})
    return row


def run_row(record: ModelRunRecord) -> dict[str, Any]:
    """One run as a flat row for a text file: ``_row`` with the id and the timestamps as text."""
    row = _row(record)
    row.update(
        id=str(record.id), created_at=record.created_at.isoformat(), updated_at=record.updated_at.isoformat()
    )
    return row


def to_dataframe(
    *,
    model_run_info: dict[str, Any] | None = None,
    model_name: str | None = None,
    where: str | None = None,
    order_by: str | list[str] | None = None,
) -> "pandas.DataFrame":  # noqa: F821 - pandas is an optional dependency
    """The matching runs as a pandas DataFrame: ``id``, ``run_name``, ``model_name``, ``created_at``,
    ``updated_at``, ``status``, ``started_at``, ``ended_at`` (None for runs not tracked), then one
    ``info.<path>`` column per info path (arrays kept as lists), then one ``metric.<key>`` column per
    metric key with its last value; a run without a name, path or key has NaN (None for object columns)
    there. Needs the ``export`` extra (pandas)."""
    records = list(iter_runs(model_run_info=model_run_info, model_name=model_name, where=where, order_by=order_by))
    run_ids = [record.id for record in records]
    summaries: dict[Any, list[MetricSummary]] = {}
    for start in range(0, len(run_ids), MAX_SUMMARY_RUNS):  # the most one read answers
        summaries.update(registry().metric_summaries_of_runs(run_ids=run_ids[start : start + MAX_SUMMARY_RUNS]))
    return dataframe(records, summaries)


def dataframe(
    records: list[ModelRunRecord], summaries: Mapping[Any, Sequence[MetricSummary]]
) -> "pandas.DataFrame":  # noqa: F821
    """``records`` as the DataFrame ``to_dataframe`` describes, each run's metrics' last values taken
    from ``summaries`` (by run id)."""
    try:
        import pandas
    except ImportError as exc:
        raise ImportError("to_dataframe needs pandas: pip install 'gemini-model-registry[export]'") from exc
    rows = []
    for record in records:
        row = _row(record)
        row.update(zip(TRACKING_COLUMNS, (record.status, record.started_at, record.ended_at), strict=True))
        row.update({f"metric.{summary.key}": summary.last for summary in summaries.get(record.id, ())})
        rows.append(row)
    fixed = (*RUN_COLUMNS, *TRACKING_COLUMNS)
    paths: dict[str, None] = {}
    metrics: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key.startswith("metric."):
                metrics[key] = None
            elif key not in fixed:
                paths[key] = None
    return pandas.DataFrame(rows, columns=[*fixed, *paths, *sorted(metrics)])
