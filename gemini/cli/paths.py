"""The DEST of the download commands: a file, or a directory to write into."""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from gemini.cli.errors import GeminiCommandError
from gemini.cli.output import note


def _names_a_directory(text: str) -> bool:
    return text.endswith(("/", os.sep)) or (os.altsep is not None and text.endswith(os.altsep))


@contextlib.contextmanager
def download_destination(text: str | None) -> Iterator[Path | None]:
    """DEST as the registry's downloads take it (an existing directory is written into). A DEST ending in
    '/' names a directory even when it does not exist yet: it is created, and removed again if the
    download fails while it is still empty, so that a slash never becomes a file of that name."""
    if text is None:
        yield None
        return
    path = Path(text)
    if not _names_a_directory(text) or path.is_dir():
        yield path
        return
    if path.exists():
        raise GeminiCommandError(f"{text} ends with '/' but {path} is a file, not a directory")
    created = [parent for parent in (path, *path.parents) if not parent.exists()]
    try:
        path.mkdir(parents=True)
    except OSError as exc:
        raise GeminiCommandError(f"cannot create the directory {text}: {exc.strerror or exc}") from exc
    try:
        yield path
    except BaseException:
        for directory in created:  # deepest first
            with contextlib.suppress(OSError):
                directory.rmdir()  # only while empty
        raise
    note(f"created the directory {text}")
