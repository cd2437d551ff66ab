"""One spelling for one thing across commands: --offset, searching runs, export's output file, a DEST
that names a directory."""

import hashlib
import json

import pytest

from gemini.registry import registry


@pytest.fixture
def db(registry_url) -> str:
    """The same on SQLite, on PostgreSQL and through a server (``GEMINI_API_URL``)."""
    return registry_url


# -- --offset -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [("runs", "list"), ("runs", "search"), ("models", "list"), ("experiments", "list"), ("records", "search")]
)
def test_offset_help_is_readable(gemini, command):
    help_text = " ".join(gemini.ok(*command, "--help").stdout.split())
    assert "--offset INTEGER Skip this many matches (with --limit, for the next page). [default: 0]" in help_text
    assert "9223372036854775807" not in help_text and "0<=x" not in help_text


@pytest.mark.parametrize(
    ("value", "reason"),
    [("-1", "-1 is negative"), (str(2**63), f"{2**63} is larger than the largest offset, {2**63 - 1}"), ("x", "'x' is not a valid integer")],
)
def test_a_bad_offset_is_a_usage_error(gemini, value, reason):
    result = gemini("runs", "list", "--offset", value)
    assert result.exit_code == 2
    assert reason in result.stderr


def test_the_largest_offset_is_accepted(gemini):
    gemini.ok("runs", "create", "{}")
    assert gemini.json("runs", "list", "--offset", str(2**63 - 1)) == []


# -- searching runs -------------------------------------------------------------------------------------


@pytest.fixture
def three_runs(gemini) -> list[dict]:
    return [gemini.json("runs", "create", json.dumps({"site": site, "epoch": epoch})) for site, epoch in [("Davis", 1), ("Davis", 2), ("Kearney", 1)]]


def test_search_takes_the_pattern_as_info_too(gemini, three_runs):
    by_argument = gemini.json("runs", "search", '{"site": "Davis"}')
    assert [run["id"] for run in by_argument] == [run["id"] for run in three_runs[:2]]
    assert gemini.json("runs", "search", "--info", '{"site": "Davis"}') == by_argument


def test_search_refuses_the_pattern_twice(gemini, three_runs):
    message = gemini.fails("runs", "search", '{"site": "Davis"}', "--info", '{"epoch": 1}')
    assert message == "Error: give the pattern once: as PATTERN or as --info, not both"


def test_list_info_still_works_and_says_to_use_search(gemini, three_runs):
    result = gemini.ok("runs", "list", "--info", '{"epoch": 1}', "--json")
    assert json.loads(result.stdout) == gemini.json("runs", "search", '{"epoch": 1}')
    assert result.stderr.splitlines()[0] == (
        "'gemini runs list --info' is deprecated: use 'gemini runs search PATTERN' (the same runs)"
    )
    assert "deprecated" not in gemini.ok("runs", "list").stderr


def test_list_help_points_to_search(gemini):
    assert "gemini runs search" in gemini.ok("runs", "list", "--help").stdout


# -- the output file of an export ------------------------------------------------------------------------


def test_db_export_takes_o_as_the_other_exports_do(local, tmp_path):
    created = sorted(local.json("runs", "create", json.dumps({"epoch": epoch}))["id"] for epoch in range(3))
    local.ok("db", "export", "-o", str(tmp_path / "dash-o.jsonl"))
    local.ok("db", "export", "--output", str(tmp_path / "long.jsonl"))
    local.ok("db", "export", str(tmp_path / "argument.jsonl"))  # the older spelling
    for name in ("dash-o.jsonl", "long.jsonl", "argument.jsonl"):
        lines = [json.loads(line) for line in (tmp_path / name).read_text().splitlines()]
        assert sorted(line["id"] for line in lines if line.get("type") == "model_run") == created


def test_db_export_refuses_two_different_files(local, tmp_path):
    message = local.fails("db", "export", str(tmp_path / "a.jsonl"), "-o", str(tmp_path / "b.jsonl"))
    assert message == f"Error: give the file once: as --output '{tmp_path / 'b.jsonl'}' or as FILE '{tmp_path / 'a.jsonl'}', not both"
    assert not (tmp_path / "a.jsonl").exists() and not (tmp_path / "b.jsonl").exists()


