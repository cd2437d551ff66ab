"""Model records on the database, through the registry's front: SQLite and PostgreSQL (``db``)."""

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from gemini.core import artifacts
from gemini.core import model_records as core_records
from gemini.db import engine as db_engine
from gemini.domain.errors import ConflictError, InvalidInputError, NotFoundError
from gemini.registry import registry

T0 = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.timezone.utc)
PLACE = {"experiment_name": "GEMINI-2026", "season_name": "Summer", "site_name": "Davis", "dataset_name": "flight-01"}


def record(minute: int, **fields) -> dict:
    return {"model_name": "stand_counter", "timestamp": T0 + dt.timedelta(minutes=minute), "model_data": {"count": minute}, **PLACE, **fields}


def count_rows(db: str, table: str) -> int:
    with db_engine.get_engine(db).connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_ids_come_in_input_order_and_a_duplicate_gets_the_stored_id(db):
    first = registry().insert_model_records(records=[record(0), record(1), record(0)])
    assert [new for _id, new in first] == [True, True, False]
    assert first[2][0] == first[0][0]  # repeated within one insert: stored once
    again = registry().insert_model_records(records=[record(1), record(2)])
    assert again[0] == (first[1][0], False)
    assert again[1][1] is True
    assert count_rows(db, "model_records") == 3


def test_record_info_is_part_of_the_identity_and_model_data_is_not(db):
    inserted = registry().insert_model_records(
        records=[record(0, record_info={"tile": 1}), record(0, record_info={"tile": 2}), record(0, record_info={"tile": 1}, model_data={"count": 99})]
    )
    assert [new for _id, new in inserted] == [True, True, False]
    kept = registry().get_model_record(record_id=inserted[0][0])
    assert kept.model_data == {"count": 0}  # the stored one stays, as GEMINI's ON CONFLICT DO NOTHING


def test_names_are_made_on_first_use_and_a_search_creates_nothing(db):
    (record_id, _new), = registry().insert_model_records(records=[record(0)])
    stored = registry().get_model_record(record_id=record_id)
    assert (stored.model_name, stored.experiment_name, stored.season_name, stored.site_name, stored.dataset_name) == (
        "stand_counter", "GEMINI-2026", "Summer", "Davis", "flight-01"
    )
    assert None not in (stored.model_id, stored.experiment_id, stored.season_id, stored.site_id, stored.dataset_id)
    before = {table: count_rows(db, table) for table in ("models", "experiments", "seasons", "sites", "datasets")}
    assert list(registry().stream_model_records(experiment_names="nowhere", site_names=["Davis"])) == []
    assert registry().search_model_records(model_names="no-such-model", with_total=True).total == 0
    assert {table: count_rows(db, table) for table in before} == before


