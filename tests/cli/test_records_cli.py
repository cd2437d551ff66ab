"""``gemini records import | search | export | show | download`` on SQLite and PostgreSQL (``db``)."""

import datetime as dt
import hashlib
import json

import pytest
import sqlalchemy as sa

from gemini.db import engine as db_engine
from gemini.registry import registry
from tests.conftest import empty_registry

T0 = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.timezone.utc)
PLACE = {"experiment_name": "GEMINI-2026", "season_name": "Summer", "site_name": "Davis", "dataset_name": "flight-01"}
COMPARED = (
    "timestamp", "collection_date", "model_name", "model_data", "dataset_name", "experiment_name", "season_name",
    "site_name", "record_info", "model_version", "file_sha256", "file_size",
)  # fmt: skip


def count_records(db: str) -> int:
    with db_engine.get_engine(db).connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM model_records")).scalar_one()


def jsonl(*lines: dict) -> str:
    return "".join(json.dumps(line) + "\n" for line in lines)


def line(minute: int, **fields) -> dict:
    return {"timestamp": (T0 + dt.timedelta(minutes=minute)).isoformat(), "model_data": {"count": minute}, **fields}


def search_lines(gemini, *args: str) -> list[dict]:
    """``records search --json``: one JSON object a line, each parsed on its own."""
    out = gemini.ok("records", "search", *args, "--json").stdout
    return [json.loads(text) for text in out.splitlines()]


def failure(gemini, *args: str) -> str:
    """The error line of a failing command (the progress bar's label may come before it on stderr)."""
    result = gemini(*args)
    assert result.exit_code == 1, f"exit {result.exit_code}: {result.stdout} {result.stderr}"
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ")
    return last


def comparable(record: dict) -> tuple:
    return tuple(record[key] for key in COMPARED)


@pytest.fixture
def version(gemini, tmp_path) -> tuple[str, str]:
    """A run of ``stand_counter`` and its weights registered as ``stand_counter@1``, alias ``production``."""
    run = registry().create_run(model_run_info={"lr": 0.01}, model_name="stand_counter")[0]
    (tmp_path / "best.pt").write_bytes(b"weights")
    registry().log_artifact_file(run_id=run.id, path=tmp_path / "best.pt", name="weights/best.pt")
    found = registry().register_model_version(run_id=run.id, artifact_name="weights/best.pt")
    registry().set_model_version_alias(version_id=found.id, alias="production")
    return str(run.id), "stand_counter@1"


# -- import -----------------------------------------------------------------------------------------


def test_csv_import_known_columns_defaults_and_other_columns_into_model_data(gemini, tmp_path, db):
    path = tmp_path / "counts.csv"
    path.write_text(
        "timestamp,collection_date,plot,count,height,flag,site_name,record_info,model_data\n"
        '2026-06-01T10:00:00,2026-05-31,007,12,1.5,true,Davis,"{""tile"": 1}","{""boxes"": [1, 2]}"\n'
        "\n"
        '2026-06-01T12:00:00+02:00,,008,,"tall\nplant",false,,,\n',
        encoding="utf-8",
    )
    result = gemini.ok("records", "import", str(path), "--model", "stand_counter", "--experiment", "GEMINI-2026", "--site", "Woodland")
    assert "columns plot, count, height, flag go into model_data" in result.stderr
    assert "2 records new, 0 already stored" in result.stderr
    first, second = search_lines(gemini, "--model", "stand_counter")
    assert first["timestamp"] == "2026-06-01T10:00:00+00:00" and second["timestamp"] == "2026-06-01T10:00:00+00:00"
    assert first["model_data"] == {"boxes": [1, 2], "plot": "007", "count": 12, "height": 1.5, "flag": True}
    assert (first["collection_date"], first["record_info"], first["site_name"]) == ("2026-05-31", {"tile": 1}, "Davis")
    # An empty cell is left out; the defaults fill what a line does not name.
    assert second["model_data"] == {"plot": "008", "height": "tall\nplant", "flag": False}
    assert (second["collection_date"], second["record_info"], second["site_name"]) == ("2026-06-01", {}, "Woodland")
    assert {first["experiment_name"], second["experiment_name"]} == {"GEMINI-2026"}
    # Importing again writes nothing twice.
    again = gemini.ok("records", "import", str(path), "--model", "stand_counter", "--experiment", "GEMINI-2026", "--site", "Woodland")
    assert "0 records new, 2 already stored" in again.stderr
    assert count_records(db) == 2


