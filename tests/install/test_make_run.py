"""`make run` serves where HOST and PORT on make's command line say, and on 127.0.0.1:7777 otherwise."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def serve_command(*arguments: str, environment: dict[str, str] | None = None) -> str:
    """The command `make run` would start (``make -n`` prints it without running anything)."""
    if shutil.which("make") is None:
        pytest.fail("make is not installed: the README's two commands need it", pytrace=False)
    printed = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *arguments],
        cwd=ROOT,
        env={**os.environ, **(environment or {})},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    (command,) = [line for line in printed.splitlines() if " serve" in line]
    return command


def test_make_run_serves_on_loopback_port_7777_by_default():
    assert serve_command().endswith("/gemini serve --host 127.0.0.1 --port 7777")


def test_make_run_takes_the_port_and_the_host_from_its_command_line():
    assert serve_command("PORT=8080", "HOST=0.0.0.0").endswith("/gemini serve --host 0.0.0.0 --port 8080")


def test_a_host_in_the_environment_does_not_move_the_server():
    # csh and tcsh export HOST as the machine's name; PaaS platforms export PORT.
    command = serve_command(environment={"HOST": "lab-workstation", "PORT": "5000"})
    assert command.endswith("/gemini serve --host 127.0.0.1 --port 7777")
