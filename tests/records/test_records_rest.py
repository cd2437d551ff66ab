"""The REST routes of model records on SQLite and PostgreSQL: GEMINI's paths exactly as its server and web
client use them (multipart create, NDJSON lists and filters, pages, the JSON-array variant, by-id reads,
writes and the file download), our JSON routes, and the error answers."""

import datetime as dt
import hashlib
import json
import uuid

import pytest
from fastapi.testclient import TestClient

from gemini.registry import registry
from gemini.rest_api.routers import model_records as records_router
from tests.rest_api.conftest import TOKEN, app, assert_error, client, token  # noqa: F401 - fixtures

MODEL = "stand_counter"
T0 = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.timezone.utc)
PLACE = {"experiment_name": "GEMINI-2026", "season_name": "Summer", "site_name": "Davis", "dataset_name": "flight-01"}
FILE_BYTES = bytes(range(256)) * 40
DIGEST = hashlib.sha256(FILE_BYTES).hexdigest()


def moment(minutes: int) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat()


def at(hours: int) -> str:
    """A moment ``hours`` after midnight (UTC) of the season's first day."""
    return (dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=hours)).isoformat()


def insert(client: TestClient, *records: dict) -> dict:
    response = client.post("/api/model_records", json={"records": list(records)})
    assert response.status_code == 201, response.text
    return response.json()


