"""docs/cli.md names every command the ``gemini`` command tree has."""

import re
from collections.abc import Iterator
from pathlib import Path

import click

from gemini.cli.main import cli

CLI_DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Every command a user can run, as typed after ``gemini`` (``db index add``); groups are walked."""
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield " ".join((*path, name))


def command_table() -> str:
    """The rows of docs/cli.md's table of commands."""
    text = CLI_DOCS.read_text(encoding="utf-8")
    section = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("|"))


def test_the_walk_reaches_nested_commands():
    found = set(commands(cli))
    assert {"serve", "runs import", "db index add", "db index drop"} <= found
    assert "db index" not in found and "runs" not in found


def test_every_command_is_in_the_table_of_docs_cli():
    table = command_table()
    missing = [name for name in commands(cli) if not re.search(rf"`{re.escape(name)}(?=[ `])", table)]
    assert missing == [], f"docs/cli.md's table of commands does not name: {', '.join(missing)}"
