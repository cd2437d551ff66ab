"""``ModelRecord`` and ``Model``'s record methods (GEMINI's calls, unchanged) on SQLite, PostgreSQL and
through a server: inserts and their ids, duplicates, searches and filters, updates, files, the run and
version that produced a record, and the seed's ``None``/``False`` with one log line."""

import datetime as dt
import hashlib
import inspect
import logging
import types
import uuid

import pytest
import sqlalchemy as sa

from gemini.api.model import Model
from gemini.api.model_record import ModelRecord
from gemini.api.model_run import ModelRun
from gemini.db import engine as db_engine
from gemini.domain.errors import ServerUnreachableError
from gemini.registry import registry
from gemini.registry.front import CheckedRegistry
from tests.artifacts.conftest import write_file
from tests.remote.test_client_imports import run_client

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MODEL = "stand_counter"
WEIGHTS = "weights/best.pt"
TAGS = {"dataset_name": "Flight 12", "experiment_name": "Cowpea 2026", "site_name": "Davis", "season_name": "Summer"}
DATA = {"n": 1}


@pytest.fixture
def db(registry_url) -> str:
    """The same tests on SQLite, on PostgreSQL and through a server (``GEMINI_API_URL``)."""
    return registry_url


def _rows(db: str) -> int:
    with db_engine.get_engine(db).connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM model_records")).scalar_one()


def _lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "gemini.api"]


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _record(minutes: int = 0, **fields) -> ModelRecord:
    """A record of ``MODEL`` built, not inserted, ``minutes`` after ``T0``."""
    values = {"model_name": MODEL, "model_data": {"stand_count": 40 + minutes}, **TAGS, "record_info": {"plot": minutes}}
    values.update(fields)
    return ModelRecord.create(timestamp=T0 + dt.timedelta(minutes=minutes), insert_on_create=False, **values)


def _inserted(count: int, **fields) -> list[ModelRecord]:
    records = [_record(minute, **fields) for minute in range(count)]
    success, ids = ModelRecord.insert(records)
    assert success and len(ids) == count
    return records


@pytest.fixture
def version(db, tmp_path):
    """A run of ``MODEL`` with weights, registered as version 1 and aliased ``production``."""
    run = ModelRun.create({"params": {"lr": 0.01}}, model_name=MODEL)
    weights = tmp_path / "train" / "best.pt"
    write_file(weights, 20_000, seed=b"weights")
    assert run.log_artifact(weights, name=WEIGHTS) is not None
    registered = run.register_version(WEIGHTS)
    assert registered.set_alias("production") is True
    return run, registered


# -- GEMINI's documented calls, unchanged ---------------------------------------------------------------


def test_gemini_example_runs_unchanged(db):
    """gemini/examples/api/model_record_api.py of GEMINIbase, step by step."""
    timestamp = dt.datetime(1994, 10, 1, 15, 37)
    new_model_record = ModelRecord.create(
        timestamp=timestamp,
        collection_date=timestamp.date(),
        model_name="Model A",
        dataset_name="Model A Dataset",
        model_data={"key": "value"},
        experiment_name="Experiment A",
        site_name="Site A1",
        season_name="Season 1A",
        record_info={"test": "test"},
        insert_on_create=True,
    )
    assert isinstance(new_model_record.id, uuid.UUID)
    assert ModelRecord.get_by_id(new_model_record.id) == new_model_record
    names = dict(
        model_name="Model A", dataset_name="Model A Dataset", experiment_name="Experiment A", site_name="Site A1",
        season_name="Season 1A",
    )
    assert ModelRecord.get(timestamp=new_model_record.timestamp, **names).id == new_model_record.id
    assert [record.id for record in ModelRecord.get_all(limit=10)] == [new_model_record.id]
    assert [record.id for record in ModelRecord.search(experiment_name="Experiment A")] == [new_model_record.id]

    updated_record = new_model_record.update(model_data={"key": "new_value"}, record_info={"test": "test_updated"})
    assert updated_record.model_data == {"key": "new_value"} and updated_record.record_info == {"test": "test_updated"}
    updated_record.set_info(record_info={"test": "test_set_info"})
    assert updated_record.get_info() == {"test": "test_set_info"}

    assert ModelRecord.exists(timestamp=new_model_record.timestamp, **names) is True
    assert new_model_record.delete() is True
    assert ModelRecord.exists(timestamp=new_model_record.timestamp, **names) is False
    assert _rows(db) == 0


