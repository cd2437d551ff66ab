"""Model records in ``gemini db export`` / ``gemini db import``: records move with their ids, tags (by
name), outputs, infos, file references, run and version; datasets, seasons and sites with them; an
import adds them once, in chunks, inside its one transaction; files' bytes stay in the blob store.

Export and import run on a database (a server's operator runs them there), so these tests take the
databases themselves, as tests/versions/test_versions_transfer.py does.
"""

import datetime as dt
import json
import shutil
import uuid

import pytest

from gemini.core import transfer
from gemini.db import transfer as store
from gemini.domain.errors import InvalidInputError
from gemini.registry import registry
from tests.conftest import empty_registry
from tests.transfer_support import body_lines, export_text, import_text, local_file, use_registry

T0 = dt.datetime(2026, 6, 1, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)
PLACE = {"experiment_name": "GEMINI-2026", "season_name": "Summer", "site_name": "Davis", "dataset_name": "flight-01"}
ODD_DATA = {"count": 41, "ratio": 0.5, "one": 1.0, "big": 2**64 + 1, "tiny": 5e-324, "ключ": ["🌽", None, True]}
ODD_INFO = {"tile": 7, "float": 1.0, "sql": "'; DROP TABLE x; --", "nested": {"a": [1, {"b": None}]}}
NEW_TYPES = {"dataset", "season", "site", "model_record"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def target(request, monkeypatch, tmp_path) -> str:
    """An empty registry on each database kind, made the configured one, with its own artifact store."""
    return empty_registry(request.getfixturevalue(f"{request.param}_database_url"), monkeypatch, tmp_path / "target-store")




def _source(tmp_path, monkeypatch, name: str = "source") -> None:  # noqa: ANN001
    use_registry(monkeypatch, f"sqlite:///{tmp_path / f'{name}.db'}", tmp_path / f"{name}-store")










def _register(tmp_path, model_name: str, content: bytes):  # noqa: ANN001, ANN202
    """A new run of the model (info: the weights' text) that logged ``content`` as weights/best.pt,
    registered as its next version."""
    run, _ = registry().create_run(model_run_info={"weights": content.decode()}, model_name=model_name)
    registry().log_artifact_file(run_id=run.id, path=local_file(tmp_path, content.decode(), content), name="weights/best.pt")
    return registry().register_model_version(run_id=run.id, artifact_name="weights/best.pt")


def _record(minute: int, **fields) -> dict:
    return {"model_name": "stand_counter", "timestamp": T0 + dt.timedelta(minutes=minute), "model_data": {"count": minute}, **PLACE, **fields}


def _populate(tmp_path) -> None:  # noqa: ANN001
    """stand_counter: version 1 (production) from a run, and records: plain ones, one with odd data and
    info, two with files, some naming the run or the version; detector: an untagged record."""
    version = _register(tmp_path, "stand_counter", b"counter-1")
    registry().set_model_version_alias(version_id=version.id, alias="production")
    registry().insert_model_records(
        records=[
            _record(0),
            _record(1, model_data=ODD_DATA, record_info=ODD_INFO, collection_date="2026-05-31"),
            _record(2, record_file=local_file(tmp_path, "plot-2.png", b"\x89PNG plot 2"), model_run_id=version.model_run_id),
            _record(3, record_file=local_file(tmp_path, "plot-3.png", b"\x89PNG plot 3"), model_version="stand_counter@production"),
            _record(4, model_run_id=version.model_run_id, model_version="stand_counter@1", season_name="Winter"),
        ]
    )
    registry().insert_model_records(records=[{"model_name": "detector", "timestamp": T0, "model_data": {"boxes": 3}}])


def _records() -> list:
    """Every record, each with its id, tags' ids and names, data, info, file reference, run, version
    and times."""
    return list(registry().stream_model_records())


def _portable(records: list) -> list[tuple]:
    """What a record is wherever it lives: everything but the ids the importing database gave."""
    return sorted(
        (
            record.timestamp, record.collection_date, record.model_name, record.dataset_name, record.experiment_name,
            record.season_name, record.site_name, json.dumps(record.model_data), json.dumps(record.record_info),
            record.record_file, record.file_sha256, record.file_size, record.model_version,
        )
        for record in records
    )


@pytest.mark.postgresql
def test_records_move_sqlite_to_postgresql_and_back_unchanged(tmp_path, new_postgres_database, monkeypatch):
    laptop, server, back = f"sqlite:///{tmp_path / 'laptop.db'}", new_postgres_database(), f"sqlite:///{tmp_path / 'back.db'}"
    use_registry(monkeypatch, laptop, tmp_path / "laptop-store")
    _populate(tmp_path)
    original, original_export = _records(), export_text()
    lines = [json.loads(line) for line in body_lines(original_export)]
    assert [line["type"] for line in lines if line["type"] in NEW_TYPES] == [
        "dataset", "season", "season", "site", *["model_record"] * 6,
    ]
    assert [line["id"] for line in lines if line["type"] == "model_record"] == sorted(str(record.id) for record in original)
    odd = next(line for line in lines if line["type"] == "model_record" and line["collection_date"] == "2026-05-31")
    assert set(odd) == {"type", *store.RECORD_COLUMNS}
    assert odd["timestamp"] == "2026-06-01T10:01:00.123456+00:00"

    # The operator copies the artifact store beside the file, as for artifacts and versions.
    shutil.copytree(tmp_path / "laptop-store", tmp_path / "server-store")
    use_registry(monkeypatch, server, tmp_path / "server-store")
    summary = import_text(original_export)
    assert (summary.added.datasets, summary.added.seasons, summary.added.sites, summary.added.model_records) == (1, 2, 1, 6)
    assert _records() == original
    server_export = export_text()
    assert body_lines(server_export) == body_lines(original_export)
    with_file = next(record for record in original if record.record_file and record.record_file.endswith("plot-3.png"))
    assert registry().download_model_record_file(record_id=with_file.id, dest=tmp_path / "got.png").read_bytes() == b"\x89PNG plot 3"
    assert [record.id for record in registry().stream_model_records(model_version="stand_counter@production")] == [
        record.id for record in original if record.model_version == "stand_counter@1"
    ]

    shutil.copytree(tmp_path / "server-store", tmp_path / "back-store")
    use_registry(monkeypatch, back, tmp_path / "back-store")
    import_text(server_export)
    assert _records() == original
    assert body_lines(export_text()) == body_lines(original_export)
    # Outputs and infos survived both trips exactly, types included.
    stored = next(record for record in _records() if record.collection_date == dt.date(2026, 5, 31))
    assert json.dumps(stored.record_info) == json.dumps(ODD_INFO)
    assert stored.model_data == ODD_DATA and isinstance(stored.model_data["big"], int)


def test_export_then_import_into_an_empty_registry_reproduces_the_records(target, tmp_path, monkeypatch):
    _source(tmp_path, monkeypatch)
    _populate(tmp_path)
    original, export = _records(), export_text()
    run_id = registry().find_model_version(reference="stand_counter@1").model_run_id
    use_registry(monkeypatch, target, tmp_path / "target-store")
    summary = import_text(export)
    assert (summary.added.datasets, summary.added.seasons, summary.added.sites, summary.added.model_records) == (1, 2, 1, 6)
    assert summary.already_present.model_records == 0
    # Ids, tags (ids and names), model_data, record_info, file references, run and version: all as they were.
    assert _records() == original
    assert [record.id for record in registry().stream_model_records(model_run_id=run_id)] == [
        record.id for record in original if record.model_run_id == run_id
    ]
    assert {record.model_version for record in original} == {None, "stand_counter@1"}
    assert body_lines(export_text()) == body_lines(export)


def test_importing_twice_adds_nothing(target, tmp_path, monkeypatch):
    _source(tmp_path, monkeypatch)
    _populate(tmp_path)
    export = export_text()
    use_registry(monkeypatch, target, tmp_path / "target-store")
    first = import_text(export)
    state, state_export = _records(), body_lines(export_text())
    second = import_text(export)
    assert (second.added.datasets, second.added.seasons, second.added.sites, second.added.model_records) == (0, 0, 0, 0)
    assert second.already_present == first.added
    assert _records() == state
    assert body_lines(export_text()) == state_export


def test_a_record_file_downloads_after_import_when_the_blob_store_is_shared(target, tmp_path, monkeypatch):
    shared = tmp_path / "shared-store"
    use_registry(monkeypatch, f"sqlite:///{tmp_path / 'source.db'}", shared)
    (record_id, _new), = registry().insert_model_records(
        records=[_record(0, record_file=local_file(tmp_path, "plot.tif", b"tif bytes " * 1000))]
    )
    original = registry().get_model_record(record_id=record_id)
    export = export_text()
    use_registry(monkeypatch, target, shared)
    import_text(export)
    imported = registry().get_model_record(record_id=record_id)
    assert (imported.record_file, imported.file_sha256, imported.file_size) == (
        original.record_file, original.file_sha256, original.file_size,
    )
    assert imported.record_file == "model_data/GEMINI-2026/stand_counter/flight-01/2026-06-01/Davis/Summer/plot.tif"
    written = registry().download_model_record_file(record_id=record_id, dest=tmp_path)
    assert written == tmp_path / "plot.tif"
    assert written.read_bytes() == b"tif bytes " * 1000


def test_names_runs_and_versions_already_present_are_reused(target, tmp_path, monkeypatch):
    """The target made the same model, tags, run, version and one equal record on its own, under other
    ids: the file's records go to those, the equal one counts as present."""
    _source(tmp_path, monkeypatch)
    version = _register(tmp_path, "stand_counter", b"counter-1")
    registry().insert_model_records(
        records=[
            _record(0, record_info={"tile": 1}),
            _record(1, model_run_id=version.model_run_id, model_version="stand_counter@1", site_name="Ames"),
        ]
    )
    source_records = _records()
    export = export_text()

    use_registry(monkeypatch, target, tmp_path / "target-store")
    here = _register(tmp_path, "stand_counter", b"counter-1")  # the same run info and bytes, other ids
    (equal_id, _), = registry().insert_model_records(records=[_record(0, record_info={"tile": 1}, model_data={"count": 99})])
    tags_here = registry().get_model_record(record_id=equal_id)
    summary = import_text(export)
    assert (summary.added.model_records, summary.already_present.model_records) == (1, 1)
    assert (summary.added.datasets, summary.already_present.datasets) == (0, 1)
    assert (summary.added.sites, summary.already_present.sites) == (1, 1)
    assert (summary.added.model_runs, summary.added.model_versions) == (0, 0)
    records = _records()
    assert [record.id for record in records] == [equal_id, source_records[1].id]
    assert records[0].model_data == {"count": 99}  # the stored one stays
    moved = records[1]
    assert (moved.model_id, moved.dataset_id, moved.experiment_id, moved.season_id) == (
        tags_here.model_id, tags_here.dataset_id, tags_here.experiment_id, tags_here.season_id,
    )
    assert moved.site_name == "Ames" and moved.site_id == source_records[1].site_id
    assert (moved.model_run_id, moved.model_version_id, moved.model_version) == (here.model_run_id, here.id, "stand_counter@1")
    # Importing again still adds nothing.
    again = import_text(export)
    assert (again.added.model_records, again.already_present.model_records) == (0, 2)


def test_records_import_in_chunks_and_export_streams_in_creation_order(target, tmp_path, monkeypatch):
    _source(tmp_path, monkeypatch)
    registry().insert_model_records(records=[_record(minute, model_data={"n": minute}) for minute in range(53)])
    monkeypatch.setattr(store, "RECORD_BLOCK", 7)
    export = export_text()
    ids = [json.loads(line)["id"] for line in body_lines(export) if json.loads(line)["type"] == "model_record"]
    assert len(ids) == 53 and ids == sorted(ids)
    use_registry(monkeypatch, target, tmp_path / "target-store")
    monkeypatch.setattr(transfer, "RECORD_CHUNK", 10)
    summary = import_text(export)
    assert summary.added.model_records == 53
    assert sorted(str(record.id) for record in _records()) == ids
    # A bad line after chunks have been written: nothing of the import stays.
    empty_registry(target, monkeypatch, tmp_path / "target-store")
    bad = json.dumps({**json.loads(export.splitlines()[-1]), "id": str(uuid.UUID(int=1)), "model_data": [1]})
    with pytest.raises(InvalidInputError, match=rf"line {len(export.splitlines()) + 1}: model_data must be a JSON object"):
        import_text(export + bad + "\n")
    assert _records() == [] and registry().search_models().items == []


def _valid_export(tmp_path, monkeypatch) -> list[str]:  # noqa: ANN001
    _source(tmp_path, monkeypatch)
    version = _register(tmp_path, "m", b"v1")
    registry().insert_model_records(
        records=[
            {"model_name": "m", "timestamp": T0, "model_data": {"a": 1}, "dataset_name": "d", "season_name": "s", "site_name": "x",
             "experiment_name": "e", "model_run_id": version.model_run_id, "model_version": "m@1",
             "record_file": local_file(tmp_path, "f.txt", b"f")},
        ]
    )
    lines = export_text().splitlines()
    assert [json.loads(line).get("type") for line in lines] == [
        None, "experiment", "model", "model_run", "model_version", "dataset", "season", "site", "model_record",
    ]
    return lines


def _edit(line: str, **changes) -> str:
    item = json.loads(line)
    item.update(changes)
    return json.dumps({name: value for name, value in item.items() if value is not ...})


def _record_edited(**changes):  # noqa: ANN202
    return lambda lines: lines[:8] + [_edit(lines[8], **changes)]


OTHER_ID = str(uuid.UUID(int=7))


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_record_edited(timestamp="2026-06-01T10:00:00"), "line 9: timestamp .* UTC offset"),
        (_record_edited(collection_date="June"), "line 9: collection_date 'June' is not an ISO 8601 date"),
        (_record_edited(collection_date=5), "line 9: collection_date must be null or a date"),
        (_record_edited(model_data=[1]), "line 9: model_data must be a JSON object"),
        (_record_edited(record_info="x"), "line 9: record_info must be a JSON object"),
        (_record_edited(id="zz"), "line 9: model record id .* is not a valid UUID"),
        (_record_edited(record_file=None), "line 9: a record without record_file has no file_sha256 or file_size"),
        (_record_edited(file_sha256="ABC"), "line 9: file_sha256 must be 64 lowercase"),
        (_record_edited(file_size=-1), "line 9: file_size must be a number of bytes"),
        (_record_edited(record_file=""), "line 9: record_file must not be empty"),
        (_record_edited(model_version_id=...), "line 9: model_record record: missing model_version_id"),
        (_record_edited(model_version="m@1"), "line 9: model_record record: unknown model_version"),
        (_record_edited(model_id=None), "line 9: model id None is not a valid UUID"),
        (_record_edited(model_run_id=5.5), "line 9: model run id 5.5 is not a valid UUID"),
        (_record_edited(model_id=OTHER_ID), f"line 9: model {OTHER_ID} is neither earlier in the file nor in the database"),
        (_record_edited(dataset_id=OTHER_ID), f"line 9: dataset {OTHER_ID} is neither earlier in the file nor in the database"),
        (_record_edited(experiment_id=OTHER_ID), f"line 9: experiment {OTHER_ID} is neither earlier"),
        (_record_edited(model_run_id=OTHER_ID), f"line 9: model run {OTHER_ID} is neither earlier"),
        (_record_edited(model_version_id=OTHER_ID), f"line 9: model version {OTHER_ID} is neither earlier"),
        (lambda lines: lines[:5] + [_edit(lines[5], dataset_name="")] + lines[6:], "line 6: dataset_name must not be empty"),
        (lambda lines: lines[:6] + [_edit(lines[6], season_info=[])] + lines[7:], "line 7: season_info must be a JSON object"),
        (lambda lines: lines[:7] + [_edit(lines[7], id=...)] + lines[8:], "line 8: site record: missing id"),
        (lambda lines: lines[:5] + lines[6:], "line 8: dataset .* is neither earlier in the file nor in the database"),
        (lambda lines: [lines[0].replace('"version":2', '"version":1'), lines[1], lines[5]], "line 3: unknown record type 'dataset'"),
    ],
)
def test_a_bad_record_line_is_refused_naming_the_line_and_writes_nothing(target, tmp_path, monkeypatch, corrupt, message):
    lines = _valid_export(tmp_path, monkeypatch)
    use_registry(monkeypatch, target, tmp_path / "target-store")
    registry().insert_model_records(records=[{"model_name": "other", "timestamp": T0, "dataset_name": "kept"}])
    before = _records()
    with pytest.raises(InvalidInputError, match=message):
        import_text("\n".join(corrupt(lines)) + "\n")
    assert _records() == before
    assert [model.model_name for model in registry().search_models().items] == ["other"]
    assert registry().search_runs().items == []


