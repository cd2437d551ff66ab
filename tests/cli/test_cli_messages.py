"""Messages that say what was wrong and what to write instead: the database URL, a relative SQLite path,
GEMINI_API_URL, an SQL-style --order-by."""

import uuid
from pathlib import Path

import pytest

from gemini.domain.errors import InvalidInputError
from gemini.registry import registry
from tests.cli.conftest import Gemini

SUPPORTED = "gemini works on SQLite (sqlite:///path/to/file.db) and PostgreSQL (postgresql://user@host/database)"


@pytest.fixture
def db(registry_url) -> str:
    """--order-by is checked the same on SQLite, on PostgreSQL and through a server."""
    return registry_url


@pytest.fixture
def local(monkeypatch) -> Gemini:
    """The command line with no registry configured yet: each test names its own database."""
    monkeypatch.delenv("GEMINI_API_URL", raising=False)
    return Gemini()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://lab:s3cret@db.lab/gemini", f"Error: the database URL mysql://lab:***@db.lab/gemini is for mysql; {SUPPORTED}"),
        ("mssql+pyodbc://db.lab/gemini", f"Error: the database URL mssql+pyodbc://db.lab/gemini is for mssql; {SUPPORTED}"),
        (
            "postgres://lab:s3cret@db.lab/gemini",
            "Error: the database URL postgres://lab:***@db.lab/gemini starts with postgres://, which SQLAlchemy 2 "
            "no longer accepts: write postgresql:// (postgresql://lab:***@db.lab/gemini)",
        ),
        (
            "postgres+psycopg://db.lab/gemini",
            "Error: the database URL postgres+psycopg://db.lab/gemini starts with postgres+psycopg://, which "
            "SQLAlchemy 2 no longer accepts: write postgresql+psycopg:// (postgresql+psycopg://db.lab/gemini)",
        ),
    ],
)
@pytest.mark.parametrize("command", [("runs", "list"), ("db", "upgrade"), ("db", "info")])
def test_an_unsupported_database_url_is_one_line_saying_what_to_write(local, monkeypatch, url, message, command):
    monkeypatch.setenv("GEMINI_DATABASE_URL", url)
    assert local.fails(*command) == message


def test_the_python_api_gets_the_same_refusal(monkeypatch):
    monkeypatch.delenv("GEMINI_API_URL", raising=False)
    monkeypatch.setenv("GEMINI_DATABASE_URL", "mysql://db.lab/gemini")
    with pytest.raises(InvalidInputError, match="gemini works on SQLite"):
        registry().count_runs()


def test_a_relative_sqlite_path_is_told_as_the_absolute_file_once(local, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    relative = f"registries-{uuid.uuid4().hex[:8]}/gemini.db"  # a path no other test has made this process tell
    monkeypatch.setenv("GEMINI_DATABASE_URL", f"sqlite:///{relative}")
    monkeypatch.setenv("GEMINI_ARTIFACT_ROOT", str(tmp_path / "store"))
    first = local.ok("runs", "list")
    absolute = Path(tmp_path, relative).resolve()
    assert first.stderr.splitlines()[0] == (
        f"the SQLite database {relative} is {absolute}: its path is relative to the current directory "
        "(sqlite:////absolute/path.db names one file from anywhere)"
    )
    assert absolute.exists()
    assert "relative" not in local.ok("runs", "list").stderr


def test_an_absolute_sqlite_path_is_not_remarked_on(local, monkeypatch, tmp_path):
    monkeypatch.setenv("GEMINI_DATABASE_URL", f"sqlite:///{tmp_path / 'gemini.db'}")
    monkeypatch.setenv("GEMINI_ARTIFACT_ROOT", str(tmp_path / "store"))
    assert local.ok("runs", "list").stderr.strip() == "no model runs found"


@pytest.mark.remote
@pytest.mark.parametrize("suffix", ["/api", "/api/"])
def test_an_api_url_ending_in_api_is_the_same_server(local, monkeypatch, remote_registry, suffix):
    monkeypatch.setenv("GEMINI_API_URL", remote_registry.url + suffix)
    created = local.json("runs", "create", '{"through": "the api address"}')
    monkeypatch.setenv("GEMINI_API_URL", remote_registry.url)
    assert local.json("runs", "show", created["id"]) == created


@pytest.mark.remote
def test_an_api_url_that_is_not_a_servers_root_says_so(local, monkeypatch, remote_registry):
    monkeypatch.setenv("GEMINI_API_URL", remote_registry.url + "/docs")
    assert local.fails("runs", "list") == (
        f"Error: {remote_registry.url}/docs/api/health answered 404 with no gemini REST API version: "
        "GEMINI_API_URL should be the root address of a gemini server (e.g. http://registry.lab:7777)"
    )


@pytest.mark.parametrize(
    ("order_by", "suggested"),
    [
        ("metrics.map50 desc", "-metrics.map50"),
        ("metrics.map50 DESC, params.lr asc", "-metrics.map50,params.lr"),
        ("params.lr, metrics.map50 descending", "params.lr,-metrics.map50"),
    ],
)
@pytest.mark.parametrize("command", [("runs", "search", "--where", "params.lr > 0"), ("runs", "export")])
def test_an_sql_style_order_hints_at_the_leading_minus(gemini, order_by, suggested, command):
    message = gemini.fails(*command, "--order-by", order_by)
    assert message.startswith("Error: order_by: expected ',' or the end of the order")
    assert message.endswith(f"; a leading '-' means descending: --order-by '{suggested}'")


def test_other_order_mistakes_keep_the_parsers_words(gemini):
    message = gemini.fails("runs", "search", "--where", "params.lr > 0", "--order-by", "metrics.map50,")
    assert message.startswith("Error: order_by: ") and "leading '-' means descending:" not in message


def test_the_suggested_order_is_accepted(gemini):
    for score in (0.5, 0.9, 0.7):
        gemini.ok("runs", "create", f'{{"metrics": {{"map50": {score}}}}}')
    found = gemini.json("runs", "search", "--where", "metrics.map50 > 0", "--order-by", "-metrics.map50")
    assert [run["model_run_info"]["metrics"]["map50"] for run in found] == [0.9, 0.7, 0.5]
