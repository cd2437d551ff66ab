"""The real ``gemini`` command object, run in-process by click's runner on both databases, and (for the
commands that work through a server) through a real ``gemini serve``."""

import json

import pytest
from click.testing import CliRunner, Result

from gemini.cli.main import cli
from tests.conftest import empty_registry


class Gemini:
    """Runs ``gemini ARGS...`` and keeps stdout and stderr apart, as a shell would."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}"
        return result

    def json(self, *args: str, input: str | None = None):  # noqa: ANN201
        return json.loads(self.ok(*args, "--json", input=input).stdout)

    def fails(self, *args: str, input: str | None = None, exit_code: int = 1) -> str:
        """Run a command that must fail; returns its one-line error message."""
        result = self(*args, input=input)
        assert result.exit_code == exit_code, f"exit {result.exit_code}: {result.stdout} {result.stderr}"
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("Error: ")
        return lines[0]


@pytest.fixture
def gemini(db) -> Gemini:
    return Gemini()



@pytest.fixture
def local(database_url, monkeypatch, tmp_path) -> Gemini:
    """The commands in-process on the database itself (SQLite and PostgreSQL), never through a server:
    for those that refuse to run through one (``db export``) and those whose output is checked with
    stderr not a terminal."""
    monkeypatch.delenv("GEMINI_API_URL", raising=False)
    empty_registry(database_url, monkeypatch, tmp_path / "artifact-store")
    return Gemini()
