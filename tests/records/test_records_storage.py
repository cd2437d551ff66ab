"""The bulk paths' own encodings write what SQLAlchemy (and psycopg) would: every value of a row reads
back equal through SQLAlchemy's column types, on both databases."""

import datetime as dt
import json
import uuid

import pytest
import sqlalchemy as sa

from gemini.db import engine as db_engine
from gemini.db.model_records import WRITTEN, ModelRecordRepository, sqlite_values
from gemini.db.repositories import ModelRepository
from gemini.db.tables import model_records

AWKWARD_TEXT = 'tab\there, newline\nthere, back\\slash, "quote", carriage\rreturn, ünïcødé ✓'


def a_row(model_id: uuid.UUID) -> tuple:
    values = {
        "id": uuid.uuid4(),
        "timestamp": dt.datetime(2026, 6, 1, 12, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
        "collection_date": dt.date(2026, 6, 1),
        "model_id": model_id,
        "dataset_id": uuid.uuid4(),
        "experiment_id": None,
        "season_id": uuid.uuid4(),
        "site_id": uuid.uuid4(),
        "model_data": json.dumps({"text": AWKWARD_TEXT, "n": 1e300, "list": [1, None]}, ensure_ascii=False),
        "record_info": json.dumps({"k": "\\"}),
        "record_file": "model_data/" + AWKWARD_TEXT,
        "file_sha256": "ab" * 32,
        "file_size": 2**40,
        "model_run_id": None,
        "model_version_id": None,
        "created_at": dt.datetime(2026, 12, 4, 6, 0, tzinfo=dt.timezone.utc),
        "identity": bytes(range(32)),
    }
    return tuple(values[name] for name in WRITTEN)


def test_sqlite_values_are_what_sqlalchemy_binds():
    dialect = sa.create_engine("sqlite://").dialect
    row = a_row(uuid.uuid4())
    expected = []
    for name, value in zip(WRITTEN, row):
        process = model_records.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        expected.append(value if name in ("model_data", "record_info") or process is None or value is None else process(value))
    assert list(next(sqlite_values([row]))) == [bytes(value) if isinstance(value, memoryview) else value for value in expected]


def test_a_bulk_written_row_reads_back_equal(db):
    engine = db_engine.get_engine(db)
    with engine.begin() as connection:
        model_id, _ = ModelRepository(connection).get_or_add_id("stand_counter")
        row = a_row(model_id)
        assert ModelRecordRepository(connection).insert([row]) == {}
    with engine.connect() as connection:
        stored = connection.execute(sa.select(*(model_records.c[name] for name in WRITTEN))).one()
    for name, written, read in zip(WRITTEN, row, stored):
        if name in ("model_data", "record_info"):
            assert read == json.loads(written), name
        elif name == "identity":
            assert bytes(read) == written
        elif isinstance(written, dt.datetime):
            assert read == written and read.tzinfo is not None, name
        else:
            assert read == written, name


def test_a_block_decodes_what_was_written(db):
    engine = db_engine.get_engine(db)
    with engine.begin() as connection:
        model_id, _ = ModelRepository(connection).get_or_add_id("stand_counter")
        row = a_row(model_id)
        repository = ModelRecordRepository(connection)
        repository.insert([row])
        decoded = repository.get(row[0])
    for name in WRITTEN[:-1]:  # every column but the identity
        written = row[WRITTEN.index(name)]
        expected = json.loads(written) if name in ("model_data", "record_info") else written
        assert getattr(decoded, name) == expected, name
    assert decoded.timestamp.tzinfo == dt.timezone.utc


def _orphans(connection) -> int:
    query = "SELECT count(*) FROM model_records r LEFT JOIN models m ON m.id = r.model_id WHERE m.id IS NULL"
    return connection.exec_driver_sql(query).scalar_one()


def test_rows_cannot_name_a_model_that_does_not_exist(db):
    from gemini.db.engine import unit_of_work
    from gemini.domain.errors import GeminiError

    engine = db_engine.get_engine(db)
    with pytest.raises(GeminiError, match="no model with id|FOREIGN KEY"):
        with unit_of_work(write=True) as connection:
            ModelRecordRepository(connection).insert([a_row(uuid.uuid4())])
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM model_records").scalar_one() == 0


def test_a_model_deleted_while_its_records_are_written_leaves_no_record_behind(db):
    """An insert holding its model's key (its transaction still open) makes the deletion wait, and the
    deletion then removes what the insert wrote: no record is left naming a model that is gone."""
    import threading

    from gemini.core.models import delete_model
    from gemini.db.engine import unit_of_work

    engine = db_engine.get_engine(db)
    with engine.begin() as connection:
        model_id, _ = ModelRepository(connection).get_or_add_id("stand_counter")
    written, release = threading.Event(), threading.Event()

    def insert_and_wait() -> None:
        with unit_of_work(write=True) as connection:
            ModelRecordRepository(connection).insert([a_row(model_id)])
            written.set()
            release.wait(10)

    inserting = threading.Thread(target=insert_and_wait)
    inserting.start()
    assert written.wait(10)
    deleting = threading.Thread(target=delete_model, kwargs={"model_id": model_id})
    deleting.start()
    deleting.join(0.3)
    # SQLite's writers go one at a time; PostgreSQL's deletion waits on the key the insert holds.
    assert deleting.is_alive()
    release.set()
    inserting.join(10)
    deleting.join(30)
    assert not deleting.is_alive()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM model_records").scalar_one() == 0
        assert _orphans(connection) == 0


def test_records_written_for_a_model_being_deleted_are_refused(db, dialect):
    """The deletion holds its model first: the insert waits, then finds the model gone."""
    if dialect != "postgresql":
        pytest.skip("SQLite's writers go one at a time: an insert cannot start inside a deletion")
    import threading

    from gemini.db.engine import unit_of_work
    from gemini.db.model_records import lock_for_delete
    from gemini.domain.errors import NotFoundError

    engine = db_engine.get_engine(db)
    with engine.begin() as connection:
        model_id, _ = ModelRepository(connection).get_or_add_id("stand_counter")
    outcome: list = []

    def insert() -> None:
        try:
            with unit_of_work(write=True) as connection:
                ModelRecordRepository(connection).insert([a_row(model_id)])
            outcome.append("written")
        except NotFoundError as exc:
            outcome.append(exc)

    with unit_of_work(write=True) as connection:
        lock_for_delete(connection, "model", model_id)
        inserting = threading.Thread(target=insert)
        inserting.start()
        inserting.join(0.3)
        assert inserting.is_alive()  # waiting for the deletion
        ModelRecordRepository(connection).delete_of_model(model_id)
        ModelRepository(connection).delete(model_id)
    inserting.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], NotFoundError), outcome
    with engine.connect() as connection:
        assert _orphans(connection) == 0
