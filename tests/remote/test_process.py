"""One connection pool per process: a forked child opens its own; database commands refuse remote mode."""

import multiprocessing

from click.testing import CliRunner

from gemini.registry import registry
from gemini.api.model_run import ModelRun
from gemini.cli.main import cli


def _create_in_child(info: dict) -> None:
    assert ModelRun.create(model_run_info=info) is not None


def test_a_forked_child_uses_its_own_connections_and_the_parent_keeps_working(remote):
    assert ModelRun.create(model_run_info={"who": "parent", "n": 1}) is not None
    child = multiprocessing.get_context("fork").Process(target=_create_in_child, args=({"who": "child"},))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert ModelRun.create(model_run_info={"who": "parent", "n": 2}) is not None
    assert registry().count_runs() == 3


def test_database_commands_refuse_remote_mode_with_one_line(remote):
    for command in (["db", "upgrade"], ["db", "info"], ["db", "index", "list"], ["serve"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 1, command
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and "GEMINI_API_URL" in lines[0], result.stderr


def test_tokens_are_managed_through_the_server_with_an_admin_token(remote):
    result = CliRunner().invoke(cli, ["tokens", "list"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: this server needs a token for managing tokens: send 'Authorization: Bearer <token>' or "
        "'X-API-Key: <token>'"
    ]
