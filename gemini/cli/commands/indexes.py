"""``gemini db index``: hot keys, info paths indexed for fast ranges and sorting (docs/search.md)."""

import click

from gemini.backend import info_indexes
from gemini.cli.errors import GeminiCommandError
from gemini.cli.output import echo_json, json_option, note


@click.group("index")
def index() -> None:
    """Hot keys: info paths with their own index on both databases, for ranges and order_by."""


@index.command("add")
@click.argument("path")
def add(path: str) -> None:
    """Index the info PATH (e.g. params.lr, or metrics.`map50-95`); searches use it at once.

    Example:

        gemini db index add params.lr
    """
    if info_indexes.add_hot_key(path=path):
        note(f"indexed {path}")
    else:
        note(f"{path} was already indexed")


@index.command("list")
@json_option
def list_(as_json: bool) -> None:
    """The indexed paths, oldest first."""
    keys = info_indexes.list_hot_keys()
    if as_json:
        echo_json([{"path": key.path, "index_name": key.index_name, "created_at": key.created_at.isoformat()} for key in keys])
        return
    for key in keys:
        click.echo(key.path)


@index.command("drop")
@click.argument("path")
def drop(path: str) -> None:
    """Drop the index of the info PATH."""
    if not info_indexes.drop_hot_key(path=path):
        raise GeminiCommandError(f"{path} is not an indexed path (see 'gemini db index list')")
    note(f"dropped the index on {path}")