# An export as gemini wrote it before model records existed (format 2, with a version and an alias).
BEFORE_RECORDS = """\
{"format":"gemini-registry","version":2,"exported_at":"2026-05-01T08:00:00.000000+00:00"}
{"type":"model","id":"019a0000-0000-7000-8000-000000000001","model_name":"stand_counter","model_url":null,"model_info":{},"created_at":"2026-05-01T07:00:00.000000+00:00","updated_at":"2026-05-01T07:00:00.000000+00:00","created_by":null,"last_version":1}
{"type":"model_run","id":"019a0000-0000-7000-8000-000000000002","model_id":"019a0000-0000-7000-8000-000000000001","model_run_info":{"lr":0.01},"created_at":"2026-05-01T07:01:00.000000+00:00","updated_at":"2026-05-01T07:01:00.000000+00:00","status":"finished","started_at":"2026-05-01T07:01:00.000000+00:00","ended_at":"2026-05-01T07:30:00.000000+00:00","error_type":null,"error_message":null,"created_by":null}
{"type":"metric_points","run_id":"019a0000-0000-7000-8000-000000000002","key":"loss","points":[[0,0.9,"2026-05-01T07:02:00.000000+00:00"],[1,"NaN","2026-05-01T07:03:00.000000+00:00"]]}
{"type":"model_version","id":"019a0000-0000-7000-8000-000000000003","model_id":"019a0000-0000-7000-8000-000000000001","version":1,"model_run_id":"019a0000-0000-7000-8000-000000000002","artifact_name":"weights/best.pt","sha256":"%s","size":9,"version_info":{},"created_at":"2026-05-01T07:31:00.000000+00:00","created_by":null}
{"type":"model_version_alias","version_id":"019a0000-0000-7000-8000-000000000003","alias":"production","updated_at":"2026-05-01T07:32:00.000000+00:00"}
""" % ("0" * 64)