def test_gemini_files_example_runs_unchanged(db, tmp_path):
    """gemini/examples/api/model_record_files_api.py: records with files, inserted together, searched."""
    images = []
    for index in range(3):
        path = tmp_path / "sample_images" / f"IMG_{index:04}.jpg"
        write_file(path, 5_000 + index, seed=bytes([index]))
        images.append(path)
    records = [
        ModelRecord.create(
            timestamp=T0 + dt.timedelta(minutes=index),
            collection_date=T0.date(),
            model_name="Model A",
            dataset_name="Model A Images Dataset",
            model_data={"key": "value"},
            experiment_name="Experiment A",
            site_name="Site A1",
            season_name="Season 1A",
            record_file=str(image),
            record_info={"test": "test"},
            insert_on_create=False,
        )
        for index, image in enumerate(images)
    ]
    assert ModelRecord.insert(records)[0] is True
    found = list(
        ModelRecord.search(
            collection_date=T0.date(),
            model_name="Model A",
            dataset_name="Model A Images Dataset",
            experiment_name="Experiment A",
            site_name="Site A1",
            season_name="Season 1A",
        )
    )
    assert [record.id for record in found] == [record.id for record in records]
    assert [record.record_file for record in found] == [
        f"model_data/Experiment A/Model A/Model A Images Dataset/{T0.date()}/Site A1/Season 1A/{image.name}"
        for image in images
    ]


SIGNATURES = {
    "create": "timestamp collection_date dataset_name model_name model_data experiment_name site_name season_name "
    "record_file record_info insert_on_create model_run_id model_version",
    "insert": "records",
    "exists": "timestamp model_name dataset_name experiment_name season_name site_name",
    "get": "timestamp model_name dataset_name experiment_name season_name site_name",
    "get_by_id": "id",
    "get_all": "limit",
    "search": "model_name model_data dataset_name experiment_name site_name season_name collection_date record_info "
    "model_run_id model_version",
    "filter": "model_names dataset_names start_timestamp end_timestamp experiment_names site_names season_names "
    "model_run_id model_version",
    "update": "self model_data record_info",
    "get_info": "self",
    "set_info": "self record_info",
    "delete": "self",
    "refresh": "self",
    "download_file": "self dest",
}
MODEL_SIGNATURES = {
    "insert_record": "self timestamp collection_date model_data dataset_name experiment_name season_name site_name "
    "record_file record_info model_run_id model_version",
    "insert_records": "self timestamps collection_date model_data dataset_name experiment_name season_name site_name "
    "record_files record_info model_run_id model_version",
    "search_records": "self collection_date dataset_name experiment_name season_name site_name record_info "
    "model_run_id model_version",
    "filter_records": "self start_timestamp end_timestamp dataset_names experiment_names season_names site_names "
    "model_run_id model_version",
}


@pytest.mark.parametrize(
    ("owner", "method", "names"),
    [(ModelRecord, *item) for item in SIGNATURES.items()] + [(Model, *item) for item in MODEL_SIGNATURES.items()],
)
def test_parameters_are_gemini_s_in_gemini_s_order_with_ours_keyword_only_at_the_end(owner, method, names):
    parameters = inspect.signature(getattr(owner, method)).parameters
    assert list(parameters) == names.split()
    for name in ("model_run_id", "model_version"):
        if name in parameters:
            assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY and parameters[name].default is None
    gemini_defaults = {"insert_on_create": True, "limit": 100}
    for name, parameter in parameters.items():
        if name in gemini_defaults:
            assert parameter.default == gemini_defaults[name]


# -- create and insert -----------------------------------------------------------------------------------


def test_create_inserts_and_reads_back_the_stored_record(db):
    record = ModelRecord.create(
        timestamp=dt.datetime(2026, 6, 1, 9, 30), model_name=MODEL, model_data={"stand_count": 41}, **TAGS,
        record_info={"plot": 1207},
    )
    assert record.timestamp == dt.datetime(2026, 6, 1, 9, 30, tzinfo=UTC)  # without a zone: UTC
    assert record.collection_date == dt.date(2026, 6, 1)  # the timestamp's date
    assert (record.model_name, record.model_data, record.record_info) == (MODEL, {"stand_count": 41}, {"plot": 1207})
    assert record.model_id == Model.get(MODEL).id
    assert all(getattr(record, f"{tag}_id") is not None for tag in ("dataset", "experiment", "season", "site"))
    assert (record.record_file, record.model_run_id, record.model_version) == (None, None, None)
    assert record.created_at is not None and _rows(db) == 1


