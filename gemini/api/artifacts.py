"""Artifacts of a ``ModelRun``: files it stores (weights, plots) and gets back, verified.

Like every method of the seed API, each returns ``None`` when it fails, with one log line on the
``gemini.api`` logger saying why: a run that does not exist, a name that is not a plain relative path,
a local file that is missing or unreadable, a file over ``GEMINI_MAX_ARTIFACT_BYTES``, stored bytes
that no longer match their SHA-256.
"""

import os
from typing import Optional, Union

from gemini.api.base import seed_operation
from gemini.registry import registry
from gemini.domain.records import ArtifactRecord

PathLike = Union[str, "os.PathLike[str]"]


def _run_operation(operation):  # noqa: ANN001, ANN202
    """``seed_operation`` with ``None`` on failure, its log line naming the method as users call it."""
    operation.__qualname__ = f"ModelRun.{operation.__name__}"
    return seed_operation(fallback=None)(operation)


def _public(record: ArtifactRecord) -> dict:
    return {"name": record.name, "size": record.size, "sha256": record.sha256}


class ArtifactsMixin:
    """The artifact methods of ``ModelRun`` (which supplies ``id``)."""

    @_run_operation
    def log_artifact(self, path: PathLike, name: Optional[str] = None) -> Optional[dict]:
        """Store the local file ``path`` with this run as ``name`` (default: the file's name, e.g.
        ``best.pt``; a relative path such as ``weights/best.pt`` keeps folders apart). Logging a name
        again replaces it. Returns ``{"name", "size", "sha256"}``."""
        return _public(registry().log_artifact_file(run_id=self.id, path=path, name=name))

    @_run_operation
    def log_artifacts(self, directory: PathLike, prefix: Optional[str] = None) -> Optional[list]:
        """Store every file below ``directory``, named by its path relative to it (below ``prefix``
        when given: ``prefix="plots"`` stores ``plots/pr.png``). Returns one dict per file, by name."""
        return [_public(record) for record in registry().log_artifact_directory(run_id=self.id, directory=directory, prefix=prefix)]

    @_run_operation
    def list_artifacts(self) -> Optional[list]:
        """Every artifact of this run, by name: ``[{"name", "size", "sha256"}, ...]`` (``[]`` for none)."""
        return [_public(record) for record in registry().search_artifacts(run_id=self.id).items]

    @_run_operation
    def download_artifact(self, name: str, dest: Optional[PathLike] = None) -> Optional[str]:
        """Write the artifact ``name`` to ``dest`` (a file path, or a directory to write into under the
        name's last part; default: the current directory) and return the path written. The bytes are
        checked against their SHA-256 before the file appears; ``dest`` is left as it was otherwise."""
        return str(registry().download_artifact(run_id=self.id, name=name, dest=dest))
