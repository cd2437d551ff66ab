"""``/api/model_runs/{id}/artifacts``: upload, list and download over HTTP, on both databases."""

import asyncio
import hashlib

import pytest

from gemini.config import get_settings
from tests.rest_api.conftest import assert_error, create_run


@pytest.fixture
def run_url(client) -> str:
    return f"/api/model_runs/{create_run(client, {'params': {'lr': 0.01}})['id']}/artifacts"


def blobs() -> set[str]:
    return {path.name for path in (get_settings().resolved_artifact_root / "blobs").glob("??/*")}


def temporary_files() -> list:
    folder = get_settings().resolved_artifact_root / "tmp"
    return list(folder.iterdir()) if folder.is_dir() else []


def upload(client, run_url: str, name: str, data: bytes, **headers):  # noqa: ANN001, ANN201
    return client.put(f"{run_url}/{name}", content=data, headers=headers)


def test_upload_answers_201_with_the_record(client, run_url):
    response = upload(client, run_url, "weights/best.pt", b"weights")
    assert response.status_code == 201, response.text
    body = response.json()
    assert {key: body[key] for key in ("name", "size", "sha256")} == {
        "name": "weights/best.pt",
        "size": 7,
        "sha256": hashlib.sha256(b"weights").hexdigest(),
    }


def test_uploading_a_name_again_replaces_it_with_200(client, run_url):
    upload(client, run_url, "best.pt", b"epoch 1")
    response = upload(client, run_url, "best.pt", b"epoch 2")
    assert response.status_code == 200
    assert client.get(f"{run_url}/best.pt").content == b"epoch 2"


def test_upload_to_an_unknown_run_is_404_with_nothing_stored(client):
    response = client.put("/api/model_runs/00000000-0000-0000-0000-000000000001/artifacts/a.bin", content=b"x")
    assert_error(response, 404, "not_found", "no model run")
    assert blobs() == set()


@pytest.mark.parametrize(
    ("path", "word"),
    [("%2E%2E/escape", "'..' part"), ("a%5Cb", "backslash"), ("a%00b", "NUL"), ("a//b", "empty part"), ("C:/x", "drive")],
)
def test_bad_names_are_422_with_nothing_stored(client, run_url, path, word):
    assert_error(client.put(f"{run_url}/{path}", content=b"payload"), 422, "invalid_input", word)
    assert client.get(run_url).json() == []
    assert blobs() == set() and temporary_files() == []


def test_a_declared_length_over_the_limit_is_413_before_reading(client, run_url, monkeypatch):
    monkeypatch.setenv("GEMINI_MAX_ARTIFACT_BYTES", "100")
    response = upload(client, run_url, "big.bin", b"x" * 101)
    assert_error(response, 413, "artifact_too_large", "100 bytes")
    assert blobs() == set() and temporary_files() == []


def test_a_streamed_body_over_the_limit_is_413_with_nothing_stored(client, run_url, monkeypatch):
    monkeypatch.setenv("GEMINI_MAX_ARTIFACT_BYTES", str(3 * 1024 * 1024))

    def body():
        for _ in range(8):
            yield b"x" * (1024 * 1024)

    response = client.put(f"{run_url}/big.bin", content=body())  # chunked: no Content-Length
    assert_error(response, 413, "artifact_too_large", "GEMINI_MAX_ARTIFACT_BYTES")
    assert client.get(run_url).json() == []
    assert blobs() == set() and temporary_files() == []


def test_an_artifact_larger_than_the_info_body_limit_is_accepted(client, run_url, monkeypatch):
    monkeypatch.setenv("GEMINI_MAX_INFO_BYTES", "1000")
    assert upload(client, run_url, "big.bin", b"x" * 100_000).status_code == 201


def test_a_body_that_does_not_match_the_given_sha256_is_422(client, run_url):
    response = upload(client, run_url, "a.bin", b"actual", **{"X-Artifact-SHA256": hashlib.sha256(b"other").hexdigest()})
    assert_error(response, 422, "invalid_input", "expected SHA-256")
    assert blobs() == set()


def test_a_body_matching_the_given_sha256_is_stored(client, run_url):
    digest = hashlib.sha256(b"actual").hexdigest()
    assert upload(client, run_url, "a.bin", b"actual", **{"X-Artifact-SHA256": digest}).status_code == 201