def test_create_without_a_timestamp_takes_the_moment_of_each_call(db):
    before = dt.datetime.now(UTC)
    first = ModelRecord.create(model_name=MODEL, model_data={"n": 1})
    second = ModelRecord.create(model_name=MODEL, model_data={"n": 1})
    after = dt.datetime.now(UTC)
    assert before <= first.timestamp < second.timestamp <= after
    assert first.id != second.id and first.collection_date == first.timestamp.date()


def test_an_aware_timestamp_is_stored_in_utc(db):
    pacific = dt.timezone(dt.timedelta(hours=-7))
    evening = dt.datetime(2026, 6, 1, 20, 0, tzinfo=pacific)
    record = ModelRecord.create(timestamp=evening, model_name=MODEL, model_data={"n": 1})
    assert record.timestamp == dt.datetime(2026, 6, 2, 3, 0, tzinfo=UTC) and record.timestamp.tzinfo == UTC
    assert record.collection_date == dt.date(2026, 6, 2)


def test_create_without_inserting_writes_nothing(db):
    record = _record()
    assert record.id is None and record.model_id is None and record.timestamp == T0
    assert _rows(db) == 0


def test_insert_gives_ids_as_text_in_input_order_and_sets_each_records_id(db):
    records = [_record(minute) for minute in (5, 1, 3)]
    success, ids = ModelRecord.insert(records)
    assert success is True and all(isinstance(record_id, str) for record_id in ids)
    assert ids == [str(record.id) for record in records]
    stored = [ModelRecord.get_by_id(record_id).model_data["stand_count"] for record_id in ids]
    assert stored == [45, 41, 43]
    assert _rows(db) == 3


def test_a_duplicate_is_not_written_twice_and_gets_the_stored_id(db):
    first = _inserted(3)
    again = [_record(minute, model_data={"stand_count": 0}) for minute in range(3)] + [_record(9)]
    success, ids = ModelRecord.insert(again)
    assert success is True
    assert ids[:3] == [str(record.id) for record in first]
    assert _rows(db) == 4
    assert ModelRecord.get_by_id(ids[0]).model_data == {"stand_count": 40}  # the stored one stays
    twice = ModelRecord.create(timestamp=T0, model_name=MODEL, model_data={"other": 1}, **TAGS, record_info={"plot": 0})
    assert twice.id == first[0].id and twice.model_data == {"stand_count": 40}


def test_records_equal_within_one_insert_are_one_record(db):
    success, ids = ModelRecord.insert([_record(0), _record(0, model_data={"stand_count": 1})])
    assert success and ids[0] == ids[1] and _rows(db) == 1


def test_a_different_record_info_makes_a_different_record(db):
    success, ids = ModelRecord.insert([_record(0), _record(0, record_info={"plot": 99})])
    assert success and ids[0] != ids[1] and _rows(db) == 2


def test_inserting_nothing_gives_false_and_an_empty_list_with_one_log_line(db, caplog):
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert ModelRecord.insert([]) == (False, [])
    assert _lines(caplog) == ["ModelRecord.insert failed: no records to insert"]


def test_a_bad_record_fails_the_whole_insert_naming_it(db, caplog):
    records = [_record(0), _record(1, model_data={"bad": float("nan")}), _record(2)]
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        result = ModelRecord.insert(records)
    assert result == (False, [])
    [line] = _lines(caplog)
    assert line.startswith("ModelRecord.insert failed: records[1]: ") and "model_data" in line
    assert _rows(db) == 0 and all(record.id is None for record in records)


@pytest.mark.parametrize("records", [None, "records", {"model_name": MODEL}, [{"model_name": MODEL}]])
def test_insert_refuses_what_is_not_a_list_of_records(db, records, caplog):
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert ModelRecord.insert(records) == (False, [])
    assert len(_lines(caplog)) == 1 and _rows(db) == 0


def test_the_failure_tuple_is_a_fresh_list_each_time(db, caplog):
    with caplog.at_level(logging.CRITICAL):
        _, first = ModelRecord.insert([])
        first.append("changed")
        assert ModelRecord.insert([]) == (False, [])


@pytest.mark.parametrize(
    ("fields", "cause"),
    [
        ({"model_data": {}}, "give model_data or record_file"),
        ({"model_data": None}, "give model_data or record_file"),
        ({"model_name": None}, "model_name is required"),
        ({"timestamp": "not a time"}, "timestamp 'not a time' is not an ISO 8601 date and time"),
        ({"collection_date": "June"}, "collection_date 'June' is not an ISO 8601 date"),
        ({"model_name": ""}, "model_name must not be empty"),
        ({"record_file": "/no/such/file.png"}, "is not a file"),
        ({"model_run_id": "run 7"}, "model run id 'run 7' is not a valid UUID"),
    ],
)
def test_create_refuses_bad_input_with_none_and_one_log_line(db, fields, cause, caplog):
    values = {"timestamp": T0, "model_name": MODEL, "model_data": {"n": 1}, **fields}
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert ModelRecord.create(**values) is None
    [line] = _lines(caplog)
    assert line.startswith("ModelRecord.create failed: ") and cause in line
    assert _rows(db) == 0


