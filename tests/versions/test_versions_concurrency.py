"""Eight processes registering versions of one model at the same moment, on SQLite, PostgreSQL and
through a server: every registration gets a number, and the numbers are 1 to N, no gap, no repeat."""

import os

from gemini.api.model_version import ModelVersion
from gemini.registry import registry
from tests.versions import workers
from tests.versions.conftest import MODEL, WEIGHTS

PROCESSES = 8
EACH = 4
TIMEOUT = 240


def test_8_processes_registering_at_once_get_1_to_n(run, process_pool, manager):
    settings = {key: value for key, value in os.environ.items() if key.startswith("GEMINI_")}
    start = manager.Barrier(PROCESSES)
    pending = [
        process_pool.apply_async(workers.register_versions, (settings, str(run.id), WEIGHTS, EACH, start))
        for _ in range(PROCESSES)
    ]
    received = [number for result in pending for number in result.get(timeout=TIMEOUT)]
    assert sorted(received, key=str) == sorted(range(1, PROCESSES * EACH + 1), key=str), received
    assert [version.version for version in ModelVersion.get_all(MODEL)] == list(range(1, PROCESSES * EACH + 1))
    # The next one carries on from there.
    assert registry().register_model_version(run_id=run.id, artifact_name=WEIGHTS).version == PROCESSES * EACH + 1


def test_an_alias_moved_by_8_processes_at_once_is_always_held_by_exactly_one_version(run, process_pool, manager):
    settings = {key: value for key, value in os.environ.items() if key.startswith("GEMINI_")}
    versions = [registry().register_model_version(run_id=run.id, artifact_name=WEIGHTS) for _ in range(PROCESSES)]
    registry().set_model_version_alias(version_id=versions[0].id, alias="production")
    start = manager.Barrier(PROCESSES)
    pending = [
        process_pool.apply_async(workers.move_alias, (settings, str(version.id), "production", 10, start))
        for version in versions
    ]
    holders_seen = set()
    while not all(result.ready() for result in pending):
        listed = registry().list_model_versions(model_name=MODEL)
        holders = [version.version for version in listed if "production" in version.aliases]
        assert len(holders) == 1, holders
        holders_seen.update(holders)
    assert [error for result in pending for error in result.get(timeout=TIMEOUT)] == []
    holders = [version for version in registry().list_model_versions(model_name=MODEL) if version.aliases]
    assert len(holders) == 1 and holders[0].aliases == ("production",)
    assert registry().find_model_version(reference=f"{MODEL}@production").id == holders[0].id
