"""``gemini runs artifacts | download | log-artifact``: the files a run stores."""

from pathlib import Path

import click

from gemini.cli.output import echo_json, echo_table, jsonable, json_option, note
from gemini.cli.paths import download_destination
from gemini.cli.transfer_progress import transfer_progress
from gemini.registry import registry

HEADERS = ("NAME", "SIZE", "SHA256", "CREATED")


def _echo_artifacts(records, *, as_json: bool) -> None:  # noqa: ANN001
    if as_json:
        echo_json([jsonable(record) for record in records])
        return
    echo_table(HEADERS, [(record.name, record.size, record.sha256, record.created_at) for record in records])


@click.command("artifacts")
@click.argument("run_id", metavar="RUN")
@json_option
def list_artifacts(run_id, as_json) -> None:  # noqa: ANN001
    """List the artifacts of RUN by name, with their size in bytes and SHA-256.

    Example:

    \b
        gemini runs artifacts 01a2...
    """
    records = registry().search_artifacts(run_id=run_id).items
    if not records and not as_json:
        note(f"model run {run_id} has no artifacts")
        return
    _echo_artifacts(records, as_json=as_json)


@click.command("download")
@click.argument("run_id", metavar="RUN")
@click.argument("name")
@click.argument("dest", required=False, type=click.Path())
def download(run_id, name, dest) -> None:  # noqa: ANN001
    """Write the artifact NAME of RUN to DEST: a file, or a directory to write into under the last part
    of NAME (default: the current directory). A DEST ending in '/' is a directory, created if missing.
    The bytes are checked against their SHA-256 before the file appears; an existing file is replaced.

    Examples:

    \b
        gemini runs download 01a2... weights/best.pt
        gemini runs download 01a2... weights/best.pt models/
        gemini runs download 01a2... plots/pr.png /tmp/pr.png
    """
    with download_destination(dest) as target, transfer_progress(f"downloading {name}", total=None):
        written = registry().download_artifact(run_id=run_id, name=name, dest=target)
    click.echo(str(written))


@click.command("log-artifact")
@click.argument("run_id", metavar="RUN")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--name",
    help="The artifact's name (default: the file's name); for a directory, the prefix of the names.",
)
@json_option
def log_artifact(run_id, path, name, as_json) -> None:  # noqa: ANN001
    """Store the file PATH with RUN, or every file below PATH when it is a directory (named by their path
    relative to it). Logging a name again replaces it.

    Examples:

    \b
        gemini runs log-artifact 01a2... runs/train/weights/best.pt
        gemini runs log-artifact 01a2... runs/train/plots --name plots
    """
    files = [item for item in path.rglob("*") if item.is_file()] if path.is_dir() else [path]
    with transfer_progress(f"storing {len(files)} file{'s' if len(files) != 1 else ''}", total=sum(item.stat().st_size for item in files)):
        if path.is_dir():
            records = registry().log_artifact_directory(run_id=run_id, directory=path, prefix=name)
        else:
            records = [registry().log_artifact_file(run_id=run_id, path=path, name=name)]
    note(f"stored {len(records)} artifact{'s' if len(records) != 1 else ''} with model run {run_id}")
    _echo_artifacts(records, as_json=as_json)