# -- reads -----------------------------------------------------------------------------------------------


def test_exists_and_get_match_the_names_and_the_moment(db, caplog):
    [record, _other] = _inserted(2)
    names = TAGS["dataset_name"], TAGS["experiment_name"], TAGS["season_name"], TAGS["site_name"]
    assert ModelRecord.exists(T0, MODEL, *names) is True
    assert ModelRecord.get(T0, MODEL, TAGS["dataset_name"]).id == record.id  # a name not given matches any
    assert ModelRecord.get(T0.replace(tzinfo=None), MODEL, TAGS["dataset_name"], site_name="Davis").id == record.id
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert ModelRecord.exists(T0, MODEL, "Flight 13", None, None, None) is False
        assert ModelRecord.exists(T0 + dt.timedelta(seconds=1), MODEL, None, None, None, None) is False
        assert ModelRecord.get(T0, MODEL, TAGS["dataset_name"], site_name="Kearney") is None
    assert _lines(caplog) == [f"ModelRecord.get failed: no model record of model {MODEL!r} at {T0.isoformat()}"]


def test_get_by_id_of_an_unknown_or_malformed_id_is_none_with_one_log_line(db, caplog):
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert ModelRecord.get_by_id(uuid.uuid4()) is None
        assert ModelRecord.get_by_id("not-an-id") is None
    lines = _lines(caplog)
    assert len(lines) == 2 and all(line.startswith("ModelRecord.get_by_id failed: ") for line in lines)


def test_get_all_lists_by_timestamp_up_to_the_limit_and_none_when_empty(db, caplog):
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert ModelRecord.get_all() is None
    assert _lines(caplog) == ["ModelRecord.get_all failed: no model records found"]
    records = [_record(minute) for minute in (3, 1, 2)]
    ModelRecord.insert(records)
    assert [record.timestamp for record in ModelRecord.get_all(limit=2)] == [_at(1), _at(2)]
    assert len(ModelRecord.get_all()) == 3


def test_search_is_a_generator_matching_names_dates_and_dicts_by_containment(db):
    _inserted(4)
    ModelRecord.insert([_record(0, model_name="plant_detector", model_data={"plants": 3, "stand_count": 41})])
    ModelRecord.insert([_record(0, site_name="Kearney", collection_date=dt.date(2026, 5, 31))])
    found = ModelRecord.search(model_name=MODEL, site_name="Davis")
    assert isinstance(found, types.GeneratorType)
    assert [record.record_info["plot"] for record in found] == [0, 1, 2, 3]
    by_data = ModelRecord.search(model_data={"stand_count": 41})
    assert [record.model_name for record in by_data] == ["plant_detector", MODEL]  # by timestamp
    assert [r.record_info for r in ModelRecord.search(model_name=MODEL, record_info={"plot": 2})] == [{"plot": 2}]
    assert [r.site_name for r in ModelRecord.search(collection_date=dt.date(2026, 5, 31))] == ["Kearney"]
    assert [r.site_name for r in ModelRecord.search(collection_date="2026-05-31")] == ["Kearney"]
    assert list(ModelRecord.search(dataset_name="never used")) == []
    assert len(list(ModelRecord.search())) == 6  # no criterion: every record, streamed


def test_filter_takes_lists_of_names_and_an_inclusive_time_range(db):
    _inserted(6)
    ModelRecord.insert([_record(minute, site_name="Kearney", season_name="Winter") for minute in range(3)])
    found = ModelRecord.filter(start_timestamp=_at(1), end_timestamp=_at(4), site_names=["Davis"])
    assert isinstance(found, types.GeneratorType)
    assert [record.record_info["plot"] for record in found] == [1, 2, 3, 4]
    both = ModelRecord.filter(model_names=[MODEL], site_names=["Davis", "Kearney"], end_timestamp=_at(1))
    assert sorted((r.site_name, r.record_info["plot"]) for r in both) == [
        ("Davis", 0), ("Davis", 1), ("Kearney", 0), ("Kearney", 1)
    ]
    assert len(list(ModelRecord.filter(season_names=["Winter"], experiment_names=[TAGS["experiment_name"]]))) == 3
    assert len(list(ModelRecord.filter(dataset_names=[TAGS["dataset_name"]], start_timestamp="2026-06-01T12:05:00"))) == 1