def test_jsonl_import_tags_every_line_with_the_run_and_the_version(gemini, tmp_path, version, db):
    run_id, reference = version
    path = tmp_path / "outputs.jsonl"
    path.write_text(jsonl(line(0, **PLACE), line(1, site_name="Woodland", record_info={"tile": 3}), line(2, model_name="stand_counter")))
    result = gemini.ok(
        "records", "import", str(path), "--model", "stand_counter", "--run", run_id, "--version", "stand_counter@production",
        "--dataset", "flight-02",
    )
    assert "3 records new, 0 already stored" in result.stderr
    found = search_lines(gemini, "--version", reference)
    assert [r["model_data"] for r in found] == [{"count": 0}, {"count": 1}, {"count": 2}]
    assert {(r["model_run_id"], r["model_version"]) for r in found} == {(run_id, reference)}
    assert [r["dataset_name"] for r in found] == ["flight-01", "flight-02", "flight-02"]
    assert [r["site_name"] for r in found] == ["Davis", "Woodland", None]
    assert found[1]["record_info"] == {"tile": 3}
    assert count_records(db) == 3


def test_import_from_standard_input_tells_jsonl_from_csv_by_the_first_line(gemini, db):
    assert "1 records new" in gemini.ok("records", "import", "-", "--model", "m", input=jsonl(line(0))).stderr
    assert "1 records new" in gemini.ok("records", "import", "-", "--model", "m", input="timestamp,n\n2026-06-02T00:00:00,4\n").stderr
    assert [r["model_data"] for r in search_lines(gemini, "--model", "m")] == [{"count": 0}, {"n": 4}]


