"""``gemini.core.run_export`` over REST: every match of a search, page by page, and its DataFrame."""

from collections.abc import Iterator
from typing import Any

from gemini.core import run_export as rows
from gemini.records import ModelRunRecord
from gemini.remote import model_runs, models, tracking

RUN_COLUMNS = rows.RUN_COLUMNS
flatten_info = rows.flatten_info
run_row = rows.run_row


def iter_runs(
    *,
    model_run_info: dict[str, Any] | None = None,
    model_name: str | None = None,
    where: str | None = None,
    order_by: str | list[str] | None = None,
    page_size: int = rows.EXPORT_PAGE_SIZE,
) -> Iterator[ModelRunRecord]:
    """Every run matching the filters, a page of ``page_size`` per request, following the server's cursors."""
    cursor = None
    while True:
        page = model_runs.search_runs(
            model_run_info=model_run_info,
            model_name=model_name,
            where=where,
            order_by=order_by,
            limit=page_size,
            cursor=cursor,
        )
        yield from page.runs
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


class ModelNames(rows.ModelNames):
    """Model ids to names, each asked of the server once."""

    def lookup(self, model_id: Any) -> str:
        return models.get_model(model_id=model_id).model_name


def to_dataframe(
    *,
    model_run_info: dict[str, Any] | None = None,
    model_name: str | None = None,
    where: str | None = None,
    order_by: str | list[str] | None = None,
) -> "pandas.DataFrame":  # noqa: F821 - pandas is an optional dependency
    records = list(iter_runs(model_run_info=model_run_info, model_name=model_name, where=where, order_by=order_by))
    summaries = tracking.metric_summaries_of_runs(run_ids=[record.id for record in records])
    return rows.dataframe(records, ModelNames(), summaries)
