"""What the export and import tests of several features share: switching registries, exporting and
importing through text, and writing local files."""

import io
from pathlib import Path

from gemini.core.transfer import export_registry, import_registry


def use_registry(monkeypatch, url: str, artifact_root) -> None:  # noqa: ANN001
    """Make ``url`` the configured database, with ``artifact_root`` its artifact store."""
    monkeypatch.setenv("GEMINI_DATABASE_URL", url)
    monkeypatch.setenv("GEMINI_ARTIFACT_ROOT", str(artifact_root))


def export_text() -> str:
    stream = io.StringIO()
    export_registry(stream=stream)
    return stream.getvalue()


def import_text(text: str):  # noqa: ANN201
    return import_registry(stream=io.StringIO(text))


def body_lines(export: str) -> list[str]:
    """An export's lines after its header."""
    return export.splitlines()[1:]


def local_file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / "files" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path