def test_a_search_that_cannot_start_is_none_with_one_log_line(db, caplog):
    _inserted(1)
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert ModelRecord.filter(start_timestamp=T0, end_timestamp=T0 - dt.timedelta(seconds=1)) is None
        assert ModelRecord.search(collection_date="June") is None
        assert ModelRecord.filter(model_version=f"{MODEL}@7") is None
    lines = _lines(caplog)
    assert [line.split(" failed")[0] for line in lines] == ["ModelRecord.filter", "ModelRecord.search", "ModelRecord.filter"]
    assert "is before start_timestamp" in lines[0] and f"no model version '{MODEL}@7'" in lines[2]


def test_a_failure_mid_stream_logs_once_and_ends_the_iteration(db, caplog, monkeypatch):
    _inserted(3)
    real = CheckedRegistry.stream_model_records

    def failing(self, **filters):
        found = real(self, **filters)

        def blocks():
            yield next(found)
            raise ServerUnreachableError("the server stopped answering")

        return blocks()

    monkeypatch.setattr(CheckedRegistry, "stream_model_records", failing)
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        found = list(ModelRecord.filter(model_names=[MODEL]))
    assert len(found) == 1
    assert _lines(caplog) == ["ModelRecord.filter failed: the server stopped answering"]


def test_stopping_early_reads_no_more(db):
    _inserted(5)
    found = ModelRecord.search(model_name=MODEL)
    assert next(found).record_info == {"plot": 0}
    found.close()


# -- update, info, delete, refresh ------------------------------------------------------------------------


def test_update_replaces_model_data_and_record_info_rather_than_merging(db):
    record = ModelRecord.create(timestamp=T0, model_name=MODEL, model_data={"a": 1, "b": 2}, record_info={"x": 1, "y": 2})
    assert record.update(model_data={"c": 3}) is record
    assert record.model_data == {"c": 3} and record.record_info == {"x": 1, "y": 2}
    record.update(record_info={"z": 0})
    assert ModelRecord.get_by_id(record.id).model_data == {"c": 3}
    assert ModelRecord.get_by_id(record.id).record_info == {"z": 0}


def test_update_with_nothing_or_into_an_existing_record_is_none_with_one_log_line(db, caplog):
    first, second = _inserted(1)[0], ModelRecord.create(timestamp=T0, model_name=MODEL, model_data={"n": 1}, **TAGS)
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert first.update() is None
        assert second.update(record_info={"plot": 0}) is None  # it would equal ``first``
    lines = _lines(caplog)
    assert len(lines) == 2 and all(line.startswith("ModelRecord.update failed: ") for line in lines)
    assert ModelRecord.get_by_id(second.id).record_info == {}


def test_set_info_and_get_info(db, caplog):
    record = _inserted(1)[0]
    assert record.set_info({"plot": 7, "row": 3}) is record and record.record_info == {"plot": 7, "row": 3}
    assert ModelRecord.get_by_id(record.id).get_info() == {"plot": 7, "row": 3}
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert record.set_info(None) is None
    assert _lines(caplog) == ["ModelRecord.set_info failed: record_info is required"]


def test_refresh_reads_what_another_caller_changed(db):
    record = _inserted(1)[0]
    ModelRecord.get_by_id(record.id).update(model_data={"stand_count": 99})
    assert record.model_data == {"stand_count": 40}
    assert record.refresh() is record and record.model_data == {"stand_count": 99}


def test_delete_then_every_read_of_it_fails_with_one_log_line_each(db, caplog):
    record = _inserted(2)[0]
    assert record.delete() is True and _rows(db) == 1
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert record.delete() is False
        assert record.refresh() is None
        assert record.get_info() is None
        assert ModelRecord.get_by_id(record.id) is None
    lines = _lines(caplog)
    assert [line.split(" failed")[0] for line in lines] == [
        "ModelRecord.delete", "ModelRecord.refresh", "ModelRecord.get_info", "ModelRecord.get_by_id"
    ]


def test_instance_methods_of_a_record_never_inserted_fail_with_one_log_line(db, caplog):
    record = _record()
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert record.delete() is False
        assert record.update(model_data={"n": 1}) is None
        assert record.download_file() is None
    assert _lines(caplog) == [
        f"ModelRecord.{name} failed: this model record is not in the registry: insert it first"
        for name in ("delete", "update", "download_file")
    ]


# -- files -------------------------------------------------------------------------------------------------


