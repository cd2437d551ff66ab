"""``gemini runs``: record, find, change and delete model runs."""

import click

from gemini.cli.errors import GeminiCommandError
from gemini.cli.output import echo_json, echo_page, echo_record, echo_table, jsonable, json_option, note
from gemini.cli.params import JSON_OBJECT, offset_option, order_by_hint
from gemini.domain.numbers import json_value
from gemini.domain.records import ModelRunRecord, Page
from gemini.registry import registry

DEFAULT_LIMIT = 100
HEADERS = ("ID", "NAME", "MODEL", "INFO", "CREATED")


def echo_run(record: ModelRunRecord, as_json: bool) -> None:
    if as_json:
        echo_json(jsonable(record))
        return
    fields = [
        ("id", str(record.id)),
        ("name", record.run_name or "-"),
        ("model", record.model_name or "-"),
        ("info", record.model_run_info),
        ("created", record.created_at),
        ("updated", record.updated_at),
    ]
    if record.created_by is not None:
        fields.append(("created by", record.created_by))
    if record.status is not None:
        fields += [("status", record.status), ("started", record.started_at), ("ended", record.ended_at)]
        if record.error_type is not None:
            fields.append(("error", f"{record.error_type}: {record.error_message}"))
    echo_record(fields)


def _echo_runs(page: Page[ModelRunRecord], *, offset: int, as_json: bool) -> None:
    echo_page(
        page,
        offset=offset,
        as_json=as_json,
        headers=HEADERS,
        row=lambda run: (run.id, run.run_name or "-", run.model_name or "-", run.model_run_info, run.created_at),
        noun="model runs",
    )


page_options = [
    click.option("--limit", type=click.IntRange(min=0), default=DEFAULT_LIMIT, show_default=True, help="Show at most this many."),
    offset_option,
]


def with_page_options(command):  # noqa: ANN001, ANN201
    for option in reversed(page_options):
        command = option(command)
    return command


@click.group()
def runs() -> None:
    """Model runs: single executions of a model, each with a free JSON info."""


@runs.command("list")
@click.option("--model", "model_name", help="Only runs of this model.")
@click.option(
    "--info",
    "model_run_info",
    type=JSON_OBJECT,
    help="Deprecated: use 'gemini runs search PATTERN' (the same runs).",
)
@with_page_options
@json_option
def list_runs(model_name, model_run_info, limit, offset, as_json) -> None:  # noqa: ANN001
    """List runs in creation order. To find runs by their info, use 'gemini runs search'."""
    if model_run_info is not None:
        # Kept working for scripts written against it; searching has one command.
        note("'gemini runs list --info' is deprecated: use 'gemini runs search PATTERN' (the same runs)")
    page = registry().search_runs(
        model_run_info=model_run_info, model_name=model_name, limit=limit, offset=offset, with_total=True
    )
    _echo_runs(page, offset=offset, as_json=as_json)


@runs.command("search")
@click.argument("pattern", type=JSON_OBJECT, required=False)
@click.option(
    "--info",
    "info_option",
    type=JSON_OBJECT,
    help="The PATTERN, spelled as 'runs export --info' and 'models list --info' spell it.",
)
@click.option("--where", help="A search expression, e.g. 'params.lr < 0.01 and data.site = \"Davis\"'.")
@click.option("--order-by", "order_by", help="Comma-separated paths, '-' for descending, e.g. -metrics.map50.")
@click.option("--model", "model_name", help="Only runs of this model.")
@with_page_options
@json_option
def search_runs(pattern, info_option, where, order_by, model_name, limit, offset, as_json) -> None:  # noqa: ANN001
    """Find runs whose info contains PATTERN (JSON text or @file.json) and matches --where.

    An object matches PATTERN when it has every key of the pattern with a matching value; an array when
    it holds every item. --where takes the search language of docs/search.md.

    Examples:

    \b
        gemini runs search '{"dataset": "plot-2024-07", "tags": ["final"]}' --model stand-counter
        gemini runs search --where 'params.lr < 0.01 and metrics.map50 >= 0.8' --order-by -metrics.map50
    """
    if pattern is not None and info_option is not None:
        raise GeminiCommandError("give the pattern once: as PATTERN or as --info, not both")
    pattern = pattern if pattern is not None else info_option
    if pattern is None and where is None and model_name is None:
        raise GeminiCommandError("give a PATTERN, --where or --model to search by (or use 'gemini runs list')")
    filters = dict(model_run_info=pattern, model_name=model_name, where=where)
    with order_by_hint(order_by):
        page = registry().search_runs(**filters, order_by=order_by, limit=limit, offset=offset, with_total=True)
    _echo_runs(page, offset=offset, as_json=as_json)