def test_db_export_without_a_file_writes_stdout(local):
    local.ok("runs", "create", '{"epoch": 1}')
    lines = [json.loads(line) for line in local.ok("db", "export").stdout.splitlines()]
    assert [line["model_run_info"] for line in lines if line.get("type") == "model_run"] == [{"epoch": 1}]


def test_runs_export_and_records_export_take_o(gemini, tmp_path):
    gemini.ok("runs", "create", '{"epoch": 1}', "--model", "counter")
    gemini.ok("runs", "export", "-o", str(tmp_path / "runs.jsonl"))
    assert [json.loads(line)["model_run_info"] for line in (tmp_path / "runs.jsonl").read_text().splitlines()] == [{"epoch": 1}]
    gemini.ok("records", "export", "--model", "counter", "-o", str(tmp_path / "records.jsonl"))
    assert (tmp_path / "records.jsonl").read_text() == ""


# -- a DEST ending in '/' -------------------------------------------------------------------------------


@pytest.fixture
def run_with_weights(gemini, tmp_path) -> str:
    run_id = str(registry().create_run(model_run_info={"epoch": 1}, model_name="stand_counter")[0].id)
    (tmp_path / "best.pt").write_bytes(b"weights")
    gemini.ok("runs", "log-artifact", run_id, str(tmp_path / "best.pt"), "--name", "weights/best.pt")
    return run_id


def test_a_missing_directory_with_a_slash_is_created_and_written_into(gemini, run_with_weights, tmp_path):
    dest = tmp_path / "models" / "today"
    result = gemini.ok("runs", "download", run_with_weights, "weights/best.pt", f"{dest}/")
    assert result.stdout.strip() == str(dest / "best.pt")
    assert (dest / "best.pt").read_bytes() == b"weights"
    assert f"created the directory {dest}/" in result.stderr


def test_without_the_slash_a_missing_path_is_the_file_to_write(gemini, run_with_weights, tmp_path):
    dest = tmp_path / "weights.bin"
    assert gemini.ok("runs", "download", run_with_weights, "weights/best.pt", str(dest)).stdout.strip() == str(dest)
    assert dest.read_bytes() == b"weights"


def test_an_existing_directory_without_the_slash_is_written_into(gemini, run_with_weights, tmp_path):
    (tmp_path / "out").mkdir()
    result = gemini.ok("runs", "download", run_with_weights, "weights/best.pt", str(tmp_path / "out"))
    assert result.stdout.strip() == str(tmp_path / "out" / "best.pt")
    assert "created" not in result.stderr


def test_a_failed_download_leaves_no_directory_behind(gemini, run_with_weights, tmp_path):
    dest = tmp_path / "models" / "today"
    assert "no artifact named 'nope'" in gemini.fails("runs", "download", run_with_weights, "nope", f"{dest}/")
    assert not (tmp_path / "models").exists()


def test_a_file_with_a_slash_is_refused(gemini, run_with_weights, tmp_path):
    (tmp_path / "taken").write_bytes(b"mine")
    message = gemini.fails("runs", "download", run_with_weights, "weights/best.pt", f"{tmp_path / 'taken'}/")
    assert message == f"Error: {tmp_path / 'taken'}/ ends with '/' but {tmp_path / 'taken'} is a file, not a directory"
    assert (tmp_path / "taken").read_bytes() == b"mine"


def test_models_download_creates_a_directory_with_a_slash_too(gemini, run_with_weights, tmp_path):
    gemini.ok("models", "register", run_with_weights, "weights/best.pt")
    dest = tmp_path / "serving"
    printed = gemini.ok("models", "download", "stand_counter@latest", f"{dest}/").stdout.strip()
    assert printed == str(dest / "best.pt")
    assert hashlib.sha256((dest / "best.pt").read_bytes()).hexdigest() == hashlib.sha256(b"weights").hexdigest()
