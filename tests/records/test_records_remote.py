"""Model records through a real ``gemini serve`` (the HTTP transport): bulk inserts in chunks sized to the
server, records with files through GEMINI's multipart route, streams read as they arrive, and the same
answers and refusals as on the database (those checked in every mode)."""

import datetime as dt
import hashlib
import time
import uuid

import pytest

from gemini.domain.errors import ConflictError, InvalidInputError, NotFoundError
from gemini.registry import registry
from gemini.remote import http
from gemini.remote import model_records as remote_records

MODEL = "stand_counter"
T0 = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.timezone.utc)
PLACE = {"experiment_name": "GEMINI-2026", "season_name": "Summer", "site_name": "Davis", "dataset_name": "flight-01"}

remote_only = pytest.mark.parametrize("registry_url", [pytest.param("remote", marks=pytest.mark.remote)], indirect=True)


def record(index: int, **fields) -> dict:
    return {
        "model_name": MODEL,
        "timestamp": T0 + dt.timedelta(seconds=index),
        "model_data": {"stand_count": index % 97, "confidence": 0.5},
        **PLACE,
        **fields,
    }


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, int]]:
    """Each request the HTTP transport sends: (operation, body size)."""
    requests: list[tuple[str, int]] = []
    send = http.send

    def counting(operation: str, **arguments):
        content = arguments.get("content")
        requests.append((operation, len(content) if isinstance(content, bytes) else 0))
        return send(operation, **arguments)

    monkeypatch.setattr(http, "send", counting)
    return requests


@remote_only
def test_twenty_thousand_records_go_through_a_server_in_chunks_and_again_as_duplicates(registry_url, sent):
    started = time.perf_counter()
    inserted = registry().insert_model_records(records=(record(index) for index in range(20_000)))
    elapsed = time.perf_counter() - started
    print(f"\n20,000 records inserted through a server in {elapsed:.2f} s")
    assert len(inserted) == 20_000 and all(new for _id, new in inserted)
    assert len({found for found, _new in inserted}) == 20_000
    chunks = [size for operation, size in sent if operation == "insert_model_records"]
    assert len(chunks) == 4  # 5,000 records a request
    again = registry().insert_model_records(records=[record(index) for index in (19_999, 0, 20_000)])
    assert again[:2] == [(inserted[19_999][0], False), (inserted[0][0], False)] and again[2][1] is True
    assert registry().search_model_records(limit=0, with_total=True).total == 20_001
    stored = registry().get_model_record(record_id=inserted[1234][0])
    assert stored.timestamp == T0 + dt.timedelta(seconds=1234) and stored.model_data == {"stand_count": 1234 % 97, "confidence": 0.5}
    assert (stored.experiment_name, stored.season_name, stored.site_name, stored.dataset_name) == tuple(PLACE.values())


@remote_only
def test_chunks_fit_the_servers_largest_body(registry_url, sent):
    server = http.checked_server()
    limit = 20_000
    server.max_request_bytes, kept = limit, server.max_request_bytes
    try:
        inserted = registry().insert_model_records(records=[record(index, record_info={"i": index}) for index in range(600)])
    finally:
        server.max_request_bytes = kept
    chunks = [size for operation, size in sent if operation == "insert_model_records"]
    assert len(chunks) > 5 and all(size <= limit for size in chunks)
    assert [new for _id, new in inserted] == [True] * 600
    streamed = registry().stream_model_records()
    assert [item.id for item in streamed] == [found for found, _new in inserted]


@remote_only
def test_a_refused_chunk_leaves_the_chunks_before_it_written(registry_url, monkeypatch):
    monkeypatch.setattr(remote_records, "CHUNK_RECORDS", 10)
    records = [record(index) for index in range(25)]
    records[22]["model_version"] = f"{MODEL}@7"  # no such version: the server refuses its chunk
    with pytest.raises(NotFoundError, match=f"{MODEL}@7"):
        registry().insert_model_records(records=records)
    assert registry().search_model_records(limit=0, with_total=True).total == 20


