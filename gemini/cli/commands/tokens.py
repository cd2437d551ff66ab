"""``gemini tokens``: per-user API tokens for a team server (create, list, revoke)."""

import click

from gemini.cli.output import echo_json, echo_table, jsonable, json_option, note
from gemini.domain.records import TOKEN_SCOPES
from gemini.registry import registry


@click.group()
def tokens() -> None:
    """Per-user API tokens: each person or job gets its own, with a scope (read < write < admin).

    Runs and models created over REST record the token's name as their author (created_by). With
    GEMINI_API_URL set, these commands manage the server's tokens and need an admin token
    (GEMINI_API_TOKEN).
    """


@tokens.command("create")
@click.argument("name")
@click.option(
    "--scope",
    type=click.Choice(TOKEN_SCOPES),
    default="write",
    show_default=True,
    help="read: reads only; write: record and change runs, models, experiments; admin: also manage tokens.",
)
@json_option
def create_token(name, scope, as_json) -> None:  # noqa: ANN001
    """Create a token and print it, once: the registry keeps only its hash.

    Example:

    \b
        gemini tokens create alice --scope write
    """
    record, token = registry().create_token(name=name, scope=scope)
    if as_json:
        echo_json({**jsonable(record), "token": token})
    else:
        click.echo(token)
    note(f"created {scope} token {name!r}; it is shown only this once, store it now")


@tokens.command("list")
@json_option
def list_tokens(as_json) -> None:  # noqa: ANN001
    """List tokens: names, scopes, when created, last used and revoked (never the tokens)."""
    records = registry().list_tokens()
    if as_json:
        echo_json([jsonable(record) for record in records])
        return
    if not records:
        note("no tokens; create one with: gemini tokens create NAME --scope read|write|admin")
        return
    echo_table(
        ("NAME", "SCOPE", "CREATED", "LAST USED", "REVOKED"),
        [(r.name, r.scope, r.created_at, r.last_used_at, r.revoked_at) for r in records],
    )


@tokens.command("revoke")
@click.argument("name")
def revoke_token(name) -> None:  # noqa: ANN001
    """Refuse a token from now on (its name stays taken, so past authorship stays unambiguous)."""
    record = registry().revoke_token(name=name)
    note(f"revoked token {record.name!r}")
