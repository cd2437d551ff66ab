"""``gemini models``: list, create, show, update and delete models; register, list, alias and download
their versions."""

import click

from gemini.cli.output import echo_json, echo_page, echo_record, echo_table, jsonable, json_option, note
from gemini.cli.params import JSON_OBJECT, offset_option
from gemini.cli.paths import download_destination
from gemini.domain.errors import InvalidInputError
from gemini.domain.records import ModelRecord, ModelVersionRecord
from gemini.registry import registry

DEFAULT_LIMIT = 100


def resolve_model(reference: str) -> ModelRecord:
    """A model by id when ``reference`` is a UUID, else by name."""
    try:
        return registry().get_model(model_id=reference)
    except InvalidInputError:
        return registry().get_model_by_name(model_name=reference)


def echo_model(record: ModelRecord, as_json: bool) -> None:
    if as_json:
        echo_json(jsonable(record))
        return
    echo_record(
        [
            ("id", str(record.id)),
            ("name", record.model_name),
            ("url", record.model_url),
            ("info", record.model_info),
            ("created", record.created_at),
            ("updated", record.updated_at),
        ]
    )


@click.group()
def models() -> None:
    """Models: what runs belong to (a plant detector, a stand counter, ...)."""


@models.command("list")
@click.option("--name", "model_name", help="Only the model with this exact name.")
@click.option("--url", "model_url", help="Only models with this exact URL.")
@click.option("--info", "model_info", type=JSON_OBJECT, help="Only models whose info contains this JSON object.")
@click.option("--experiment", "experiment_name", help="Only models of this experiment.")
@click.option("--limit", type=click.IntRange(min=0), default=DEFAULT_LIMIT, show_default=True)
@offset_option
@json_option
def list_models(model_name, model_url, model_info, experiment_name, limit, offset, as_json) -> None:  # noqa: ANN001
    """List models in creation order.

    Example:

    \b
        gemini models list --info '{"task": "stand counting"}'
    """
    filters = dict(model_name=model_name, model_url=model_url, model_info=model_info, experiment_name=experiment_name)
    echo_page(
        registry().search_models(**filters, limit=limit, offset=offset, with_total=True),
        offset=offset,
        as_json=as_json,
        headers=("ID", "NAME", "URL", "INFO", "CREATED"),
        row=lambda m: (m.id, m.model_name, m.model_url, m.model_info, m.created_at),
        noun="models",
    )


@models.command("create")
@click.argument("name")
@click.option("--url", "model_url", help="Where the model lives (repository, registry, paper).")
@click.option("--info", "model_info", type=JSON_OBJECT, help="Info as JSON text, or @file.json.")
@click.option("--experiment", "experiment_name", help="An experiment to add the model to (created if missing).")
@json_option
def create_model(name, model_url, model_info, experiment_name, as_json) -> None:  # noqa: ANN001
    """Create a model; an existing model of that name is shown unchanged.

    Example:

    \b
        gemini models create stand-counter --url https://example.org/sc --info '{"task": "stand counting"}'
    """
    record, created = registry().create_model(
        model_name=name, model_url=model_url, model_info=model_info, experiment_name=experiment_name
    )
    note(f"created model {record.id}" if created else f"model {name!r} already exists; it was left unchanged")
    echo_model(record, as_json)


@models.command("show")
@click.argument("model")
@json_option
def show_model(model, as_json) -> None:  # noqa: ANN001
    """Show a model, given its id or its name."""
    echo_model(resolve_model(model), as_json)


@models.command("update")
@click.argument("model")
@click.option("--name", "model_name", help="New name.")
@click.option("--url", "model_url", help="New URL.")
@click.option("--info", "model_info", type=JSON_OBJECT, help="New info (replaces it), as JSON text or @file.json.")
@json_option
def update_model(model, model_name, model_url, model_info, as_json) -> None:  # noqa: ANN001
    """Change a model's name, URL or info.

    Example:

    \b
        gemini models update stand-counter --url https://example.org/sc/v2
    """
    record = resolve_model(model)
    echo_model(
        registry().update_model(model_id=record.id, model_name=model_name, model_url=model_url, model_info=model_info),
        as_json,
    )


