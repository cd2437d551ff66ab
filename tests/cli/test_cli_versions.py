"""``gemini models register | versions | alias | download`` on SQLite, PostgreSQL and through a server."""

import hashlib
import uuid

import pytest

from gemini.registry import registry as configured_registry

WEIGHTS = b"weights of epoch 10"
NEWER = b"weights of epoch 20"


@pytest.fixture
def db(registry_url) -> str:
    """The same tests on SQLite, on PostgreSQL and through a server (``GEMINI_API_URL``)."""
    return registry_url


@pytest.fixture
def run_id(gemini, tmp_path) -> str:
    """A run of the model ``stand_counter`` with the artifact ``weights/best.pt``."""
    run = configured_registry().create_run(model_run_info={"lr": 0.01}, model_name="stand_counter")[0]
    (tmp_path / "best.pt").write_bytes(WEIGHTS)
    configured_registry().log_artifact_file(run_id=run.id, path=tmp_path / "best.pt", name="weights/best.pt")
    return str(run.id)


def test_register_numbers_versions_and_pins_the_bytes(gemini, run_id):
    first = gemini.json("models", "register", run_id, "weights/best.pt", "--info", '{"map50": 0.91}')
    assert (first["model_name"], first["version"], first["aliases"]) == ("stand_counter", 1, [])
    assert (first["model_run_id"], first["artifact_name"]) == (run_id, "weights/best.pt")
    assert first["version_info"] == {"map50": 0.91}
    assert (first["sha256"], first["size"]) == (hashlib.sha256(WEIGHTS).hexdigest(), len(WEIGHTS))
    result = gemini.ok("models", "register", run_id, "weights/best.pt")
    assert "registered stand_counter@2" in result.stderr
    assert "weights/best.pt" in result.stdout and hashlib.sha256(WEIGHTS).hexdigest() in result.stdout


def test_versions_as_a_table_and_as_json(gemini, run_id):
    gemini.ok("models", "register", run_id, "weights/best.pt")
    gemini.ok("models", "register", run_id, "weights/best.pt")
    gemini.ok("models", "alias", "stand_counter@2", "production")
    listed = gemini.json("models", "versions", "stand_counter")
    assert [(v["version"], v["aliases"]) for v in listed] == [(1, []), (2, ["production"])]
    assert {v["model_run_id"] for v in listed} == {run_id}
    lines = gemini.ok("models", "versions", "stand_counter").stdout.splitlines()
    assert lines[0].split() == ["VERSION", "ALIASES", "RUN", "ARTIFACT", "SHA256", "SIZE", "CREATED"]
    assert len(lines) == 3
    sha = hashlib.sha256(WEIGHTS).hexdigest()[:12]
    assert lines[1].split()[:6] == ["1", "-", run_id, "weights/best.pt", sha, str(len(WEIGHTS))]
    assert lines[2].split()[:6] == ["2", "production", run_id, "weights/best.pt", sha, str(len(WEIGHTS))]
    # The model by its id works as well as by its name.
    model_id = gemini.json("models", "show", "stand_counter")["id"]
    assert gemini.json("models", "versions", model_id) == listed


def test_versions_of_a_model_without_any(gemini):
    gemini.ok("models", "create", "empty")
    assert gemini.json("models", "versions", "empty") == []
    result = gemini.ok("models", "versions", "empty")
    assert result.stdout == "" and "model 'empty' has no versions" in result.stderr


def test_alias_moves_from_one_version_to_another(gemini, run_id):
    gemini.ok("models", "register", run_id, "weights/best.pt")
    gemini.ok("models", "register", run_id, "weights/best.pt")
    gemini.ok("models", "register", run_id, "weights/best.pt")
    assert gemini.json("models", "alias", "stand_counter@1", "production")["aliases"] == ["production"]
    gemini.ok("models", "alias", "stand_counter@3", "candidate")
    # REF by alias: the version that holds "candidate" gets "production" too; version 1 loses it.
    moved = gemini.ok("models", "alias", "stand_counter@candidate", "production")
    assert "stand_counter@production is version 3" in moved.stderr
    aliases = {v["version"]: sorted(v["aliases"]) for v in gemini.json("models", "versions", "stand_counter")}
    assert aliases == {1: [], 2: [], 3: ["candidate", "production"]}
    assert gemini.json("models", "alias", "stand_counter@latest", "newest")["version"] == 3


def test_download_writes_the_pinned_bytes_and_prints_the_path(gemini, run_id, tmp_path):
    gemini.ok("models", "register", run_id, "weights/best.pt")
    gemini.ok("models", "alias", "stand_counter@1", "production")
    # The run logs other bytes under the same name: version 1 still downloads its own.
    (tmp_path / "newer.pt").write_bytes(NEWER)
    configured_registry().log_artifact_file(run_id=run_id, path=tmp_path / "newer.pt", name="weights/best.pt")
    gemini.ok("models", "register", run_id, "weights/best.pt")
    dest = tmp_path / "out"
    dest.mkdir()
    printed = gemini.ok("models", "download", "stand_counter@production", str(dest)).stdout.strip()
    assert printed == str(dest / "best.pt")
    assert (dest / "best.pt").read_bytes() == WEIGHTS
    target = tmp_path / "v2.pt"
    assert gemini.ok("models", "download", "stand_counter@latest", str(target)).stdout.strip() == str(target)
    assert target.read_bytes() == NEWER


def test_refusals_are_one_line_errors(gemini, run_id, tmp_path):
    assert "weights/last.pt" in gemini.fails("models", "register", run_id, "weights/last.pt")
    missing_run = str(uuid.UUID(int=7))
    assert missing_run in gemini.fails("models", "register", missing_run, "weights/best.pt")
    assert "not valid JSON" in gemini.fails("models", "register", run_id, "weights/best.pt", "--info", "{oops")
    assert gemini.json("models", "versions", "stand_counter") == []  # nothing was written
    assert "no model named 'ghost'" in gemini.fails("models", "versions", "ghost")

    gemini.ok("models", "register", run_id, "weights/best.pt")
    assert "not a version reference" in gemini.fails("models", "alias", "stand_counter", "production")
    assert "reserved" in gemini.fails("models", "alias", "stand_counter@1", "latest")
    assert "number" in gemini.fails("models", "alias", "stand_counter@1", "42")
    assert "version 9" in gemini.fails("models", "alias", "stand_counter@9", "production")
    assert "nobody" in gemini.fails("models", "alias", "stand_counter@nobody", "production")
    dest = tmp_path / "out"
    dest.mkdir()
    assert "ghost" in gemini.fails("models", "download", "ghost@1", str(dest))
    assert "not a version reference" in gemini.fails("models", "download", "stand_counter", str(dest))
    assert list(dest.iterdir()) == []