def test_a_record_file_is_stored_and_downloads_to_a_directory_and_to_a_path(db, tmp_path):
    local = tmp_path / "flight" / "plot_1207.png"
    digest = write_file(local, 300_000, seed=b"plot")
    record = ModelRecord.create(timestamp=T0, model_name=MODEL, record_file=str(local), **TAGS)
    expected = f"model_data/Cowpea 2026/{MODEL}/Flight 12/2026-06-01/Davis/Summer/plot_1207.png"
    assert record.record_file == expected
    assert (record.file_sha256, record.file_size, record.model_data) == (digest, 300_000, {})
    assert ModelRecord.get_by_id(record.id).record_file == expected

    into = tmp_path / "downloads"
    into.mkdir()
    written = record.download_file(into)
    assert written == into / "plot_1207.png"
    assert hashlib.sha256(written.read_bytes()).hexdigest() == digest
    path = record.download_file(tmp_path / "copy.bin")
    assert path == tmp_path / "copy.bin" and hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_a_bulk_insert_with_files_gives_each_file_record_its_stored_name(db, tmp_path):
    paths = [tmp_path / f"plot_{index}.json" for index in range(2)]
    for index, path in enumerate(paths):
        write_file(path, 1_000, seed=bytes([index]))
    records = [_record(0, record_file=paths[0]), _record(1), _record(2, record_file=str(paths[1]))]
    assert ModelRecord.insert(records)[0] is True
    assert records[0].record_file.endswith("/Davis/Summer/plot_0.json") and records[0].record_file.startswith("model_data/")
    assert records[1].record_file is None
    assert records[2].record_file.endswith("/plot_1.json")
    # Inserting them again passes no stored name as a local path: the same records, nothing new.
    assert ModelRecord.insert(records) == (True, [str(record.id) for record in records])
    assert _rows(db) == 3


def test_download_of_a_record_without_a_file_is_none_with_one_log_line(db, caplog, tmp_path):
    record = _inserted(1)[0]
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert record.download_file(tmp_path) is None
    assert _lines(caplog) == [f"ModelRecord.download_file failed: model record {record.id} has no file"]


# -- the run and the version that produced a record -------------------------------------------------------


def test_model_run_and_version_are_written_readable_and_searchable(db, version):
    run, registered = version
    made = ModelRecord.create(
        timestamp=T0, model_name=MODEL, model_data={"stand_count": 41}, **TAGS,
        model_run_id=run.id, model_version=f"{MODEL}@production",
    )
    assert made.model_run_id == run.id
    assert made.model_version == f"{MODEL}@1" and made.model_version_id == registered.id  # resolved at insert
    built = [_record(minute, model_run_id=str(run.id), model_version=f"{MODEL}@1") for minute in (1, 2)]
    assert ModelRecord.insert(built)[0] is True
    assert built[1].model_run_id == run.id  # read as a UUID before the insert, too
    assert built[0].refresh().model_version == f"{MODEL}@1"
    _inserted(3, record_info={"unrelated": True})  # no run, no version

    def ids(found):
        return [record.id for record in found]

    produced = [made.id] + [record.id for record in built]
    assert ids(ModelRecord.search(model_run_id=run.id)) == produced
    assert ids(ModelRecord.filter(model_version=f"{MODEL}@production")) == produced
    assert ids(ModelRecord.filter(experiment_names=[TAGS["experiment_name"]], model_version=f"{MODEL}@1")) == produced
    model = Model.get(MODEL)
    assert ids(model.search_records(site_name="Davis", model_version=f"{MODEL}@latest")) == produced
    window = model.filter_records(start_timestamp=T0, end_timestamp=_at(1), model_run_id=str(run.id))
    assert ids(window) == produced[:2]


def test_an_alias_resolves_when_the_record_is_inserted(db, version):
    run, _first = version
    early = ModelRecord.create(timestamp=T0, model_name=MODEL, model_data={"n": 1}, model_version=f"{MODEL}@production")
    second = run.register_version(WEIGHTS)
    assert second.set_alias("production") is True
    late = ModelRecord.create(timestamp=_at(1), model_name=MODEL, model_data={"n": 2}, model_version=f"{MODEL}@production")
    assert (early.model_version, late.model_version) == (f"{MODEL}@1", f"{MODEL}@2")
    assert [record.id for record in ModelRecord.filter(model_version=f"{MODEL}@production")] == [late.id]
    assert [record.id for record in ModelRecord.search(model_version=f"{MODEL}@1")] == [early.id]


