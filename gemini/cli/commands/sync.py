"""``gemini sync``: send what the offline spool holds to the server, and say what is left."""

import click

from gemini.cli.errors import GeminiCommandError
from gemini.cli.output import echo_json, json_option, note
from gemini.registry import remote


@click.command("sync")
@click.option("--show-failed", is_flag=True, help="Also list the entries the server refused, with its reasons.")
@json_option
def sync(show_failed: bool, as_json: bool) -> None:
    """Send the metric batches, artifacts and run ends that tracked runs kept in the offline spool while
    the server (GEMINI_API_URL) could not be reached. Exits with 1 when entries are left to send.

    Example:

    \b
        GEMINI_API_URL=http://registry.lab:7777 gemini sync
    """
    if not remote():
        raise GeminiCommandError("sync sends the offline spool to a server: set GEMINI_API_URL to the server's address")
    from gemini.remote import transport
    from gemini.tracking import spool

    report = transport.sync(wait=True)
    failed = spool.failed_entries() if show_failed else []
    if as_json:
        echo_json(
            {
                "sent": report.sent,
                "left": report.left,
                "failed": report.failed,
                "other_servers": report.other_servers,
                "error": report.error,
                "failed_entries": [
                    {"run_id": entry.run_id, "kind": entry.kind, "server": entry.server, "reason": reason}
                    for entry, reason in failed
                ],
            }
        )
    else:
        note(report.describe())
        for entry, reason in failed:
            note(f"refused: {entry.kind} of run {entry.run_id} for {entry.server}: {reason}")
    if report.left:
        raise SystemExit(1)