def test_moments_without_a_zone_are_utc_and_the_collection_date_defaults_to_the_timestamps(db):
    naive = dt.datetime(2026, 6, 1, 23, 30)
    (record_id, _), (text_id, _) = registry().insert_model_records(
        records=[
            {"model_name": "m", "timestamp": naive, "model_data": {}},
            {"model_name": "m", "timestamp": "2026-06-02T01:31:00+02:00", "collection_date": "2026-05-31", "model_data": {}},
        ]
    )
    stored = registry().get_model_record(record_id=record_id)
    assert stored.timestamp == naive.replace(tzinfo=dt.timezone.utc)
    assert stored.collection_date == dt.date(2026, 6, 1)
    other = registry().get_model_record(record_id=text_id)
    assert other.timestamp == dt.datetime(2026, 6, 1, 23, 31, tzinfo=dt.timezone.utc)
    assert other.collection_date == dt.date(2026, 5, 31)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timestamp": "yesterday"}, "records[2]: timestamp 'yesterday' is not an ISO 8601 date and time"),
        ({"collection_date": "June"}, "records[2]: collection_date 'June' is not an ISO 8601 date"),
        ({"model_data": {"x": float("nan")}}, "records[2]: model_data['x'] is nan; NaN and Infinity are not JSON"),
        ({"model_data": [1, 2]}, "records[2]: model_data must be a JSON object (a dict), got list"),
        ({"site_name": ""}, "records[2]: site_name"),
        ({"model_version": "stand_counter"}, "records[2]: 'stand_counter' is not a version reference"),
        ({"model_run_id": "not-an-id"}, "records[2]: "),
        ({"record_file": "/no/such/file.png"}, "records[2]: record_file '/no/such/file.png' is not a file"),
        ({"colour": "red"}, "records[2]: "),
    ],
)
def test_a_bad_record_is_named_by_its_position_and_nothing_is_written(db, monkeypatch, fields, message):
    monkeypatch.setattr(core_records, "CHUNK_RECORDS", 2)  # the bad record is in the second chunk
    with pytest.raises(InvalidInputError) as raised:
        registry().insert_model_records(records=[record(0), record(1), record(2, **fields), record(3)])
    assert str(raised.value).startswith(message)
    assert count_rows(db, "model_records") == 0
    assert count_rows(db, "models") == 0