@runs.command("create")
@click.argument("info", type=JSON_OBJECT, required=False)
@click.option("--model", "model_name", help="The model the run belongs to (created if missing).")
@json_option
def create_run(info, model_name, as_json) -> None:  # noqa: ANN001
    """Record a run with INFO (JSON text or @file.json; empty if omitted).

    A run of the same model with equal info is not recorded twice: the existing one is shown. A --model
    that names no model yet creates it.

    Example:

    \b
        gemini runs create '{"epoch": 3, "learning_rate": 0.001}' --model stand-counter
    """
    record, created = registry().create_run(model_run_info=info, model_name=model_name)
    note(f"recorded model run {record.id}" if created else f"model run {record.id} already has this info")
    echo_run(record, as_json)


@runs.command("show")
@click.argument("run_id")
@json_option
def show_run(run_id, as_json) -> None:  # noqa: ANN001
    """Show a run."""
    echo_run(registry().get_run(run_id=run_id), as_json)


@runs.command("update")
@click.argument("run_id")
@click.argument("info", type=JSON_OBJECT)
@json_option
def update_run(run_id, info, as_json) -> None:  # noqa: ANN001
    """Replace a run's info with INFO (JSON text or @file.json).

    Example:

    \b
        gemini runs update 01a2... @run.json
    """
    echo_run(registry().replace_run_info(run_id=run_id, model_run_info=info), as_json)


@runs.command("rename")
@click.argument("run_id")
@click.argument("name", required=False)
@click.option("--clear", is_flag=True, help="Remove the run's name instead.")
@json_option
def rename_run(run_id, name, clear, as_json) -> None:  # noqa: ANN001
    """Give a run the readable NAME shown in tables and on the web page (names need not be unique; search
    them with --where 'name = "..."'), or remove it with --clear.

    Examples:

    \b
        gemini runs rename 01a2... yolo11n-lr0.02
        gemini runs rename 01a2... --clear
    """
    if clear == (name is not None):
        raise click.UsageError("give either NAME or --clear")
    echo_run(registry().rename_run(run_id=run_id, run_name=name), as_json)


@runs.command("delete")
@click.argument("run_id")
def delete_run(run_id) -> None:  # noqa: ANN001
    """Delete a run."""
    registry().delete_run(run_id=run_id)
    note(f"deleted model run {run_id}")


@runs.command("associate")
@click.argument("run_id")
@click.argument("model_name")
@json_option
def associate_run(run_id, model_name, as_json) -> None:  # noqa: ANN001
    """Move a run to the model MODEL_NAME."""
    record, model = registry().associate_run(run_id=run_id, model_name=model_name)
    note(f"model run {record.id} now belongs to model {model.model_name!r}")
    echo_run(record, as_json)


@runs.command("unassociate")
@click.argument("run_id")
@json_option
def unassociate_run(run_id, as_json) -> None:  # noqa: ANN001
    """Detach a run from its model."""
    record, model = registry().unassociate_run(run_id=run_id)
    note(f"model run {record.id} no longer belongs to model {model.model_name!r}")
    echo_run(record, as_json)


@runs.command("metrics")
@click.argument("run_id")
@click.argument("key", required=False)
@json_option
def run_metrics(run_id, key, as_json) -> None:  # noqa: ANN001
    """Show a run's metrics: each key's summary, or the history of KEY.

    NaN and infinities print as NaN, Infinity and -Infinity (strings in --json).

    Examples:

    \b
        gemini runs metrics 01a2...                     # last, min, max, step and count of each key
        gemini runs metrics 01a2... 'metrics/mAP50(B)'  # every point of that key, by step
        gemini runs metrics 01a2... loss --json
    """
    value = json_value
    if key is None:
        summaries = list(registry().metric_summaries(run_id=run_id).values())
        if as_json:
            echo_json(
                [
                    {"key": s.key, "last": value(s.last), "min": value(s.min), "max": value(s.max), "step": s.step, "count": s.count}
                    for s in summaries
                ]
            )
        elif not summaries:
            note(f"model run {run_id} has no metrics")
        else:
            echo_table(
                ("KEY", "LAST", "MIN", "MAX", "STEP", "COUNT"),
                [(s.key, value(s.last), value(s.min), value(s.max), s.step, s.count) for s in summaries],
            )
        return
    points = registry().metric_history(run_id=run_id, key=key).points()
    if as_json:
        echo_json([{"step": p.step, "value": value(p.value), "timestamp": p.timestamp} for p in points])
    elif not points:
        note(f"model run {run_id} has no metric {key!r}")
    else:
        echo_table(("STEP", "VALUE", "TIMESTAMP"), [(p.step, value(p.value), p.timestamp.isoformat()) for p in points])
