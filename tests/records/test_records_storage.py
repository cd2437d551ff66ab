"""The bulk paths' own encodings write what SQLAlchemy (and psycopg) would: every value of a row reads
back equal through SQLAlchemy's column types, on both databases."""

import datetime as dt
import json
import uuid

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