def test_a_stream_reads_every_record_once_in_order_across_blocks(db, monkeypatch):
    monkeypatch.setattr(core_records, "FIRST_BLOCK", 3)
    monkeypatch.setattr(core_records, "NEXT_BLOCK", 4)
    # Many records share a moment: the blocks continue by id within it.
    records = [record(minute // 5, record_info={"plot": minute}) for minute in range(37)]
    inserted = registry().insert_model_records(records=records)
    streamed = list(registry().stream_model_records(model_names="stand_counter"))
    assert sorted(item.id for item in streamed) == sorted(record_id for record_id, _ in inserted)
    assert [(item.timestamp, item.id) for item in streamed] == sorted((item.timestamp, item.id) for item in streamed)
    pages = [registry().search_model_records(limit=10, offset=offset).items for offset in range(0, 40, 10)]
    assert [item.id for page in pages for item in page] == [item.id for item in streamed]
    window = list(registry().stream_model_records(limit=9, offset=5))
    assert [item.id for item in window] == [item.id for item in streamed[5:14]]


def test_filters_combine_lists_bounds_dates_and_containment(db):
    registry().insert_model_records(
        records=[
            record(0, site_name="Davis", model_data={"count": 1, "class": "maize"}),
            record(10, site_name="Kearney", record_info={"tile": 7}),
            record(20, site_name="Fresno", collection_date="2026-06-03"),
            record(30, model_name="yield_predictor"),
        ]
    )

    def minutes(**filters) -> list[int]:
        return [int((item.timestamp - T0).total_seconds() // 60) for item in registry().stream_model_records(**filters)]

    assert minutes(site_names=["Davis", "Kearney"]) == [0, 10, 30]
    assert minutes(model_names="stand_counter", site_names="Davis") == [0]
    assert minutes(start_timestamp=T0 + dt.timedelta(minutes=10), end_timestamp=T0 + dt.timedelta(minutes=20)) == [10, 20]
    assert minutes(collection_date="2026-06-03") == [20]
    assert minutes(model_data={"class": "maize"}) == [0]
    assert minutes(record_info={"tile": 7}) == [10]
    with pytest.raises(InvalidInputError, match="end_timestamp .* is before start_timestamp"):
        registry().search_model_records(start_timestamp=T0, end_timestamp=T0 - dt.timedelta(seconds=1))


@pytest.fixture
def versioned(db, tmp_path):
    """A run of stand_counter with weights registered as version 1, aliased production, and a run of
    another model."""
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"weights")
    run, _ = registry().create_run(model_run_info={"lr": 0.01}, model_name="stand_counter")
    registry().log_artifact_file(run_id=run.id, path=weights, name="weights/best.pt")
    version = registry().register_model_version(run_id=run.id, artifact_name="weights/best.pt")
    registry().set_model_version_alias(version_id=version.id, alias="production")
    other, _ = registry().create_run(model_run_info={"lr": 0.1}, model_name="yield_predictor")
    return run, version, other


def test_the_run_and_version_that_produced_a_record_are_kept_and_searchable(versioned):
    run, version, _other = versioned
    (record_id, _), (plain_id, _) = registry().insert_model_records(
        records=[record(0, model_run_id=str(run.id), model_version="stand_counter@production"), record(1)]
    )
    stored = registry().get_model_record(record_id=record_id)
    assert (stored.model_run_id, stored.model_version_id, stored.model_version) == (run.id, version.id, "stand_counter@1")
    assert [item.id for item in registry().stream_model_records(model_version="stand_counter@production")] == [record_id]
    assert [item.id for item in registry().stream_model_records(model_run_id=run.id)] == [record_id]
    assert registry().get_model_record(record_id=plain_id).model_version is None
    with pytest.raises(NotFoundError, match="no model version 'stand_counter@staging'"):
        registry().stream_model_records(model_version="stand_counter@staging")


def test_a_record_names_a_run_and_a_version_of_its_own_model(versioned, db):
    _run, _version, other = versioned
    with pytest.raises(InvalidInputError, match="is not a run of model 'stand_counter'"):
        registry().insert_model_records(records=[record(0, model_run_id=other.id)])
    with pytest.raises(InvalidInputError, match="is not a version of model 'yield_predictor'"):
        registry().insert_model_records(records=[record(0, model_name="yield_predictor", model_version="stand_counter@1")])
    with pytest.raises(NotFoundError, match="no model version 'stand_counter@7'"):
        registry().insert_model_records(records=[record(0, model_version="stand_counter@7")])
    with pytest.raises(NotFoundError):
        registry().insert_model_records(records=[record(0, model_run_id=uuid.uuid4())])
    assert count_rows(db, "model_records") == 0


def test_what_records_point_at_is_not_deleted_under_them(versioned):
    run, version, _other = versioned
    (record_id, _), = registry().insert_model_records(
        records=[record(0, model_run_id=run.id, model_version="stand_counter@1")]
    )
    registry().remove_model_version_alias(version_id=version.id, alias="production")
    with pytest.raises(ConflictError, match="produced 1 model records"):
        registry().delete_model_version(version_id=version.id)
    experiment = registry().get_experiment_by_name(experiment_name="GEMINI-2026")
    with pytest.raises(ConflictError, match="tags 1 model records"):
        registry().delete_experiment(experiment_id=experiment.id)
    registry().delete_model_record(record_id=record_id)
    registry().delete_model_version(version_id=version.id)
    registry().delete_run(run_id=run.id)
    registry().delete_experiment(experiment_id=experiment.id)


def test_a_run_with_records_is_not_deleted(db):
    run, _ = registry().create_run(model_run_info={"epochs": 1}, model_name="stand_counter")
    registry().insert_model_records(records=[record(0, model_run_id=run.id)])
    with pytest.raises(ConflictError, match=f"model run {run.id} produced 1 model records"):
        registry().delete_run(run_id=run.id)


def test_files_are_stored_by_content_downloaded_verified_and_released_with_their_last_record(db, tmp_path):
    image = tmp_path / "plot-0042.png"
    image.write_bytes(b"\x89PNG plot 42")
    (with_file, _), (again, new) = registry().insert_model_records(
        records=[record(0, record_file=image), record(0, record_file=str(image))]
    )
    assert (again, new) == (with_file, False)
    stored = registry().get_model_record(record_id=with_file)
    assert stored.record_file == "model_data/GEMINI-2026/stand_counter/flight-01/2026-06-01/Davis/Summer/plot-0042.png"
    assert stored.file_size == len(b"\x89PNG plot 42")
    into = tmp_path / "downloads"
    into.mkdir()
    written = registry().download_model_record_file(record_id=with_file, dest=into)
    assert written == into / "plot-0042.png" and written.read_bytes() == image.read_bytes()
    blob = artifacts.artifact_store().path_of(stored.file_sha256)
    assert artifacts.collect_garbage() is not None and blob.is_file()  # a record's file is a reference
    (without, _), = registry().insert_model_records(records=[record(1)])
    with pytest.raises(NotFoundError, match="has no file"):
        registry().download_model_record_file(record_id=without, dest=tmp_path / "x")
    registry().delete_model_record(record_id=with_file)
    assert not blob.exists()


def test_deleting_a_model_deletes_its_records_and_their_files(db, tmp_path):
    image = tmp_path / "plot.png"
    image.write_bytes(b"plot")
    (record_id, _), _other = registry().insert_model_records(
        records=[record(0, record_file=image), record(0, model_name="yield_predictor")]
    )
    stored = registry().get_model_record(record_id=record_id)
    registry().delete_model(model_id=stored.model_id)
    assert count_rows(db, "model_records") == 1
    assert not artifacts.artifact_store().path_of(stored.file_sha256).exists()


def test_an_update_replaces_and_keeps_identities_distinct(db):
    (first, _), (second, _) = registry().insert_model_records(
        records=[record(0, model_data={"count": 1, "extra": True}), record(0, record_info={"tile": 2})]
    )
    updated = registry().update_model_record(record_id=first, model_data={"count": 2})
    assert updated.model_data == {"count": 2}  # replaced, not merged
    with pytest.raises(ConflictError, match="already has this model"):
        registry().update_model_record(record_id=first, record_info={"tile": 2})
    assert registry().update_model_record(record_id=first, record_info={"tile": 3}).record_info == {"tile": 3}
    assert registry().insert_model_records(records=[record(0, record_info={"tile": 3})]) == [(first, False)]
    with pytest.raises(InvalidInputError, match="give model_data, record_info or both"):
        registry().update_model_record(record_id=second)
    with pytest.raises(NotFoundError):
        registry().update_model_record(record_id=uuid.uuid4(), model_data={})


def test_model_data_reads_back_as_the_same_values(db):
    data = {"big": 1e16, "small": 1e-05, "huge_int": 2**70, "text": "é\n\x01 😀", "nested": [{"x": -0.0}, None, True]}
    [(record_id, _new)] = registry().insert_model_records(records=[record(0, model_data=data)])
    assert registry().get_model_record(record_id=record_id).model_data == data


def test_an_insert_leaves_the_garbage_collector_as_it_found_it(db):
    import gc

    gc.unfreeze()  # from nothing frozen (importing the REST app freezes what it made)
    try:
        registry().insert_model_records(records=[record(0)])
        assert gc.get_freeze_count() == 0 and gc.isenabled()
        with pytest.raises(InvalidInputError):
            registry().insert_model_records(records=[record(1), record(2, model_data={"x": float("nan")})])
        assert gc.get_freeze_count() == 0  # unfrozen after a refused insert too
        gc.freeze()
        frozen = gc.get_freeze_count()
        registry().insert_model_records(records=[record(3)])
        # What the process froze itself stays frozen (unfreezing would leave none; a few may be freed).
        assert gc.get_freeze_count() > frozen // 2 > 0
    finally:
        gc.freeze()


def test_a_read_leaves_the_garbage_collector_as_it_found_it(db):
    import gc

    registry().insert_model_records(records=[record(0), record(1)])
    assert len(list(registry().stream_model_records(model_names="stand_counter"))) == 2
    assert gc.isenabled()  # paused while a block is built, enabled again after
    gc.disable()
    try:
        assert len(list(registry().stream_model_records(model_names="stand_counter"))) == 2
        assert not gc.isenabled()  # a caller's own pause is kept
    finally:
        gc.enable()
