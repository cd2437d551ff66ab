"""Progress bars of the bulk commands: on stderr when it is a terminal, nothing at all when it is not,
and never on the screen the output itself goes to.

The terminal is a real pseudo-terminal given to the ``gemini`` executable as its stderr; SQLite only,
since what is tested is the terminal, not the database.
"""

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest


RUNS = 1200
EXECUTABLE = Path(sys.executable).parent / "gemini"


@pytest.fixture
def files(tmp_path) -> Path:
    """A JSON Lines file of runs and a CSV file of records to import."""
    (tmp_path / "runs.jsonl").write_text(
        "".join(json.dumps({"epoch": i, "loss": 1 / (i + 1)}) + "\n" for i in range(RUNS)), encoding="utf-8"
    )
    (tmp_path / "counts.csv").write_text(
        "timestamp,plot,count\n" + "".join(f"2026-06-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z,{i},{i % 7}\n" for i in range(RUNS)),
        encoding="utf-8",
    )
    return tmp_path


def on_a_terminal(args: list[str], directory: Path, *, stdout_too: bool = False) -> tuple[int, str, str]:
    """``gemini ARGS`` with stderr (and with ``stdout_too`` stdout) on a pseudo-terminal: its exit status,
    what the terminal showed, and what went to stdout when that is a file."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GEMINI_")}
    environment["GEMINI_DATABASE_URL"] = f"sqlite:///{directory / 'gemini.db'}"
    environment["GEMINI_ARTIFACT_ROOT"] = str(directory / "artifact-store")
    controller, terminal = pty.openpty()
    with open(directory / "stdout.txt", "wb") as stdout_file:
        process = subprocess.Popen(
            [str(EXECUTABLE), *args],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=terminal if stdout_too else stdout_file,
            stderr=terminal,
        )
    os.close(terminal)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal (Linux reports EIO)
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    status = process.wait(timeout=120)
    return status, shown.decode(), (directory / "stdout.txt").read_text()


def test_each_bulk_command_draws_a_bar_on_a_terminal(files):
    status, shown, _ = on_a_terminal(["runs", "import", str(files / "runs.jsonl"), "--model", "m"], files)
    assert status == 0, shown
    assert "importing runs  [" in shown and "100%" in shown
    assert shown.rstrip().endswith(f"{RUNS} runs created, 0 already existed")

    status, shown, _ = on_a_terminal(["runs", "export", "-o", str(files / "out.jsonl")], files)
    assert status == 0 and "exporting runs  [" in shown and "100%" in shown, shown
    assert len((files / "out.jsonl").read_text().splitlines()) == RUNS

    status, shown, _ = on_a_terminal(["records", "import", str(files / "counts.csv"), "--model", "m"], files)
    assert status == 0 and "importing records  [" in shown and "100%" in shown, shown

    status, shown, _ = on_a_terminal(["records", "export", "--model", "m", "-o", str(files / "records.jsonl")], files)
    assert status == 0 and "exporting records  [" in shown and "100%" in shown, shown

    status, shown, _ = on_a_terminal(["db", "export", "-o", str(files / "registry.jsonl")], files)
    assert status == 0 and "exporting lines  " in shown, shown
    lines = len((files / "registry.jsonl").read_text().splitlines())
    assert f"exporting lines  {lines}" in shown  # without a length known ahead, the count of lines done

    status, shown, _ = on_a_terminal(["db", "import", str(files / "registry.jsonl")], files)
    assert status == 0 and "importing lines  [" in shown and "100%" in shown, shown


def test_an_export_to_stdout_draws_the_bar_only_when_stdout_is_not_the_terminal(files):
    on_a_terminal(["runs", "import", str(files / "runs.jsonl")], files)
    status, shown, written = on_a_terminal(["runs", "export"], files)
    assert status == 0 and "exporting runs  [" in shown
    assert [json.loads(line)["model_run_info"]["epoch"] for line in written.splitlines()] == list(range(RUNS))

    status, shown, _ = on_a_terminal(["runs", "export"], files, stdout_too=True)
    assert status == 0 and "exporting runs" not in shown
    assert shown.count('"model_run_info"') == RUNS


def test_nothing_but_the_remarks_when_stderr_is_not_a_terminal(local, files):
    commands = [
        (["runs", "import", str(files / "runs.jsonl"), "--model", "m"], f"{RUNS} runs created, 0 already existed"),
        (["runs", "export", "-o", str(files / "out.csv"), "--format", "csv"], f"{RUNS} runs exported"),
        (["records", "import", str(files / "counts.csv"), "--model", "m"], f"{RUNS} records new, 0 already stored"),
        (["records", "export", "--model", "m", "-o", str(files / "records.jsonl")], f"{RUNS} model records exported"),
        (["db", "export", "-o", str(files / "registry.jsonl")], "exported 0 experiments, 1 models"),
        (["db", "import", str(files / "registry.jsonl")], "added 0 experiments"),
    ]
    for args, remark in commands:
        remarks = local.ok(*args).stderr.splitlines()
        assert remarks[-1].startswith(remark), (args, remarks)
        assert not any("importing" in line or "exporting" in line or "%" in line for line in remarks), (args, remarks)


def test_json_output_on_stdout_is_untouched_when_stderr_is_not_a_terminal(local, files):
    local.ok("runs", "import", str(files / "runs.jsonl"))
    result = local.ok("runs", "export")
    assert [json.loads(line)["model_run_info"]["epoch"] for line in result.stdout.splitlines()] == list(range(RUNS))
    assert result.stderr == f"{RUNS} runs exported\n"
