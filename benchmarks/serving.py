"""A real ``gemini serve`` for a benchmark: on a free loopback port, over a given database, stopped with
its process group when the block ends."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Served:
    url: str
    pid: int


@contextlib.contextmanager
def served(database_url: str, scratch: Path, environment: dict[str, str] | None = None) -> Iterator[Served]:
    """``gemini serve`` over ``database_url`` (no other ``GEMINI_*`` setting but ``environment``'s),
    once it answers ``/api/health``; its output in ``scratch``."""
    port = free_port()
    executable = Path(sys.executable).with_name("gemini")
    command = [str(executable) if executable.exists() else "gemini", "serve", "--host", "127.0.0.1", "--port", str(port)]
    settings = {key: value for key, value in os.environ.items() if not key.startswith("GEMINI_")}
    settings |= {"GEMINI_DATABASE_URL": database_url, **(environment or {})}
    server_log = scratch / f"serve-{port}.log"
    url = f"http://127.0.0.1:{port}"
    with open(server_log, "wb") as output:
        server = subprocess.Popen(command, env=settings, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gemini serve exited with {server.returncode}: {server_log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("gemini serve did not answer /api/health within 120 s")
            time.sleep(0.1)
        yield Served(url, server.pid)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