@remote_only
def test_a_record_with_a_file_goes_through_the_multipart_route_and_round_trips(registry_url, tmp_path, sent):
    source = tmp_path / "flight" / "plot_0113.png"
    source.parent.mkdir()
    content = b"\x89PNG" + bytes(range(256)) * 300
    source.write_bytes(content)
    records = [record(0), record(1, record_file=source), record(2)]
    inserted = registry().insert_model_records(records=records)
    assert [new for _id, new in inserted] == [True, True, True]
    # The record before it is sent first, then the file alone (GEMINI's route, the model got by name), then the rest.
    assert [operation for operation, _size in sent] == ["insert_model_records", "create_model", "insert_model_records"]
    with_file = registry().get_model_record(record_id=inserted[1][0])
    assert with_file.record_file == "model_data/GEMINI-2026/stand_counter/flight-01/2026-06-01/Davis/Summer/plot_0113.png"
    assert (with_file.file_sha256, with_file.file_size) == (hashlib.sha256(content).hexdigest(), len(content))
    assert [item.id for item in registry().stream_model_records()] == [found for found, _new in inserted]

    written = registry().download_model_record_file(record_id=with_file.id, dest=tmp_path)
    assert written == tmp_path / "plot_0113.png" and written.read_bytes() == content
    assert registry().insert_model_records(records=[record(1, record_file=source)]) == [(with_file.id, False)]
    with pytest.raises(NotFoundError, match="has no file"):
        registry().download_model_record_file(record_id=inserted[0][0], dest=tmp_path / "none.bin")


@remote_only
def test_the_stream_is_lazy_and_closing_or_dropping_it_frees_its_connection(registry_url):
    registry().insert_model_records(records=(record(index) for index in range(3_000)))
    stream = registry().stream_model_records(site_names=["Davis"], offset=10, limit=2_500)
    first = next(stream)
    assert first.timestamp == T0 + dt.timedelta(seconds=10)
    rest = list(stream)
    assert len(rest) == 2_499 and rest[-1].timestamp == T0 + dt.timedelta(seconds=2_509)
    # More streams abandoned than the pool has connections: each one gives its connection back.
    for _ in range(40):
        abandoned = registry().stream_model_records()
        next(abandoned)
        del abandoned
    closed = registry().stream_model_records()
    next(closed)
    closed.close()
    assert len(registry().search_model_records(limit=5).items) == 5


@remote_only
def test_a_search_reads_past_the_servers_page_size(registry_url):
    inserted = registry().insert_model_records(records=[record(index, site_name=["Davis", "Fresno"][index % 2]) for index in range(2_500)])
    everything = registry().search_model_records(with_total=True)
    assert everything.total == 2_500 and [item.id for item in everything.items] == [found for found, _ in inserted]
    slice_ = registry().search_model_records(limit=1_200, offset=100, site_names="Fresno")
    assert [item.id for item in slice_.items] == [found for found, _ in inserted[1::2]][100:1_300]
    assert slice_.total is None


# -- the same in every mode -----------------------------------------------------------------------------


def test_reads_updates_and_refusals_are_the_same_in_every_mode(registry_url):
    (found, new), = registry().insert_model_records(records=[record(0, record_info={"plot": 1})])
    assert new
    registry().insert_model_records(records=[record(0, record_info={"plot": 2})])
    read = registry().get_model_record(record_id=found)
    assert read.id == found and read.timestamp == T0 and read.collection_date == T0.date()
    assert read.model_id is not None and read.created_at is not None and read.record_file is None
    updated = registry().update_model_record(record_id=found, model_data={"stand_count": 3})
    assert updated.model_data == {"stand_count": 3} and updated.record_info == {"plot": 1}
    with pytest.raises(ConflictError, match="already has this model"):
        registry().update_model_record(record_id=found, record_info={"plot": 2})
    missing = uuid.UUID(int=7)
    with pytest.raises(NotFoundError) as locally_worded:
        registry().get_model_record(record_id=missing)
    assert str(missing) in str(locally_worded.value)
    with pytest.raises(NotFoundError, match=f"{MODEL}@production"):
        registry().stream_model_records(model_version=f"{MODEL}@production")  # at the call, not at the first record
    with pytest.raises(InvalidInputError, match=r"records\[1\]: timestamp"):
        registry().insert_model_records(records=[record(5), {"model_name": MODEL, "timestamp": "noon"}])
    assert [item.model_data for item in registry().stream_model_records(record_info={"plot": 1})] == [{"stand_count": 3}]
    by_date = registry().search_model_records(collection_date="2026-06-01", start_timestamp=T0, end_timestamp=T0, with_total=True)
    assert by_date.total == 2
    registry().delete_model_record(record_id=found)
    with pytest.raises(NotFoundError):
        registry().delete_model_record(record_id=found)
    assert [item.record_info for item in registry().stream_model_records()] == [{"plot": 2}]
