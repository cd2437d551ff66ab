"""Bodies of the child processes the reliability tests start (spawned, so they must be importable).

Each child takes the database URL as an argument and sets ``GEMINI_DATABASE_URL`` itself, as a separate
program using the registry would. Failures are reported back as text, never raised across processes.
"""

import os
import time
import traceback
from typing import Any

from gemini.registry import registry
from gemini.domain.errors import GeminiError


def _use(url: str) -> None:
    os.environ["GEMINI_DATABASE_URL"] = url


def ready(start: Any) -> int:
    """Hold a pool worker until every worker holds one task, so each is started and warm."""
    start.wait()
    return os.getpid()


def create_distinct_runs(url: str, writer: int, count: int, start: Any) -> tuple[list[str], float]:
    """Create ``count`` runs of model "load", each with its own info; report (errors, seconds)."""
    _use(url)
    errors: list[str] = []
    start.wait()
    began = time.perf_counter()
    for n in range(count):
        try:
            registry().create_run(model_run_info={"writer": writer, "n": n}, model_name="load")
        except GeminiError as exc:
            errors.append(f"create {writer}/{n}: {exc}")
    return errors, time.perf_counter() - began


def search_until_stopped(url: str, stop: Any, start: Any) -> tuple[list[str], int]:
    """Search by containment and count, over and over, until ``stop`` is set; report (errors, queries)."""
    _use(url)
    errors: list[str] = []
    queries = 0
    start.wait()
    while not stop.is_set():
        try:
            found = registry().search_runs(model_run_info={"writer": queries % 8}, limit=50).items
            if any(run.model_run_info["writer"] != queries % 8 for run in found):
                errors.append(f"search {queries}: a run that does not match")
            registry().count_runs(model_name="load")
        except GeminiError as exc:
            errors.append(f"search {queries}: {exc}")
        queries += 1
    return errors, queries


def create_same_run(url: str, start: Any) -> str:
    _use(url)
    start.wait()
    try:
        return str(registry().create_run(model_run_info={"dataset": "same", "seed": 7}, model_name="shared")[0].id)
    except GeminiError as exc:
        return f"error: {exc}"


def replace_info_repeatedly(url: str, run_id: str, writer: int, steps: int, start: Any) -> tuple[list[str], list]:
    """Replace one run's info ``steps`` times; report the infos the database returned and any errors."""
    _use(url)
    errors: list[str] = []
    returned: list[dict] = []
    start.wait()
    for step in range(steps):
        info = {"writer": writer, "step": step}
        try:
            returned.append(registry().replace_run_info(run_id=run_id, model_run_info=info).model_run_info)
        except GeminiError as exc:
            errors.append(f"replace {writer}/{step}: {exc}")
    return errors, returned


def bulk_write_until_killed(url: str, batch: int, mid_batch: Any) -> None:
    """Insert ``batch`` runs in one unit of work; announce the middle of the batch, then keep writing.

    The parent kills this process with SIGKILL once it hears the announcement, so the transaction never
    commits. Should it survive, it sleeps before committing to leave the parent time to kill it.
    """
    _use(url)
    from gemini.domain.checks import check_info
    from gemini.db.engine import unit_of_work
    from gemini.db.repositories import ModelRunRepository

    try:
        with unit_of_work(write=True) as connection:
            runs = ModelRunRepository(connection)
            for n in range(batch):
                info = check_info({"batch": "killed", "n": n, "pad": "x" * 1000}, field="model_run_info")
                runs.add(model_id=None, info=info.value, info_hash=info.hash)
                if n == batch // 2:  # by now the batch is larger than SQLite's page cache: it is in the WAL
                    mid_batch.set()
            time.sleep(60)
    except BaseException:  # noqa: BLE001 - report anything to the parent through the exit code
        traceback.print_exc()
        os._exit(3)
