"""The ``gemini`` command: ``gemini --help`` lists the groups, ``gemini GROUP --help`` their commands."""

import logging

import click

from gemini.cli.commands import artifacts
from gemini.cli.commands.bulk import export_runs, import_runs
from gemini.cli.commands.database import database
from gemini.cli.commands.experiments import experiments
from gemini.cli.commands.indexes import index
from gemini.cli.commands.models import models
from gemini.cli.commands.records import records
from gemini.cli.commands.runs import runs
from gemini.cli.commands.serve import serve
from gemini.cli.commands.sync import sync
from gemini.cli.commands.tokens import tokens
from gemini.cli.errors import GeminiGroup
from gemini.cli.output import note


NOTE_LOGGERS = ("gemini.core", "gemini.db")


class _NoteHandler(logging.Handler):
    """Shows the database transport's INFO lines (a model or experiment created on first use, where a
    relative SQLite path leads) as remarks on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        note(record.getMessage())


def _show_core_notes() -> None:
    for name in NOTE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(handler, _NoteHandler) for handler in logger.handlers):
            logger.addHandler(_NoteHandler(logging.INFO))
            logger.setLevel(logging.INFO)


@click.group(cls=GeminiGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gemini")
def cli() -> None:
    """GEMINI model-run registry: record, find, compare and share model runs.

    The database is the one GEMINI_DATABASE_URL names (an SQLite file by default).
    """
    _show_core_notes()


cli.add_command(models)
cli.add_command(runs)
cli.add_command(records)
cli.add_command(experiments)
cli.add_command(database)
cli.add_command(serve)
cli.add_command(sync)
cli.add_command(tokens)
runs.add_command(import_runs)
runs.add_command(export_runs)
runs.add_command(artifacts.list_artifacts)
runs.add_command(artifacts.download)
runs.add_command(artifacts.log_artifact)
database.add_command(index)


if __name__ == "__main__":
    cli()
