"""``gemini db``: the database's schema version and contents."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from gemini.cli.errors import GeminiCommandError
from gemini.cli.output import count_lines, counted_lines, echo_json, echo_record, json_option, note
from gemini.registry import registry, require_database

if TYPE_CHECKING:
    from gemini.core.transfer import TransferCounts


# The administration commands import gemini.core when run: a client installed to work through a server
# (GEMINI_API_URL) has no database packages.


@click.group("db")
def database() -> None:
    """The database that GEMINI_DATABASE_URL names (default: an SQLite file in the user data directory)."""


@database.command("upgrade")
def upgrade() -> None:
    """Apply pending schema migrations (creating the schema in an empty database)."""
    require_database("'gemini db upgrade'")
    from gemini.core.database import upgrade_database

    result = upgrade_database()
    if result.revision_before == result.revision_after:
        note(f"{result.url} is already at schema revision {result.revision_after}")
    else:
        before = result.revision_before or "empty"
        note(f"upgraded {result.url} from {before} to schema revision {result.revision_after}")


@database.command("info")
@json_option
def info(as_json) -> None:  # noqa: ANN001
    """Show the database URL (password hidden), its schema revision and what it holds."""
    require_database("'gemini db info'")
    from gemini.core.database import database_info

    details = database_info()
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


@database.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="File to write (default: standard output), as 'runs export' and 'records export' take it.",
)
def export(file: str | None, output: str | None) -> None:
    """Write every model, experiment, run, model version and model record, with ids and timestamps, as
    JSON Lines to --output FILE (default: standard output; FILE alone, as before, works too). The file
    is written whole or not at all; artifacts' and record files' bytes stay in the artifact store.

    Example:

        gemini db export -o registry.jsonl
    """
    if file is not None and output is not None and file != output:
        raise GeminiCommandError(f"give the file once: as --output {output!r} or as FILE {file!r}, not both")
    target = output or file or "-"
    try:
        if target == "-":
            with click.open_file(target, "w", encoding="utf-8") as stream:
                with counted_lines(stream, label="exporting lines", length=None, writes_stdout=True) as counted:
                    counts = registry().export_registry(stream=counted)
        else:
            counts = _export_to_file(Path(target))
    except OSError as exc:  # a directory that does not exist, a full disk
        raise click.FileError(target, hint=exc.strerror or str(exc)) from exc
    note(f"exported {_counted(counts)}")


def _export_to_file(path: Path) -> TransferCounts:
    """Export into a temporary file beside ``path`` that replaces it only once complete (click's atomic
    files replace the target even when the write failed)."""
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o666  # an existing file keeps its mode
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with open(descriptor, "w", encoding="utf-8") as stream:
            with counted_lines(stream, label="exporting lines", length=None) as counted:
                counts = registry().export_registry(stream=counted)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return counts


@database.command("import")
@click.argument("stream", metavar="FILE", type=click.File("r", encoding="utf-8"))
def import_(stream: TextIO) -> None:
    """Load a file written by 'gemini db export' (or '-' for standard input) into this database.

    Records keep their ids and timestamps; what the database already has is left unchanged, so importing
    the same file twice adds nothing. A bad line stops the import and nothing is written.

    Example:

        GEMINI_DATABASE_URL=postgresql://team-server/gemini gemini db import registry.jsonl
    """
    with counted_lines(stream, label="importing lines", length=count_lines(stream)) as counted:
        summary = registry().import_registry(stream=counted)
    note(f"added {_counted(summary.added)}; already present {_counted(summary.already_present)}")


@database.command("gc")
@json_option
def gc(as_json) -> None:  # noqa: ANN001
    """Remove the artifact blobs that no run uses any more and the unfinished uploads of dead processes.

    Deleting a run already removes its blobs; this sweeps what a crash left behind. Safe to run beside
    a live server: uploads in progress are left alone.

    Example:

        gemini db gc
    """
    require_database("'gemini db gc'")
    from gemini.core.artifacts import artifact_store, collect_garbage

    result = collect_garbage()
    if as_json:
        echo_json(dataclasses.asdict(result))
        return
    note(
        f"removed {result.blobs_removed} unused blobs ({result.bytes_freed} bytes) and "
        f"{result.temporary_files_removed} unfinished uploads from {artifact_store().root}"
    )


def _counted(counts: TransferCounts) -> str:
    return (
        f"{counts.experiments} experiments, {counts.models} models, "
        f"{counts.model_experiments} model-experiment links, {counts.model_runs} model runs, "
        f"{counts.metric_points} metric points, {counts.model_versions} model versions, "
        f"{counts.model_version_aliases} version aliases, {counts.datasets} datasets, {counts.seasons} seasons, "
        f"{counts.sites} sites, {counts.model_records} model records"
    )


@database.command("migrate-artifacts")
@click.option("--to", "target", required=True, metavar="ROOT", help="The new store: s3://BUCKET/PREFIX or a directory.")
@json_option
def migrate_artifacts(target: str, as_json) -> None:  # noqa: ANN001
    """Copy every blob the registry uses (artifacts, model versions, record files) into another store.

    Each blob is checked against its SHA-256 as it is read and written; blobs the target holds already
    are skipped, so an interrupted copy resumes where it stopped. The current store is left as it was:
    set GEMINI_ARTIFACT_ROOT to the new one once this is done (and restart the servers), then remove
    the old one when you no longer want it. Works either way, directory to bucket and back.

    Example:

        AWS_ENDPOINT_URL=http://minio.lab:9000 gemini db migrate-artifacts --to s3://gemini/artifacts
    """
    require_database("'gemini db migrate-artifacts'")
    from gemini.core.artifacts import artifact_store, blobs_to_migrate
    from gemini.core.artifacts import migrate_artifacts as migrate
    from gemini.cli.output import progress_shown

    count, total_bytes = blobs_to_migrate()
    source = artifact_store()
    if progress_shown():
        with click.progressbar(length=total_bytes, label=f"copying {count} blobs", file=click.get_text_stream("stderr")) as bar:
            result = migrate(to=target, progress=bar.update)
    else:
        result = migrate(to=target)
    if as_json:
        echo_json(dataclasses.asdict(result))
        return
    note(
        f"copied {result.copied} blobs ({result.bytes_copied} bytes) from {source} to {target}; "
        f"{result.already_there} were there already. Now set GEMINI_ARTIFACT_ROOT={target}"
    )