def test_a_version_or_run_that_cannot_have_produced_the_record_is_refused(db, version, caplog):
    run, _registered = version
    other = ModelRun.create({"n": 2}, model_name="plant_detector")
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert ModelRecord.create(timestamp=T0, model_name=MODEL, model_data=DATA, model_version=f"{MODEL}@9") is None
        assert ModelRecord.create(timestamp=T0, model_name="plant_detector", model_data=DATA, model_version=f"{MODEL}@1") is None
        assert ModelRecord.create(timestamp=T0, model_name=MODEL, model_data=DATA, model_run_id=other.id) is None
        assert ModelRecord.create(timestamp=T0, model_name=MODEL, model_data=DATA, model_version="no reference") is None
        assert ModelRecord.insert([_record(0), _record(1, model_run_id=uuid.uuid4())]) == (False, [])
    lines = _lines(caplog)
    assert len(lines) == 5 and f"no model version '{MODEL}@9'" in lines[0]
    assert "is not a version of model 'plant_detector'" in lines[1] and "is not a run of model" in lines[2]
    assert lines[4].startswith("ModelRecord.insert failed: ")
    assert _rows(db) == 0


# -- Model's record methods --------------------------------------------------------------------------------


def test_model_insert_record_takes_gemini_s_defaults(db):
    model = Model.create(MODEL)
    success, ids = model.insert_record(timestamp=T0, model_data={"stand_count": 41}, experiment_name="Cowpea 2026")
    assert success is True and len(ids) == 1 and isinstance(ids[0], str)
    record = ModelRecord.get_by_id(ids[0])
    assert record.dataset_name == f"{MODEL} Dataset 2026-06-01"  # GEMINI's default dataset
    assert (record.collection_date, record.model_name, record.experiment_name) == (T0.date(), MODEL, "Cowpea 2026")
    success, [now_id] = model.insert_record(model_data={"n": 1}, dataset_name="Flight 12")
    now = ModelRecord.get_by_id(now_id)
    assert abs(now.timestamp - dt.datetime.now(UTC)) < dt.timedelta(minutes=1) and now.dataset_name == "Flight 12"


def test_model_insert_records_inserts_one_record_per_timestamp_as_one_collection(db, tmp_path):
    model = Model.create(MODEL)
    late = dt.datetime(2026, 6, 1, 23, 59, 30, tzinfo=UTC)
    stamps = [late, late + dt.timedelta(seconds=20), late + dt.timedelta(seconds=40)]  # past midnight
    image = tmp_path / "plot.png"
    write_file(image, 2_000)
    success, ids = model.insert_records(
        timestamps=stamps, model_data=[{"n": 1}, {"n": 2}, None], record_files=[None, None, str(image)],
        record_info=[{"plot": 1}, {"plot": 2}, {"plot": 3}], site_name="Davis",
    )
    assert success is True and len(ids) == 3
    records = [ModelRecord.get_by_id(record_id) for record_id in ids]
    assert [record.timestamp for record in records] == stamps
    assert {record.collection_date for record in records} == {dt.date(2026, 6, 1)}  # the first timestamp's date
    assert {record.dataset_name for record in records} == {f"{MODEL} Dataset 2026-06-01"}
    assert records[2].record_file.endswith("/plot.png") and records[2].model_data == {}
    assert model.insert_records(timestamps=stamps, model_data=[{"n": 1}, {"n": 2}, {"n": 3}],
                                record_info=[{"plot": 1}, {"plot": 2}, {"plot": 3}], site_name="Davis") == (True, ids)
    assert _rows(db) == 3


ONE = [{"n": 1}]
TWO = [{"n": 1}, {"n": 2}]


def test_model_insert_records_takes_an_empty_list_as_not_given(db, tmp_path):
    """GEMINI's defaults are ``[]``: files without model_data, or model_data without files."""
    model = Model.create(MODEL)
    image = tmp_path / "plot.png"
    write_file(image, 1_000)
    assert model.insert_records(timestamps=[T0], model_data=[], record_files=[image], record_info=[])[0] is True
    assert model.insert_records(timestamps=[_at(1)], model_data=ONE, record_files=[], record_info=[])[0] is True
    assert [record.model_data for record in model.search_records()] == [{}, {"n": 1}]


