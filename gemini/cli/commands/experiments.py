"""``gemini experiments``: list, create and delete experiments."""

import click

from gemini.cli.output import echo_json, echo_page, echo_record, jsonable, json_option, note
from gemini.cli.params import JSON_OBJECT, offset_option
from gemini.domain.errors import InvalidInputError
from gemini.domain.records import ExperimentRecord
from gemini.registry import registry


def resolve_experiment(reference: str) -> ExperimentRecord:
    """An experiment by id when ``reference`` is a UUID, else by name."""
    try:
        return registry().get_experiment(experiment_id=reference)
    except InvalidInputError:
        return registry().get_experiment_by_name(experiment_name=reference)


@click.group()
def experiments() -> None:
    """Experiments: named groups of models."""


@experiments.command("list")
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True)
@offset_option
@json_option
def list_experiments(limit, offset, as_json) -> None:  # noqa: ANN001
    """List experiments in creation order."""
    echo_page(
        registry().search_experiments(limit=limit, offset=offset, with_total=True),
        offset=offset,
        as_json=as_json,
        headers=("ID", "NAME", "INFO", "CREATED"),
        row=lambda e: (e.id, e.experiment_name, e.experiment_info, e.created_at),
        noun="experiments",
    )


@experiments.command("create")
@click.argument("name")
@click.option("--info", "experiment_info", type=JSON_OBJECT, help="Info as JSON text, or @file.json.")
@json_option
def create_experiment(name, experiment_info, as_json) -> None:  # noqa: ANN001
    """Create an experiment; an existing one of that name is shown unchanged.

    Example:

    \b
        gemini experiments create "Davis 2024" --info '{"site": "Davis"}'
    """
    record, created = registry().create_experiment(experiment_name=name, experiment_info=experiment_info)
    note(f"created experiment {record.id}" if created else f"experiment {name!r} already exists; it was left unchanged")
    if as_json:
        echo_json(jsonable(record))
    else:
        echo_record(
            [("id", str(record.id)), ("name", record.experiment_name), ("info", record.experiment_info)]
        )


@experiments.command("delete")
@click.argument("experiment")
def delete_experiment(experiment) -> None:  # noqa: ANN001
    """Delete an experiment, given its id or name; its models stay."""
    record = resolve_experiment(experiment)
    registry().delete_experiment(experiment_id=record.id)
    note(f"deleted experiment {record.experiment_name!r} ({record.id})")