def test_a_line_the_registry_refuses_is_named_and_nothing_of_its_chunk_is_written(gemini, tmp_path, db):
    path = tmp_path / "outputs.jsonl"
    lines = [line(minute) for minute in range(7)]
    lines[4]["timestamp"] = "yesterday"  # line 5, in the third chunk of two: lines 5 and 6
    path.write_text(jsonl(*lines))
    message = failure(gemini, "records", "import", str(path), "--model", "m", "--chunk-size", "2")
    assert f"{path} line 5: timestamp 'yesterday' is not an ISO 8601 date and time." in message
    assert "Nothing from line 5 on was written; the 4 records before it were (4 new, 0 already stored)." in message
    assert "import it again: records already stored are skipped" in message
    assert [r["model_data"]["count"] for r in search_lines(gemini)] == [0, 1, 2, 3]
    # The second line of a chunk: its chunk's first line is not written either.
    lines[4] = line(4)
    lines[5]["model_data"] = {"count": float("nan")}
    path.write_text(jsonl(*lines))
    message = failure(gemini, "records", "import", str(path), "--model", "m", "--chunk-size", "2")
    assert f"{path} line 6: model_data" in message and "Nothing from line 5 on was written" in message
    assert "(0 new, 4 already stored)" in message
    assert count_records(db) == 4
    # Fixed, the file is simply imported again.
    lines[5] = line(5)
    path.write_text(jsonl(*lines))
    result = gemini.ok("records", "import", str(path), "--model", "m", "--chunk-size", "2")
    assert "3 records new, 4 already stored" in result.stderr
    assert [r["model_data"]["count"] for r in search_lines(gemini)] == list(range(7))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"timestamp": "2026-06-01T00:00:00"}\n{"timestamp": \n', "line 2: not JSON"),
        ('{"timestamp": "2026-06-01T00:00:00"}\n\n[1, 2]\n', "line 3: expected a JSON object, got list"),
        ('{"timestamp": "2026-06-01T00:00:00"}\n{"timestamp": "2026-06-01T00:00:01", "site": "x"}\n', "line 2: unknown field 'site'"),
        ('{"timestamp": "2026-06-01T00:00:00"}\n{"model_data": {}}\n', "line 2: no timestamp"),
        ('{"timestamp": "2026-06-01T00:00:00", "model_name": "other"}\n', "line 1: model_name 'other' is not the --model 'm'"),
    ],
)
def test_a_jsonl_line_that_does_not_read_is_named_and_nothing_is_written(gemini, tmp_path, db, text, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    error = failure(gemini, "records", "import", str(path), "--model", "m")
    assert f"{path} {message}" in error
    assert "Nothing from line 1 on was written; nothing before it was written either." in error
    assert count_records(db) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timestamp,n\n2026-06-01T00:00:00,1\n2026-06-01T00:00:01,2,3\n", "line 3: 3 cells, but the header has 2 columns"),
        ('timestamp,n\n2026-06-01T00:00:00,1\n"2026-06-01T00:00:01\n\n,2\n', "line 3: not CSV"),
        ('timestamp,model_data\n2026-06-01T00:00:00,{}\n2026-06-01T00:00:01,{"a"\n', "line 3: model_data is not JSON text"),
        ('timestamp,a,model_data\n2026-06-01T00:00:00,1,"{""a"": 2}"\n', "line 2: column 'a' is also a key of the model_data column"),
        ("timestamp,,n\n", "line 1: column 2 of the header has no name"),
    ],
)
def test_a_csv_line_that_does_not_read_is_named(gemini, tmp_path, db, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    assert f"{path} {message}" in failure(gemini, "records", "import", str(path), "--model", "m")
    assert count_records(db) == 0


def test_a_run_of_another_model_fails_naming_the_lines_of_its_chunk(gemini, tmp_path, version, db):
    run_id, _reference = version
    path = tmp_path / "outputs.jsonl"
    path.write_text(jsonl(line(0), line(1), line(2), line(3, model_run_id=run_id)))
    message = failure(gemini, "records", "import", str(path), "--model", "m", "--chunk-size", "2")
    assert f"{path} lines 3-4: model run {run_id} is not a run of model 'm'" in message
    assert "the 2 records before it were (2 new, 0 already stored)" in message
    assert count_records(db) == 2


def test_a_line_naming_another_run_than_the_option_is_refused(gemini, tmp_path, version, db):
    run_id, _reference = version
    path = tmp_path / "outputs.jsonl"
    path.write_text(jsonl(line(0, model_run_id="00000000-0000-0000-0000-000000000001")))
    assert "line 1: model_run_id '00000000-0000-0000-0000-000000000001' is not the --run" in failure(
        gemini, "records", "import", str(path), "--model", "stand_counter", "--run", run_id
    )
    assert count_records(db) == 0


# -- search -----------------------------------------------------------------------------------------


@pytest.fixture
def season(gemini, tmp_path, version) -> None:
    """Two models' records over three days, at two sites; ``stand_counter``'s second day made by the version."""
    run_id, reference = version
    lines = []
    for day in range(3):
        for site in ("Davis", "Woodland"):
            moment = (T0 + dt.timedelta(days=day)).isoformat()
            lines.append({"timestamp": moment, "site_name": site, "dataset_name": f"flight-{day}", "model_data": {"day": day}})
    path = tmp_path / "season.jsonl"
    path.write_text(jsonl(*lines))
    gemini.ok("records", "import", str(path), "--model", "plant_counter", "--experiment", "GEMINI-2026", "--season", "Summer")
    path.write_text(jsonl(*lines[:2], *lines[4:]))
    gemini.ok("records", "import", str(path), "--model", "stand_counter", "--experiment", "GEMINI-2026", "--season", "Summer")
    path.write_text(jsonl(*lines[2:4]))
    gemini.ok("records", "import", str(path), "--model", "stand_counter", "--season", "Winter", "--run", run_id, "--version", reference)


def found(gemini, *args: str) -> list[tuple]:
    return [(r["model_name"], r["site_name"], r["model_data"]["day"]) for r in search_lines(gemini, *args)]


def test_search_filters(gemini, season, version):
    run_id, _reference = version
    assert len(found(gemini)) == 12
    assert found(gemini, "--model", "stand_counter", "--site", "Davis") == [
        ("stand_counter", "Davis", 0), ("stand_counter", "Davis", 1), ("stand_counter", "Davis", 2)
    ]  # fmt: skip
    assert [day for _m, _s, day in found(gemini, "--model", "plant_counter", "--dataset", "flight-0", "--dataset", "flight-2")] == [0, 0, 2, 2]
    assert {day for _m, _s, day in found(gemini, "--season", "Winter")} == {1}
    assert found(gemini, "--experiment", "GEMINI-2026", "--season", "Winter") == []
    assert len(found(gemini, "--experiment", "GEMINI-2026", "--season", "Summer")) == 10
    assert len(found(gemini, "--model", "plant_counter", "--model", "stand_counter", "--site", "Woodland")) == 6
    # --until a date takes in that whole day; --since a moment is inclusive.
    assert {day for _m, _s, day in found(gemini, "--until", "2026-06-02")} == {0, 1}
    assert {day for _m, _s, day in found(gemini, "--since", "2026-06-02T10:00:00Z")} == {1, 2}
    assert {day for _m, _s, day in found(gemini, "--since", "2026-06-02T10:00:01", "--until", "2026-06-03")} == {2}
    assert {day for _m, _s, day in found(gemini, "--collection-date", "2026-06-03")} == {2}
    assert [m for m, _s, _day in found(gemini, "--run", run_id)] == ["stand_counter"] * 2
    assert found(gemini, "--version", "stand_counter@production") == [("stand_counter", "Davis", 1), ("stand_counter", "Woodland", 1)]
    assert len(found(gemini, "--data", '{"day": 2}')) == 4
    assert len(found(gemini, "--limit", "3", "--offset", "10")) == 2


def test_search_table_shows_the_first_50_and_says_how_many_match(gemini, tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_text(jsonl(*(line(minute, site_name="Davis") for minute in range(60))))
    gemini.ok("records", "import", str(path), "--model", "m")
    result = gemini.ok("records", "search", "--model", "m")
    rows = result.stdout.splitlines()
    assert rows[0].split() == ["ID", "MODEL", "TIMESTAMP", "EXPERIMENT", "SEASON", "SITE", "DATASET", "VERSION", "DATA"]
    assert len(rows) == 51
    assert rows[1].split()[1:7] == ["m", "2026-06-01", "10:00:00", "-", "-", "Davis"]
    assert rows[1].split()[-1] == '{"count":0}'
    assert "model records 1-50 of 60" in result.stderr
    assert len(gemini.ok("records", "search", "--limit", "5").stdout.splitlines()) == 6
    nothing = gemini.ok("records", "search", "--site", "nowhere")
    assert nothing.stdout == "" and "no model records found" in nothing.stderr


def test_search_json_streams_one_record_a_line(gemini, season):
    out = gemini.ok("records", "search", "--model", "stand_counter", "--json").stdout
    assert out.endswith("\n") and len(out.splitlines()) == 6
    lines = [json.loads(text) for text in out.splitlines()]
    assert [r["timestamp"] for r in lines] == sorted(r["timestamp"] for r in lines)
    assert set(lines[0]) >= {"id", "timestamp", "collection_date", "model_id", "model_data", "record_file", "model_version"}
    assert gemini.ok("records", "search", "--site", "nowhere", "--json").stdout == ""


def test_search_by_a_version_that_does_not_exist_fails(gemini, season):
    assert gemini.fails("records", "search", "--version", "stand_counter@9") == "Error: no model version 'stand_counter@9'"


# -- export, show, download -------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["jsonl", "csv"])
def test_export_then_import_into_a_fresh_registry_gives_the_same_records(gemini, tmp_path, db, monkeypatch, output_format):
    source = tmp_path / "source.jsonl"
    source.write_text(
        jsonl(
            line(0, **PLACE, record_info={"tile": 1}, model_data={"count": 3, "boxes": [[1.5, 2]], "label": "a,\"b\"\nc"}),
            line(1, **PLACE, record_info={"tile": 2}),
            line(2, collection_date="2026-05-30"),
            line(3, experiment_name="GEMINI-2025"),
        )
    )
    gemini.ok("records", "import", str(source), "--model", "stand_counter")
    gemini.ok("records", "import", "-", "--model", "other", input=jsonl(line(9)))
    exported = tmp_path / f"export.{output_format}"
    result = gemini.ok("records", "export", "--model", "stand_counter", "--format", output_format, "-o", str(exported))
    assert "4 model records exported" in result.stderr
    before = sorted(comparable(r) for r in search_lines(gemini, "--model", "stand_counter"))
    # Importing the export into the registry it came from finds every record stored.
    assert "0 records new, 4 already stored" in gemini.ok("records", "import", str(exported), "--model", "stand_counter").stderr
    empty_registry(db, monkeypatch, tmp_path / "fresh-store")
    assert count_records(db) == 0
    assert "4 records new, 0 already stored" in gemini.ok("records", "import", str(exported), "--model", "stand_counter").stderr
    assert sorted(comparable(r) for r in search_lines(gemini)) == before


def test_export_filters_and_writes_to_standard_output(gemini, season):
    out = gemini.ok("records", "export", "--model", "plant_counter", "--site", "Davis").stdout
    assert [(r["site_name"], r["model_data"]["day"]) for r in map(json.loads, out.splitlines())] == [
        ("Davis", 0), ("Davis", 1), ("Davis", 2)
    ]  # fmt: skip
    table = gemini.ok("records", "export", "--model", "plant_counter", "--until", "2026-06-01", "--format", "csv").stdout.splitlines()
    assert table[0].split(",")[:3] == ["id", "timestamp", "collection_date"] and len(table) == 3


def test_record_files_download_and_travel_with_an_export(gemini, tmp_path, db, monkeypatch):
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "plot-1.png").write_bytes(b"first image")
    (plots / "other").mkdir()
    (plots / "other" / "plot-1.png").write_bytes(b"second image, same name")
    source = plots / "outputs.csv"  # record_file is relative to the file's directory
    source.write_text(
        "timestamp,record_file,n\n"
        "2026-06-01T10:00:00,plot-1.png,1\n"
        "2026-06-01T10:01:00,other/plot-1.png,2\n"
        "2026-06-01T10:02:00,,3\n"
    )
    gemini.ok("records", "import", str(source), "--model", "m", "--experiment", "E")
    with_file, second, without = search_lines(gemini)
    assert with_file["record_file"] == "model_data/E/m/None/2026-06-01/None/None/plot-1.png"
    assert with_file["file_sha256"] == hashlib.sha256(b"first image").hexdigest()
    # download: into a directory under the file's base name, or to a file; the path is printed.
    into = tmp_path / "downloads"
    into.mkdir()
    printed = gemini.ok("records", "download", with_file["id"], str(into)).stdout.strip()
    assert printed == str(into / "plot-1.png") and (into / "plot-1.png").read_bytes() == b"first image"
    printed = gemini.ok("records", "download", second["id"], str(tmp_path / "b.png")).stdout.strip()
    assert printed == str(tmp_path / "b.png") and (tmp_path / "b.png").read_bytes() == b"second image, same name"
    assert gemini.fails("records", "download", without["id"], str(into)) == f"Error: model record {without['id']} has no file"
    shown = json.loads(gemini.ok("records", "show", with_file["id"], "--json").stdout)
    assert shown == with_file
    assert "model_data/E/m/None/2026-06-01/None/None/plot-1.png" in gemini.ok("records", "show", with_file["id"]).stdout
    # Exported with its files, the records read back into a fresh registry with the same bytes.
    out = tmp_path / "export" / "records.jsonl"
    out.parent.mkdir()
    gemini.ok("records", "export", "--model", "m", "-o", str(out), "--with-files")
    lines = [json.loads(text) for text in out.read_text().splitlines()]
    assert (out.parent / lines[0]["record_file"]).read_bytes() == b"first image"
    assert (out.parent / lines[1]["record_file"]).read_bytes() == b"second image, same name"  # same name, kept apart
    assert lines[2]["record_file"] is None
    empty_registry(db, monkeypatch, tmp_path / "fresh-store")
    assert "3 records new" in gemini.ok("records", "import", str(out), "--model", "m").stderr
    again = search_lines(gemini)
    assert [(r["file_sha256"], r["model_data"]) for r in again] == [
        (with_file["file_sha256"], {"n": 1}), (second["file_sha256"], {"n": 2}), (None, {"n": 3})
    ]  # fmt: skip
    assert again[0]["record_file"] == with_file["record_file"]
    printed = gemini.ok("records", "download", again[1]["id"], str(tmp_path / "c.png")).stdout.strip()
    assert (tmp_path / "c.png").read_bytes() == b"second image, same name"


def test_export_of_files_needs_an_output_file(gemini, db):
    assert gemini.fails("records", "export", "--model", "m", "--with-files") == (
        "Error: --with-files writes files beside the export: give --output FILE"
    )