def model_id(client: TestClient, name: str = MODEL) -> str:
    response = client.post("/api/models", json={"model_name": name})
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def lines(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.text == "" or response.text.endswith("\n")
    return [json.loads(line) for line in response.text.splitlines()]


# -- GEMINI's paths -------------------------------------------------------------------------------------


def test_the_multipart_create_stores_the_record_and_its_file_under_the_uploaded_name(client):
    model = model_id(client)
    form = {
        "timestamp": "2026-06-01T10:00:00",
        "collection_date": "2026-05-31",
        "model_data": json.dumps({"stand_count": 42}),
        "record_info": json.dumps({"plot": "P-0113"}),
        **PLACE,
    }
    # A browser may send the whole local path of the file: only its base name is kept.
    upload = {"record_file": ("C:\\flights\\plot_0113.png", FILE_BYTES, "image/png")}
    created = client.post(f"/api/models/id/{model}/records", data=form, files=upload)
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["model_id"] == model and record["model_name"] == MODEL
    assert record["timestamp"] == "2026-06-01T10:00:00Z" and record["collection_date"] == "2026-05-31"
    assert record["model_data"] == {"stand_count": 42} and record["record_info"] == {"plot": "P-0113"}
    assert {name: record[name] for name in PLACE} == PLACE
    assert record["record_file"] == "model_data/GEMINI-2026/stand_counter/flight-01/2026-05-31/Davis/Summer/plot_0113.png"
    assert (record["file_sha256"], record["file_size"]) == (DIGEST, len(FILE_BYTES))
    assert registry().get_model_record(record_id=record["id"]).record_file == record["record_file"]

    again = client.post(f"/api/models/id/{model}/records", data=form, files=upload)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == record["id"]

    download = client.get(f"/api/models/records/id/{record['id']}/download")
    assert download.status_code == 200 and download.content == FILE_BYTES
    assert download.headers["etag"] == f'"{DIGEST}"'
    assert download.headers["content-disposition"].startswith('attachment; filename="plot_0113.png"')
    part = client.get(f"/api/models/records/id/{record['id']}/download", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == FILE_BYTES[10:20]


def test_the_multipart_create_without_a_file_and_its_refusals(client):
    model = model_id(client)
    path = f"/api/models/id/{model}/records"
    plain = client.post(path, data={"timestamp": moment(0), "model_data": '{"n": 1}'})
    assert plain.status_code == 201, plain.text
    assert plain.json()["record_file"] is None and plain.json()["file_sha256"] is None
    assert_error(client.post(path, data={"timestamp": "yesterday"}), 422, "invalid_input", "timestamp", "ISO 8601")
    assert_error(client.post(path, data={"model_data": "{not json"}), 422, "invalid_input", "model_data")
    assert_error(client.post(path, data={"model_data": "[1, 2]"}), 422, "invalid_input", "model_data")
    bad_name = {"record_file": ("..", b"x", "application/octet-stream")}
    assert_error(client.post(path, data={"timestamp": moment(1)}, files=bad_name), 422, "invalid_input", "not a file name")
    # httpx escapes a control character in a file name; a hostile client sends it as it is.
    raw = (
        b'--B\r\nContent-Disposition: form-data; name="record_file"; filename="a\x01b.png"\r\n'
        b"Content-Type: image/png\r\n\r\nx\r\n--B--\r\n"
    )
    control = client.post(path, content=raw, headers={"Content-Type": "multipart/form-data; boundary=B"})
    assert_error(control, 422, "invalid_input", "control characters")
    unknown = client.post(f"/api/models/id/{uuid.uuid4()}/records", data={"timestamp": moment(0)})
    assert_error(unknown, 404, "not_found")


@pytest.fixture
def season(client) -> dict:
    """Records of two models over two experiments, seasons, sites and dates."""
    first, other = model_id(client), model_id(client, "leaf_counter")
    rows = []
    for index in range(16):
        rows.append(
            {
                "model_name": MODEL,
                "timestamp": at(index * 6),  # four a day
                "model_data": {"n": index},
                "experiment_name": ["GEMINI-2026", "Trial"][index % 2],
                "season_name": ["Summer", "Winter"][index // 8],
                "site_name": ["Davis", "Fresno"][(index // 2) % 2],
                "dataset_name": "flight-01",
            }
        )
    rows.append({"model_name": "leaf_counter", "timestamp": at(1), **PLACE})
    insert(client, *rows)
    return {"model_id": first, "other_id": other, "rows": rows}


def test_the_list_filters_by_experiment_season_site_and_collection_date_as_ndjson(client, season):
    path = f"/api/models/id/{season['model_id']}/records"
    everything = lines(client.get(path))
    assert [record["model_data"]["n"] for record in everything] == list(range(16))
    assert all(record["model_name"] == MODEL for record in everything)

    params = {"experiment_name": "GEMINI-2026", "season_name": "Summer", "site_name": "Davis"}
    found = lines(client.get(path, params=params))
    assert [record["model_data"]["n"] for record in found] == [0, 4]
    assert all({record[name] for name in ("experiment_name", "season_name", "site_name")} == set(params.values()) for record in found)
    on_day = lines(client.get(path, params={"collection_date": "2026-06-02"}))
    assert [record["model_data"]["n"] for record in on_day] == [4, 5, 6, 7]
    assert lines(client.get(path, params={"dataset_name": "flight-02"})) == []
    assert lines(client.get(path, params={"site_name": "Nowhere"})) == []
    # GEMINI's lines leave out the fields that are null.
    assert all(None not in record.values() for record in everything)
    assert "record_file" not in everything[0] and "model_run_id" not in everything[0]


def test_the_filter_takes_repeated_list_parameters_and_inclusive_bounds(client, season):
    path = f"/api/models/id/{season['model_id']}/records/filter"
    both_sites = lines(client.get(path, params={"site_names": ["Davis", "Fresno"], "season_names": ["Winter"]}))
    assert [record["model_data"]["n"] for record in both_sites] == list(range(8, 16))
    one_site = lines(client.get(f"{path}?site_names=Fresno&experiment_names=Trial&experiment_names=GEMINI-2026"))
    assert [record["model_data"]["n"] for record in one_site] == [2, 3, 6, 7, 10, 11, 14, 15]
    window = lines(client.get(path, params={"start_timestamp": at(6), "end_timestamp": at(18)}))
    assert [record["model_data"]["n"] for record in window] == [1, 2, 3]
    naive = lines(client.get(path, params={"start_timestamp": "2026-06-01T06:00:00", "end_timestamp": "2026-06-01T06:00:00"}))
    assert [record["model_data"]["n"] for record in naive] == [1]
    assert_error(client.get(path, params={"start_timestamp": "soon"}), 422, "invalid_input", "start_timestamp")
    reversed_bounds = client.get(path, params={"start_timestamp": moment(60), "end_timestamp": moment(0)})
    assert_error(reversed_bounds, 422, "invalid_input", "before start_timestamp")


def test_limit_and_offset_page_in_order_with_no_record_twice_and_none_skipped(client):
    model = model_id(client)
    # Many records share a moment: the order goes on by id, so pages never overlap.
    insert(client, *({"model_name": MODEL, "timestamp": moment(index // 7), "record_info": {"i": index}} for index in range(230)))
    path = f"/api/models/id/{model}/records"
    whole = [record["id"] for record in lines(client.get(path))]
    assert len(whole) == len(set(whole)) == 230
    for route in (path, f"{path}/filter"):
        paged: list[str] = []
        for offset in range(0, 260, 40):
            page = lines(client.get(route, params={"limit": 40, "offset": offset}))
            assert len(page) == min(40, max(0, 230 - offset))
            paged += [record["id"] for record in page]
        assert paged == whole
    ours: list[str] = []
    url: str | None = "/api/model_records?limit=70&model_names=" + MODEL
    while url is not None:  # the Link header's next page, as every list
        answer = client.get(url)
        ours += [record["id"] for record in answer.json()]
        url = answer.links.get("next", {}).get("url")
    assert ours == whole


def test_accept_application_json_gives_one_json_array(client, season):
    path = f"/api/models/id/{season['model_id']}/records"
    answer = client.get(path, params={"site_name": "Davis"}, headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert [record["model_data"]["n"] for record in answer.json()] == [0, 1, 4, 5, 8, 9, 12, 13]
    assert answer.json() == lines(client.get(path, params={"site_name": "Davis"}))
    empty = client.get(f"{path}/filter", params={"site_names": "Nowhere"}, headers={"Accept": "application/json"})
    assert empty.json() == []
    # A client that takes both is given the lines, as GEMINI's server answers.
    both = client.get(path, headers={"Accept": "application/x-ndjson, application/json"})
    assert len(lines(both)) == 16


def test_a_record_is_read_replaced_and_deleted_by_id(client, season):
    found = lines(client.get(f"/api/models/id/{season['model_id']}/records", params={"limit": 1}))[0]
    path = f"/api/models/records/id/{found['id']}"
    read = client.get(path)
    assert read.status_code == 200 and read.json()["model_data"] == {"n": 0}
    assert read.json()["record_file"] is None and read.json()["model_version"] is None  # every field, nulls too
    patched = client.patch(path, json={"model_data": {"stand_count": 7}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["model_data"] == {"stand_count": 7}  # replaced, not merged
    assert client.get(path).json()["model_data"] == {"stand_count": 7}
    info = client.patch(path, json={"record_info": {"reviewed": True}})
    assert info.json()["record_info"] == {"reviewed": True} and info.json()["model_data"] == {"stand_count": 7}
    assert_error(client.patch(path, json={}), 422, "invalid_input", "model_data")
    assert_error(client.patch(path, json={"model_data": [1]}), 422, "invalid_input")
    deleted = client.delete(path)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(client.get(path), 404, "not_found")
    assert_error(client.delete(path), 404, "not_found")


def test_unknown_ids_answer_404_and_malformed_ones_422(client, season):
    missing = f"/api/models/records/id/{uuid.uuid4()}"
    assert_error(client.get(missing), 404, "not_found")
    assert_error(client.patch(missing, json={"model_data": {}}), 404, "not_found")
    assert_error(client.delete(missing), 404, "not_found")
    assert_error(client.get(f"{missing}/download"), 404, "not_found")
    assert_error(client.get(f"/api/models/id/{uuid.uuid4()}/records"), 404, "not_found")
    assert_error(client.get(f"/api/models/id/{uuid.uuid4()}/records/filter"), 404, "not_found")
    assert_error(client.get("/api/models/records/id/not-an-id"), 422, "invalid_input", "record_id")
    without_file = lines(client.get(f"/api/models/id/{season['model_id']}/records", params={"limit": 1}))[0]
    assert_error(client.get(f"/api/models/records/id/{without_file['id']}/download"), 404, "not_found", "has no file")


# -- ours -----------------------------------------------------------------------------------------------


def test_the_bulk_insert_answers_ids_in_order_and_skips_duplicates(client):
    first = insert(client, {"model_name": MODEL, "timestamp": moment(0), **PLACE}, {"model_name": MODEL, "timestamp": moment(1)})
    assert first["new"] == [True, True]
    again = insert(
        client,
        {"model_name": MODEL, "timestamp": moment(1)},
        {"model_name": MODEL, "timestamp": moment(2)},
        {"model_name": MODEL, "timestamp": moment(0), **PLACE, "model_data": {"other": "output"}},
    )
    assert again["new"] == [False, True, False]
    assert again["ids"][0] == first["ids"][1] and again["ids"][2] == first["ids"][0]
    assert insert(client) == {"ids": [], "new": []}
    stored = registry().get_model_record(record_id=first["ids"][0])
    assert stored.site_name == "Davis" and stored.model_data == {}  # the duplicate changed nothing


def test_the_bulk_insert_refuses_a_bad_record_naming_it_and_writes_nothing(client):
    good = {"model_name": MODEL, "timestamp": moment(0)}
    refused = client.post("/api/model_records", json={"records": [good, {"model_name": MODEL, "timestamp": "2026-13-01"}]})
    assert_error(refused, 422, "invalid_input", "records[1]", "timestamp")
    path = client.post("/api/model_records", json={"records": [{**good, "record_file": "/etc/passwd"}]})
    assert_error(path, 422, "invalid_input", "record_file")
    date = client.post("/api/model_records", json={"records": [{**good, "collection_date": "June"}]})
    assert_error(date, 422, "invalid_input", "records[0]", "collection_date")
    version = client.post("/api/model_records", json={"records": [{**good, "model_version": f"{MODEL}@9"}]})
    assert_error(version, 404, "not_found", f"{MODEL}@9")
    assert_error(client.post("/api/model_records", json={"records": [{"timestamp": moment(0)}]}), 422, "invalid_input", "model_name")
    assert registry().search_model_records(limit=0, with_total=True).total == 0


def test_the_json_page_and_the_stream_filter_alike(client, season):
    page = client.get(
        "/api/model_records",
        params={"model_names": [MODEL, "leaf_counter"], "site_names": "Davis", "limit": 3},
    )
    assert page.status_code == 200, page.text
    body = page.json()
    assert page.headers["X-Total-Count"] == "9" and "offset=3" in page.links["next"]["url"]
    assert [item["model_name"] for item in body] == [MODEL, "leaf_counter", MODEL]
    streamed = lines(client.get("/api/model_records/stream", params={"site_names": "Davis", "model_names": [MODEL, "leaf_counter"]}))
    assert [record["id"] for record in streamed[:3]] == [item["id"] for item in body]
    assert len(streamed) == 9 and "model_run_id" in streamed[0]  # every field, nulls too
    contains = lines(client.get("/api/model_records/stream", params={"model_data": json.dumps({"n": 3})}))
    assert [record["model_data"] for record in contains] == [{"n": 3}]
    window = client.get(
        "/api/model_records",
        params={"start_timestamp": at(0), "end_timestamp": at(30), "collection_date": "2026-06-01"},
    )
    assert window.headers["X-Total-Count"] == "5" and "next" not in window.links and len(window.json()) == 5
    limited = lines(client.get("/api/model_records/stream", params={"limit": 2, "offset": 15}))
    assert [record["model_data"].get("n") for record in limited] == [14, 15]
    assert_error(client.get("/api/model_records", params={"model_data": "{"}), 422, "invalid_input", "model_data")
    assert_error(client.get("/api/model_records/stream", params={"end_timestamp": "noon"}), 422, "invalid_input", "end_timestamp")
    assert_error(client.get("/api/model_records", params={"model_version": f"{MODEL}@production"}), 404, "not_found")
    assert_error(client.get("/api/model_records", params={"limit": 1001}), 422, "invalid_input", "limit")


def test_the_stream_is_sent_in_chunks_across_the_registrys_blocks(client):
    insert(client, *({"model_name": MODEL, "timestamp": moment(0), "record_info": {"i": index}} for index in range(6_000)))
    with client.stream("GET", "/api/model_records/stream") as response:
        assert response.status_code == 200
        chunks = list(response.iter_raw())
    assert len(chunks) > 10  # streamed as it is read, not as one body
    ids = [json.loads(line)["id"] for line in b"".join(chunks).splitlines()]
    assert len(ids) == len(set(ids)) == 6_000
    assert ids == sorted(ids)  # one moment: by id
    array = client.get(f"/api/models/id/{model_id(client)}/records", headers={"Accept": "application/json"})
    assert [record["id"] for record in array.json()] == ids


def test_an_abandoned_stream_stops_reading_the_registry():
    closed = []

    def source():
        try:
            for index in range(1_000_000):
                yield registry_record(index)
        finally:
            closed.append(True)

    records = source()
    body = records_router._encoded(records, records, array=False, exclude_none=False)
    assert next(body).count(b"\n") > 1
    body.close()
    assert closed == [True]


def registry_record(index: int):
    from gemini.domain.records import ModelOutputRecord

    return ModelOutputRecord(
        id=uuid.UUID(int=index), timestamp=T0, collection_date=T0.date(), model_id=uuid.UUID(int=0), model_name=MODEL,
        model_data={"n": index}, dataset_id=None, dataset_name=None, experiment_id=None, experiment_name=None,
        season_id=None, season_name=None, site_id=None, site_name=None, record_file=None, record_info={},
    )  # fmt: skip


def test_writes_need_a_write_token_and_reads_are_open(client, token):
    model = model_id_with(client, TOKEN)
    body = {"records": [{"model_name": MODEL, "timestamp": moment(0)}]}
    assert_error(client.post("/api/model_records", json=body), 401, "unauthorized")
    admin = {"Authorization": f"Bearer {TOKEN}"}
    reader = client.post("/api/tokens", json={"name": "reader", "scope": "read"}, headers=admin).json()["token"]
    as_reader = {"Authorization": f"Bearer {reader}"}
    assert_error(client.post("/api/model_records", json=body, headers=as_reader), 403, "forbidden")
    assert_error(client.post(f"/api/models/id/{model}/records", data={}, headers=as_reader), 403, "forbidden")
    created = client.post("/api/model_records", json=body, headers=admin)
    assert created.status_code == 201, created.text
    record = f"/api/models/records/id/{created.json()['ids'][0]}"
    assert_error(client.patch(record, json={"model_data": {}}, headers=as_reader), 403, "forbidden")
    assert_error(client.delete(record), 401, "unauthorized")
    assert client.get(record).status_code == 200
    assert len(lines(client.get("/api/model_records/stream"))) == 1


def model_id_with(client: TestClient, token: str) -> str:
    response = client.post("/api/models", json={"model_name": MODEL}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    return response.json()["id"]