@pytest.mark.parametrize(
    ("call", "cause"),
    [
        (lambda m: m.insert_record(timestamp=T0), "Model.insert_record failed: give model_data or a record file"),
        (lambda m: m.insert_record(model_data={}), "Model.insert_record failed: give model_data or a record file"),
        (lambda m: m.insert_records(timestamps=[], model_data=[]), "Model.insert_records failed: timestamps must be"),
        (lambda m: m.insert_records(model_data=ONE), "Model.insert_records failed: timestamps must be a non-empty list"),
        (lambda m: m.insert_records(timestamps=[T0, T0], model_data=ONE), "Model.insert_records failed: model_data must"),
        (
            lambda m: m.insert_records(timestamps=[T0], model_data=ONE, record_info=[{}, {}]),
            "Model.insert_records failed: record_info must be a list of 1 items",
        ),
        (
            lambda m: m.insert_records(timestamps=[T0, _at(1)], model_data=[{"n": 1}, {}]),
            "Model.insert_records failed: records[1]: give model_data or a record file",
        ),
        (
            lambda m: m.insert_records(timestamps=[T0, "yesterday"], model_data=TWO),
            "Model.insert_records failed: records[1]: timestamp 'yesterday'",
        ),
    ],
)
def test_model_inserts_refuse_bad_input_with_false_and_one_log_line(db, call, cause, caplog):
    model = Model.create(MODEL)
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert call(model) == (False, [])
    [line] = _lines(caplog)
    assert line.startswith(cause)
    assert _rows(db) == 0


def test_model_search_and_filter_records_are_this_model_s(db):
    model = Model.create(MODEL)
    _inserted(3)
    ModelRecord.insert([_record(minute, model_name="plant_detector") for minute in range(3)])
    found = model.search_records(site_name="Davis", record_info={"plot": 1, "ignored": None})
    assert isinstance(found, types.GeneratorType)
    assert [(r.model_name, r.record_info) for r in found] == [(MODEL, {"plot": 1})]
    assert [r.model_name for r in model.search_records(collection_date=T0.date())] == [MODEL] * 3
    window = model.filter_records(start_timestamp=_at(1), dataset_names=[TAGS["dataset_name"]], season_names=["Summer"])
    assert [(r.model_name, r.record_info["plot"]) for r in window] == [(MODEL, 1), (MODEL, 2)]
    assert list(model.filter_records(site_names=["Kearney"])) == []


def test_model_search_records_that_cannot_start_is_none_with_one_log_line(db, caplog):
    model = Model.create(MODEL)
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert model.search_records(collection_date="someday") is None
        assert model.filter_records(experiment_names=[""]) is None
    assert [line.split(":")[0] for line in _lines(caplog)] == ["Model.search_records failed", "Model.filter_records failed"]


def test_deleting_a_model_deletes_its_records(db):
    _inserted(2)
    ModelRecord.insert([_record(0, model_name="plant_detector")])
    assert Model.get(MODEL).delete() is True
    assert [record.model_name for record in ModelRecord.search()] == ["plant_detector"]


# -- the record object -------------------------------------------------------------------------------------


def test_a_record_built_without_validation_equals_a_validated_one(db):
    stored = _inserted(1)[0].refresh()
    again = ModelRecord(**stored.model_dump())
    assert again == stored and again.model_dump() == stored.model_dump()
    assert ModelRecord.model_validate(stored.model_dump(mode="json")) == stored
    built = _record(3)
    assert built == ModelRecord(**built.model_dump())
    assert built.model_fields_set == ModelRecord(**built.model_dump(exclude_unset=True)).model_fields_set
    built.site_name = "Kearney"  # assignment works as on any pydantic model
    assert built.site_name == "Kearney" and "site_name" in built.model_fields_set
    assert "ModelRecord(id=" in str(stored) and "file_sha256" not in repr(stored)


def test_records_work_through_a_server_without_any_server_package(remote_registry, tmp_path):
    (tmp_path / "plot.txt").write_text("41 plants")
    result = run_client(
        f"""
        import datetime as dt
        from gemini.api.model import Model
        from gemini.api.model_record import ModelRecord

        t = dt.datetime(2026, 6, 1, 12)
        record = ModelRecord.create(timestamp=t, model_name="imports-records", model_data={{"n": 1}},
                                    site_name="imports-site", record_file={str(tmp_path / "plot.txt")!r})
        assert record.record_file.endswith("/imports-site/None/plot.txt"), record
        model = Model.get("imports-records")
        assert model.insert_records(timestamps=[t, t + dt.timedelta(1)], model_data=[{{"n": 2}}, {{"n": 3}}])[0]
        assert [r.model_data for r in model.filter_records(start_timestamp=t)] == [{{"n": 1}}, {{"n": 2}}, {{"n": 3}}]
        assert record.download_file({str(tmp_path / "copy.txt")!r}).read_text() == "41 plants"
        assert model.delete()
        print("ok")
        """,
        server_url=remote_registry.url,
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