def test_an_upload_cut_off_by_the_client_leaves_nothing(client, run_url, app):
    """The client sends half of what it announced and disconnects."""
    received = [
        {"type": "http.request", "body": b"x" * 4096, "more_body": True},
        {"type": "http.request", "body": b"y" * 4096, "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive():  # noqa: ANN202
        return received.pop(0) if received else {"type": "http.disconnect"}

    async def send(_message) -> None:  # noqa: ANN001
        pass

    path = f"{run_url}/half.bin"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-length", b"1000000")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    try:
        asyncio.run(app(scope, receive, send))
    except Exception:  # noqa: BLE001 - what the server does with a vanished client is not the point
        pass
    assert client.get(run_url).json() == []
    assert blobs() == set() and temporary_files() == []


def test_list_is_an_array_with_the_total_and_the_next_page(client, run_url):
    for name in ("c.txt", "a.txt", "b.txt"):
        upload(client, run_url, name, name.encode())
    response = client.get(run_url, params={"limit": 2})
    assert [item["name"] for item in response.json()] == ["a.txt", "b.txt"]
    assert response.headers["X-Total-Count"] == "3"
    assert response.headers["Link"] == f'<http://testserver{run_url}?limit=2&offset=2>; rel="next"'


def test_the_last_page_has_no_next_link(client, run_url):
    upload(client, run_url, "a.txt", b"a")
    response = client.get(run_url)
    assert response.headers["X-Total-Count"] == "1"
    assert "Link" not in response.headers


def test_list_of_an_unknown_run_is_404(client):
    assert_error(client.get("/api/model_runs/00000000-0000-0000-0000-000000000001/artifacts"), 404, "not_found")


def test_download_sends_the_bytes_with_length_and_etag(client, run_url):
    data = b"\x89PNG data"
    upload(client, run_url, "plots/pr.png", data)
    response = client.get(f"{run_url}/plots/pr.png")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["Content-Length"] == "9"
    assert response.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Accept-Ranges"] == "bytes"


def test_scriptable_types_are_sent_as_octet_stream(client, run_url):
    upload(client, run_url, "report.html", b"<script>alert(1)</script>")
    response = client.get(f"{run_url}/report.html")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_download_of_an_unknown_name_is_404(client, run_url):
    assert_error(client.get(f"{run_url}/nope.bin"), 404, "not_found", "no artifact named 'nope.bin'")


def test_if_none_match_with_the_etag_is_304(client, run_url):
    etag = f'"{upload(client, run_url, "a.bin", b"abc").json()["sha256"]}"'
    response = client.get(f"{run_url}/a.bin", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.content == b""


DATA = bytes(range(256)) * 4  # 1024 bytes


@pytest.mark.parametrize(
    ("header", "expected", "content_range"),
    [
        ("bytes=0-9", DATA[0:10], "bytes 0-9/1024"),
        ("bytes=1000-", DATA[1000:], "bytes 1000-1023/1024"),
        ("bytes=-24", DATA[-24:], "bytes 1000-1023/1024"),
        ("bytes=1000-5000", DATA[1000:], "bytes 1000-1023/1024"),
        ("bytes=-5000", DATA, "bytes 0-1023/1024"),
    ],
)
def test_a_range_is_206_with_those_bytes(client, run_url, header, expected, content_range):
    upload(client, run_url, "d.bin", DATA)
    response = client.get(f"{run_url}/d.bin", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == expected
    assert response.headers["Content-Range"] == content_range
    assert response.headers["Content-Length"] == str(len(expected))


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000", "bytes=10-5", "bytes=abc", "bytes=-0", "bytes=-"])
def test_a_bad_range_is_416(client, run_url, header):
    upload(client, run_url, "d.bin", DATA)
    response = client.get(f"{run_url}/d.bin", headers={"Range": header})
    assert_error(response, 416, "range_not_satisfiable", "1024 bytes")
    assert response.headers["Content-Range"] == "bytes */1024"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-1"])
def test_ranges_it_does_not_serve_get_the_whole_artifact(client, run_url, header):
    upload(client, run_url, "d.bin", DATA)
    response = client.get(f"{run_url}/d.bin", headers={"Range": header})
    assert response.status_code == 200 and response.content == DATA


def test_a_truncated_blob_is_500_artifact_corrupted(client, run_url):
    digest = upload(client, run_url, "a.bin", b"x" * 5000).json()["sha256"]
    with open(get_settings().resolved_artifact_root / "blobs" / digest[:2] / digest, "r+b") as stream:
        stream.truncate(10)
    assert_error(client.get(f"{run_url}/a.bin"), 500, "artifact_corrupted", "10 bytes where 5000")


def test_a_corrupted_blob_never_sends_its_last_bytes(client, run_url):
    data = b"x" * (3 * 1024 * 1024)
    digest = upload(client, run_url, "a.bin", data).json()["sha256"]
    with open(get_settings().resolved_artifact_root / "blobs" / digest[:2] / digest, "r+b") as stream:
        stream.seek(100)
        stream.write(b"y")
    received = b""
    with client.stream("GET", f"{run_url}/a.bin") as response:
        assert response.headers["Content-Length"] == str(len(data))
        for chunk in response.iter_bytes():
            received += chunk
    assert len(received) < len(data)  # short of its Content-Length: a client sees the transfer failed


def test_a_file_of_many_chunks_goes_up_and_down(client, run_url):
    block = hashlib.sha256(b"seed").digest() * 32768
    data = block * 24 + b"tail"  # 24 MiB and a bit

    def body():
        for start in range(0, len(data), 1 << 20):
            yield data[start : start + (1 << 20)]

    record = client.put(f"{run_url}/big.bin", content=body()).json()
    assert (record["size"], record["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    digest = hashlib.sha256()
    with client.stream("GET", f"{run_url}/big.bin") as response:
        for chunk in response.iter_bytes():
            digest.update(chunk)
    assert digest.hexdigest() == record["sha256"]


def test_upload_needs_the_token_when_one_is_configured(client, run_url, token):
    assert_error(client.put(f"{run_url}/a.bin", content=b"x"), 401, "unauthorized")
    assert blobs() == set()
    response = client.put(f"{run_url}/a.bin", content=b"x", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