def test_an_export_written_before_records_existed_still_imports(target):
    summary = import_text(BEFORE_RECORDS)
    assert (summary.added.models, summary.added.model_runs, summary.added.metric_points) == (1, 1, 2)
    assert (summary.added.model_versions, summary.added.model_version_aliases) == (1, 1)
    assert (summary.added.datasets, summary.added.seasons, summary.added.sites, summary.added.model_records) == (0, 0, 0, 0)
    assert registry().find_model_version(reference="stand_counter@production").version == 1
    # Records can follow: the imported version is one they can name.
    (record_id, _), = registry().insert_model_records(records=[_record(0, model_version="stand_counter@production")])
    assert registry().get_model_record(record_id=record_id).model_version == "stand_counter@1"
    assert import_text(BEFORE_RECORDS).added.model_versions == 0


def test_a_registry_without_records_exports_as_before(target, tmp_path):
    registry().create_run(model_run_info={"a": 1}, model_name="m")
    lines = [json.loads(line) for line in export_text().splitlines()]
    assert lines[0]["version"] == transfer.VERSION == 2
    assert [line["type"] for line in lines[1:]] == ["model", "model_run"]


def test_gemini_db_export_and_import_print_the_record_counts(target, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gemini.cli.main import cli

    _source(tmp_path, monkeypatch)
    _populate(tmp_path)
    path = tmp_path / "registry.jsonl"
    exported = CliRunner().invoke(cli, ["db", "export", str(path)], catch_exceptions=False)
    assert exported.exit_code == 0, exported.output
    assert "1 datasets, 2 seasons, 1 sites, 6 model records" in exported.stderr
    use_registry(monkeypatch, target, tmp_path / "target-store")
    imported = CliRunner().invoke(cli, ["db", "import", str(path)], catch_exceptions=False)
    assert imported.exit_code == 0, imported.output
    assert "added 1 experiments" in imported.stderr
    assert "1 datasets, 2 seasons, 1 sites, 6 model records; already present" in imported.stderr
