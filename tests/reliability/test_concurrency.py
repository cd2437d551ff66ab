"""Real processes writing and reading one registry at once: no error reaches a caller, no run is lost or
duplicated. The processes are spawned (a pool kept for the session) and each finds the database through
``GEMINI_DATABASE_URL``, as separate programs would.
"""

import time

from gemini.registry import registry

from . import workers

WRITERS = 8
RUNS_PER_WRITER = 500
READERS = 2
TIMEOUT = 300


def test_sqlite_8_writers_and_2_readers_lose_nothing_and_see_no_error(memory_sqlite_url, process_pool, manager, capsys):
    url = memory_sqlite_url
    registry().create_model(model_name="load")
    start, stop = manager.Barrier(WRITERS + READERS), manager.Event()
    readers = [process_pool.apply_async(workers.search_until_stopped, (url, stop, start)) for _ in range(READERS)]
    began = time.perf_counter()
    writers = [
        process_pool.apply_async(workers.create_distinct_runs, (url, w, RUNS_PER_WRITER, start)) for w in range(WRITERS)
    ]
    writer_reports = [writer.get(timeout=TIMEOUT) for writer in writers]
    elapsed = time.perf_counter() - began
    stop.set()
    reader_reports = [reader.get(timeout=60) for reader in readers]

    assert [error for errors, _ in writer_reports + reader_reports for error in errors] == []
    assert registry().count_runs(model_name="load") == WRITERS * RUNS_PER_WRITER
    infos = [(run.model_run_info["writer"], run.model_run_info["n"]) for run in registry().search_runs().items]
    assert sorted(infos) == [(w, n) for w in range(WRITERS) for n in range(RUNS_PER_WRITER)]
    searches = sum(queries for _, queries in reader_reports)
    assert searches > 0
    with capsys.disabled():
        print(
            f"\n[reliability] {WRITERS * RUNS_PER_WRITER} runs by {WRITERS} processes in {elapsed:.1f} s "
            f"({WRITERS * RUNS_PER_WRITER / elapsed:.0f} runs/s) while {READERS} readers ran {searches} searches"
        )


def test_8_processes_creating_the_same_run_get_one_row_and_one_id(db, process_pool, manager):
    registry().create_model(model_name="shared")
    start = manager.Barrier(8)
    pending = [process_pool.apply_async(workers.create_same_run, (db, start)) for _ in range(8)]
    ids = [result.get(timeout=TIMEOUT) for result in pending]
    assert len(set(ids)) == 1, ids  # an error would show up here as its message
    (run,) = registry().search_runs().items
    assert str(run.id) == ids[0]


def test_concurrent_replacements_of_one_run_end_with_the_last_write_and_no_error(db, process_pool, manager):
    registry().create_model(model_name="m")
    run, _ = registry().create_run(model_run_info={"writer": None, "step": None}, model_name="m")
    steps = 15
    start = manager.Barrier(8)
    pending = [
        process_pool.apply_async(workers.replace_info_repeatedly, (db, str(run.id), w, steps, start)) for w in range(8)
    ]
    reports = [result.get(timeout=TIMEOUT) for result in pending]

    assert [error for errors, _ in reports for error in errors] == []
    for writer, (_, returned) in enumerate(reports):  # each caller got back exactly what it wrote, in order
        assert returned == [{"writer": writer, "step": step} for step in range(steps)]
    final = registry().get_run(run_id=run.id)
    # Each writer's updates are sequential, so whichever commit came last is some writer's last step.
    assert final.model_run_info["step"] == steps - 1
    assert final.model_run_info["writer"] in range(8)
    assert registry().count_runs() == 1
    assert final.model_id == run.model_id
