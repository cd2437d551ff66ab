"""``gemini db index``: hot keys, info paths indexed for fast ranges and sorting (docs/search.md)."""

import click

from gemini.cli.errors import GeminiCommandError
from gemini.cli.output import echo_json, json_option, note
from gemini.registry import require_database

# gemini.core is imported inside each command: a client installed to work through a server
# (GEMINI_API_URL) has no database packages.


@click.group("index")
@click.pass_context
def index(context: click.Context) -> None:
    """Hot keys: info paths with their own index on both databases, for ranges and order_by."""
    require_database(f"'gemini db index {context.invoked_subcommand}'")


@index.command("add")
@click.argument("path")
def add(path: str) -> None:
    """Index the info PATH (e.g. params.lr, or metrics.`map50-95`); searches use it at once.

    Example:

        gemini db index add params.lr
    """
    from gemini.core.info_indexes import add_hot_key

    if add_hot_key(path=path):
        note(f"indexed {path}")
    else:
        note(f"{path} was already indexed")


@index.command("list")
@json_option
def list_(as_json: bool) -> None:
    """The indexed paths, oldest first."""
    from gemini.core.info_indexes import list_hot_keys

    keys = list_hot_keys()
    if as_json:
        echo_json([{"path": key.path, "index_name": key.index_name, "created_at": key.created_at.isoformat()} for key in keys])
        return
    for key in keys:
        click.echo(key.path)


@index.command("drop")
@click.argument("path")
def drop(path: str) -> None:
    """Drop the index of the info PATH."""
    from gemini.core.info_indexes import drop_hot_key

    if not drop_hot_key(path=path):
        raise GeminiCommandError(f"{path} is not an indexed path (see 'gemini db index list')")
    note(f"dropped the index on {path}")
