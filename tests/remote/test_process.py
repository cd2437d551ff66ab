"""One connection pool per process: a forked child opens its own; database commands refuse remote mode."""

import multiprocessing

from click.testing import CliRunner

from gemini.api.model_run import ModelRun
from gemini.cli.main import cli
from gemini.core import model_runs as core_runs


def _create_in_child(info: dict) -> None:
    assert ModelRun.create(model_run_info=info) is not None


def test_a_forked_child_uses_its_own_connections_and_the_parent_keeps_working(remote):
    assert ModelRun.create(model_run_info={"who": "parent", "n": 1}) is not None
    child = multiprocessing.get_context("fork").Process(target=_create_in_child, args=({"who": "child"},))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert ModelRun.create(model_run_info={"who": "parent", "n": 2}) is not None
    assert core_runs.count_runs() == 3


def test_database_commands_refuse_remote_mode_with_one_line(remote):
    for command in (["db", "upgrade"], ["db", "info"], ["db", "index", "list"], ["tokens", "list"], ["serve"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 1, command
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and "GEMINI_API_URL" in lines[0], result.stderr