@models.command("delete")
@click.argument("model")
def delete_model(model) -> None:  # noqa: ANN001
    """Delete a model, given its id or name, with all its runs."""
    record = resolve_model(model)
    registry().delete_model(model_id=record.id)
    note(f"deleted model {record.model_name!r} ({record.id}) and its runs")


# -- versions and aliases ------------------------------------------------------------------------------

VERSION_HEADERS = ("VERSION", "ALIASES", "RUN", "ARTIFACT", "SHA256", "SIZE", "CREATED")
SHORT_SHA256 = 12


def echo_version(record: ModelVersionRecord, as_json: bool) -> None:
    if as_json:
        echo_json(jsonable(record))
        return
    echo_record(
        [
            ("id", str(record.id)),
            ("model", record.model_name),
            ("version", str(record.version)),
            ("aliases", ", ".join(record.aliases) or "-"),
            ("run", str(record.model_run_id)),
            ("artifact", record.artifact_name),
            ("sha256", record.sha256),
            ("size", str(record.size)),
            ("info", record.version_info),
            ("created", record.created_at),
            ("created by", record.created_by),
        ]
    )


@models.command("register")
@click.argument("run_id", metavar="RUN")
@click.argument("artifact")
@click.option("--info", "version_info", type=JSON_OBJECT, help="The version's info, as JSON text or @file.json.")
@json_option
def register_version(run_id, artifact, version_info, as_json) -> None:  # noqa: ANN001
    """Register the artifact ARTIFACT of RUN as the next version of RUN's model (1, 2, 3, ...). The
    version pins the artifact's bytes as they are now (their SHA-256 and size).

    Example:

    \b
        gemini models register 01a2... weights/best.pt --info '{"map50": 0.91}'
    """
    record = registry().register_model_version(run_id=run_id, artifact_name=artifact, version_info=version_info)
    note(f"registered {record.model_name}@{record.version}")
    echo_version(record, as_json)


@models.command("versions")
@click.argument("model")
@json_option
def list_versions(model, as_json) -> None:  # noqa: ANN001
    """List the versions of MODEL (its name or id) by ascending number, with their aliases.

    Example:

    \b
        gemini models versions stand_counter
    """
    record = resolve_model(model)
    versions = registry().list_model_versions(model_id=record.id)
    if as_json:
        echo_json([jsonable(version) for version in versions])
    elif versions:
        echo_table(
            VERSION_HEADERS,
            [
                (
                    v.version,
                    ",".join(v.aliases) or None,
                    v.model_run_id,
                    v.artifact_name,
                    v.sha256[:SHORT_SHA256],
                    v.size,
                    v.created_at,
                )
                for v in versions
            ],
        )
    if not versions:
        note(f"model {record.model_name!r} has no versions")


@models.command("alias")
@click.argument("reference", metavar="REF")
@click.argument("alias")
@json_option
def alias_version(reference, alias, as_json) -> None:  # noqa: ANN001
    """Give ALIAS to the version REF (MODEL@VERSION or MODEL@ALIAS); the version of the model that held
    ALIAS loses it in the same step.

    Examples:

    \b
        gemini models alias stand_counter@3 production
        gemini models alias stand_counter@candidate production
    """
    found = registry().find_model_version(reference=reference)
    record = registry().set_model_version_alias(version_id=found.id, alias=alias)
    note(f"{record.model_name}@{alias} is version {record.version}")
    echo_version(record, as_json)


@models.command("download")
@click.argument("reference", metavar="REF")
@click.argument("dest", type=click.Path())
def download_version(reference, dest) -> None:  # noqa: ANN001
    """Write the bytes of the version REF (MODEL@VERSION or MODEL@ALIAS, MODEL@latest the highest) to
    DEST: a file, or a directory to write into under the artifact's base name (a DEST ending in '/' is
    a directory, created if missing). The bytes are checked against the version's SHA-256 before the
    file appears; the path written is printed.

    Example:

    \b
        gemini models download stand_counter@production /srv/models/
    """
    found = registry().find_model_version(reference=reference)
    with download_destination(dest) as target:
        written = registry().download_model_version(version_id=found.id, dest=target)
    click.echo(str(written))
