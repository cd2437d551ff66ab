"""``gemini db``: the database's schema version and contents."""

import dataclasses

import click

from gemini.cli.output import echo_json, echo_record, json_option, note
from gemini.core import database as core


@click.group("db")
def database() -> None:
    """The database that GEMINI_DATABASE_URL names (default: an SQLite file in the user data directory)."""


@database.command("upgrade")
def upgrade() -> None:
    """Apply pending schema migrations (creating the schema in an empty database)."""
    result = core.upgrade_database()
    if result.revision_before == result.revision_after:
        note(f"{result.url} is already at schema revision {result.revision_after}")
    else:
        before = result.revision_before or "empty"
        note(f"upgraded {result.url} from {before} to schema revision {result.revision_after}")


@database.command("info")
@json_option
def info(as_json) -> None:  # noqa: ANN001
    """Show the database URL (password hidden), its schema revision and what it holds."""
    details = core.database_info()
    if as_json:
        echo_json({**dataclasses.asdict(details), "up_to_date": details.up_to_date})
        return
    if details.schema_revision is None:
        schema = f"none (run 'gemini db upgrade' to create revision {details.head_revision})"
    elif details.up_to_date:
        schema = f"{details.schema_revision} (up to date)"
    else:
        schema = f"{details.schema_revision} (run 'gemini db upgrade' for {details.head_revision})"

    def counted(value: int | None) -> str:
        return "-" if value is None else str(value)

    echo_record(
        [
            ("database", details.url),
            ("dialect", details.dialect),
            ("schema", schema),
            ("models", counted(details.model_count)),
            ("model runs", counted(details.model_run_count)),
            ("experiments", counted(details.experiment_count)),
        ]
    )
