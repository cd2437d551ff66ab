"""What only a bucket store does: presigned uploads and downloads, the grace period of its sweep, the
store failing part way, and moving a registry's blobs between a directory and a bucket."""

import base64
import hashlib
import os
import re
import subprocess
import sys
import textwrap
import threading

import httpx
import pytest

from gemini.config import get_settings
from gemini.core import artifacts
from gemini.domain.errors import ArtifactCorruptedError, InvalidInputError, NotFoundError, StorageUnavailableError
from gemini.domain.records import ArtifactBlob, BlobParts
from gemini.registry import registry
from gemini.remote import artifacts as remote_artifacts
from tests.artifacts.conftest import DirectoryStore, write_file
from tests.conftest import as_client_without_aws, empty_registry, running_gemini_server
from tests.s3_support import BUCKET, BucketStore, ExpiringProxy, new_root, running_s3_server

bucket_only = pytest.mark.parametrize("storage", ["s3"], indirect=True)
directory_only = pytest.mark.parametrize("storage", ["directory"], indirect=True)


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def declared(name: str, data: bytes) -> dict:
    return {"name": name, "sha256": digest_of(data), "size": len(data)}


def offer(run_id, name: str, data: bytes):  # noqa: ANN001, ANN201
    """The upload offer for ``data`` as the run's artifact ``name``."""
    return registry().offer_artifact_uploads(run_id=run_id, artifacts=[declared(name, data)])[0]


def record(run_id, name: str, data: bytes):  # noqa: ANN001, ANN201
    return registry().record_stored_artifacts(run_id=run_id, artifacts=[declared(name, data)])[0]


def a_client_of(served, monkeypatch) -> None:  # noqa: ANN001
    """This process as a training node of the session's bucket server (``remote_registry_s3``)."""
    as_client_without_aws(served.url, served.database_url, monkeypatch, served.artifact_root)


# -- presigned requests ----------------------------------------------------------------------------------


@bucket_only
def test_an_upload_offer_is_a_signed_put_to_the_bucket_that_names_the_checksum(run_id, s3_server):
    data = b"weights" * 100
    offered = offer(run_id, "best.pt", data)
    assert not offered.stored
    assert offered.upload.method == "PUT" and offered.upload.url.startswith(s3_server.endpoint)
    assert "X-Amz-Signature=" in offered.upload.url
    assert offered.upload.headers["Content-Length"] == str(len(data))
    assert offered.upload.headers["x-amz-checksum-sha256"]  # the store checks the bytes against it
    response = httpx.put(offered.upload.url, headers=offered.upload.headers, content=data)
    assert response.status_code == 200, response.text
    stored = record(run_id, "best.pt", data)
    assert (stored.name, stored.size, stored.sha256) == ("best.pt", len(data), digest_of(data))
    again = offer(run_id, "copy.pt", data)
    assert again.stored and again.upload is None  # the same bytes are not sent twice


@directory_only
def test_a_directory_store_offers_no_presigned_request(run_id):
    offered = offer(run_id, "a.bin", b"abc")
    assert (offered.stored, offered.upload) == (False, None)
    artifacts.log_artifact(run_id=run_id, name="a.bin", chunks=[b"abc"])
    assert registry().artifact_link(run_id=run_id, name="a.bin").download is None


def test_recording_bytes_the_store_does_not_hold_is_not_found_and_records_nothing(run_id):
    with pytest.raises(NotFoundError, match="holds no blob"):
        record(run_id, "ghost.bin", b"never stored")
    assert registry().search_artifacts(run_id=run_id, with_total=True).total == 0


@bucket_only
def test_a_download_link_reads_the_bytes_from_the_bucket(run_id):
    record = artifacts.log_artifact(run_id=run_id, name="plots/pr.png", chunks=[b"png bytes"])
    link = registry().artifact_link(run_id=run_id, name="plots/pr.png")
    assert link.record == record
    assert httpx.get(link.download.url).content == b"png bytes"


def test_a_client_without_any_aws_variable_logs_and_reads_artifacts_through_a_bucket_server(
    remote_registry_s3, tmp_path
):
    """A training node holds no credentials of the store: the server signs, the bytes go to the bucket."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "GEMINI_"))}
    environment.update(GEMINI_API_URL=remote_registry_s3.url, GEMINI_SPOOL_PATH=str(tmp_path / "spool.sqlite"))
    weights = tmp_path / "best.pt"
    digest = write_file(weights, 3 * 1024 * 1024 + 17)
    script = textwrap.dedent(
        f"""
        import hashlib, os
        from gemini.api.model_run import ModelRun
        assert not [key for key in os.environ if key.startswith("AWS_")]
        run = ModelRun.create({{"client": "no aws"}}, model_name="bucket-client")
        stored = run.log_artifact({str(weights)!r}, name="weights/best.pt")
        assert stored is not None and stored["sha256"] == {digest!r}, stored
        path = run.download_artifact("weights/best.pt", {str(tmp_path / "copy.pt")!r})
        assert hashlib.sha256(open(path, "rb").read()).hexdigest() == {digest!r}
        print("ok")
        """
    )
    finished = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "ok"


# -- the sweep's grace period ------------------------------------------------------------------------------


@bucket_only
def test_gc_keeps_an_unrecorded_upload_younger_than_the_grace_period_then_removes_it(run_id, store, monkeypatch):
    """A client put bytes into the bucket and its record has not arrived (or never will: it crashed)."""
    data = b"uploaded, not yet recorded"
    offered = offer(run_id, "late.bin", data)
    assert httpx.put(offered.upload.url, headers=offered.upload.headers, content=data).status_code == 200
    monkeypatch.setenv("GEMINI_ARTIFACT_GC_GRACE_SECONDS", "3600")
    assert artifacts.collect_garbage().blobs_removed == 0
    assert store.blobs() == {digest_of(data)}
    monkeypatch.setenv("GEMINI_ARTIFACT_GC_GRACE_SECONDS", "0")
    result = artifacts.collect_garbage()
    assert (result.blobs_removed, result.bytes_freed) == (1, len(data))
    assert store.blobs() == set()


@bucket_only
def test_gc_aborts_the_parts_of_an_upload_whose_process_died(run_id, store, monkeypatch):
    upload = artifacts.begin_artifact(run_id=run_id, name="big.bin")
    upload.write(os.urandom(9 * 1024 * 1024))  # one part sent; then the process "dies"
    assert len(store.temporary_files()) == 1
    monkeypatch.setenv("GEMINI_ARTIFACT_GC_GRACE_SECONDS", "3600")
    assert artifacts.collect_garbage().temporary_files_removed == 0
    monkeypatch.setenv("GEMINI_ARTIFACT_GC_GRACE_SECONDS", "0")
    assert artifacts.collect_garbage().temporary_files_removed == 1
    assert store.temporary_files() == []


@bucket_only
def test_a_large_artifact_goes_in_parts_and_leaves_no_temporary_object(run_id, store, tmp_path):
    data = os.urandom(20 * 1024 * 1024 + 5)
    record = artifacts.log_artifact(run_id=run_id, name="big.bin", chunks=[data[i : i + (1 << 20)] for i in range(0, len(data), 1 << 20)])
    assert record.sha256 == digest_of(data)
    assert store.blobs() == {record.sha256} and store.temporary_files() == []
    path = registry().download_artifact(run_id=run_id, name="big.bin", dest=tmp_path / "big.bin")
    assert digest_of(path.read_bytes()) == record.sha256


# -- the store failing ---------------------------------------------------------------------------------------


@pytest.fixture
def own_s3_server(tmp_path, monkeypatch):
    """An S3 server of the test's own, to stop part way; the registry's store is a bucket on it."""
    with running_s3_server(tmp_path) as server:
        for key, value in server.environment.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("GEMINI_ARTIFACT_ROOT", new_root())
        yield server


@directory_only
def test_the_store_stopped_mid_upload_is_an_error_naming_it_and_nothing_is_recorded(run_id, own_s3_server):
    def chunks():
        yield os.urandom(9 * 1024 * 1024)  # a first part reaches the store
        own_s3_server.stop()
        yield os.urandom(9 * 1024 * 1024)

    with pytest.raises(StorageUnavailableError, match=r"artifact store s3://gemini-test/\w+ unreachable"):
        artifacts.log_artifact(run_id=run_id, name="weights.pt", chunks=chunks())
    assert registry().search_artifacts(run_id=run_id, with_total=True).total == 0


@directory_only
def test_the_store_stopped_mid_download_fails_it_and_writes_no_file(run_id, own_s3_server, tmp_path):
    data = os.urandom(48 * 1024 * 1024)
    artifacts.log_artifact(run_id=run_id, name="weights.pt", chunks=[data])
    opened = artifacts.open_artifact(run_id=run_id, name="weights.pt")
    first = next(opened.chunks)
    assert first == data[: len(first)]
    own_s3_server.stop()
    with pytest.raises((StorageUnavailableError, ArtifactCorruptedError)):
        for _ in opened.chunks:
            pass
    with pytest.raises(StorageUnavailableError, match="s3://gemini-test"):
        registry().download_artifact(run_id=run_id, name="weights.pt", dest=tmp_path / "weights.pt")
    assert not (tmp_path / "weights.pt").exists()


@directory_only
def test_the_store_stopped_between_upload_and_record_records_nothing(run_id, own_s3_server):
    data = b"stored, then the store went away"
    offered = offer(run_id, "a.bin", data)
    assert httpx.put(offered.upload.url, headers=offered.upload.headers, content=data).status_code == 200
    own_s3_server.stop()
    with pytest.raises(StorageUnavailableError, match="s3://gemini-test"):
        record(run_id, "a.bin", data)
    assert registry().search_artifacts(run_id=run_id, with_total=True).total == 0


@bucket_only
def test_bytes_that_do_not_match_their_name_are_never_served(run_id, store, tmp_path, remote_registry_s3, monkeypatch):
    """Locally, through a server streaming them, and through a presigned download: each checks the digest."""
    record = artifacts.log_artifact(run_id=run_id, name="best.pt", chunks=[b"A" * 5000])
    store.write(record.sha256, b"A" * 2500 + b"B" + b"A" * 2499)
    with pytest.raises(ArtifactCorruptedError):
        registry().download_artifact(run_id=run_id, name="best.pt", dest=tmp_path / "local.pt")
    # The same through a server on a bucket: its client reads the bucket with a presigned request.
    monkeypatch.setenv("GEMINI_API_URL", remote_registry_s3.url)
    empty_registry(remote_registry_s3.database_url, monkeypatch, remote_registry_s3.artifact_root)
    remote_run = registry().create_run(model_run_info={"corrupt": True})[0].id
    remote_record = registry().log_artifact_file(run_id=remote_run, path=write_bytes(tmp_path / "c.pt", b"C" * 5000), name="c.pt")
    BucketStore(store.server, remote_registry_s3.artifact_root).write(remote_record.sha256, b"D" * 5000)
    with pytest.raises(ArtifactCorruptedError):
        registry().download_artifact(run_id=remote_run, name="c.pt", dest=tmp_path / "remote.pt")
    assert not (tmp_path / "remote.pt").exists() and not (tmp_path / "local.pt").exists()


def write_bytes(path, data: bytes):  # noqa: ANN001, ANN201
    path.write_bytes(data)
    return path


# -- presigned requests that expire ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def expiring_server(s3_server, tmp_path_factory):
    """A server whose presigned URLs last 1 s, before a store that refuses them once expired."""
    proxy = ExpiringProxy(s3_server.endpoint)
    directory = tmp_path_factory.mktemp("expiring")
    database_url = f"sqlite:///{directory / 'gemini.db'}"
    root = new_root()
    settings = {
        **s3_server.environment,
        "AWS_ENDPOINT_URL": proxy.endpoint,
        "GEMINI_ARTIFACT_ROOT": root,
        "GEMINI_PRESIGNED_URL_SECONDS": "1",
    }
    try:
        with running_gemini_server(database_url=database_url, log_path=directory / "serve.log", settings=settings) as served:
            yield served, proxy, database_url, root
    finally:
        proxy.close()


@pytest.fixture
def expiring(expiring_server, monkeypatch):
    served, proxy, database_url, root = expiring_server
    as_client_without_aws(served.url, database_url, monkeypatch, root)
    return proxy


def late(function, seconds: float = 1.6):  # noqa: ANN001, ANN201
    """``function``, its first call made after its presigned request has expired."""
    calls = []

    def delayed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if not calls:
            threading.Event().wait(seconds)
        calls.append(1)
        return function(*args, **kwargs)

    return delayed


def test_an_expired_presigned_upload_is_refused_by_the_store(expiring):
    run_id = registry().create_run(model_run_info={"expired": "put"})[0].id
    data = b"too late"
    offered = offer(run_id, "a.bin", data)
    threading.Event().wait(1.6)
    assert httpx.put(offered.upload.url, headers=offered.upload.headers, content=data).status_code == 403


def test_a_client_asks_again_when_its_presigned_requests_have_expired(expiring, monkeypatch, tmp_path):
    run_id = registry().create_run(model_run_info={"expired": "client"})[0].id
    monkeypatch.setattr(remote_artifacts, "_to_store", late(remote_artifacts._to_store))
    monkeypatch.setattr(remote_artifacts, "_from_store", late(remote_artifacts._from_store))
    refused_before = expiring.refused
    record = registry().log_artifact_file(run_id=run_id, path=write_bytes(tmp_path / "w.pt", b"weights"), name="w.pt")
    path = registry().download_artifact(run_id=run_id, name="w.pt", dest=tmp_path / "copy.pt")
    assert path.read_bytes() == b"weights" and record.sha256 == digest_of(b"weights")
    assert expiring.refused == refused_before + 2  # one expired upload, one expired download, both asked again


# -- moving a registry's blobs -----------------------------------------------------------------------------


@directory_only
def test_migrate_artifacts_copies_every_blob_to_a_bucket_and_back(run_id, s3_server, monkeypatch, tmp_path):
    for key, value in s3_server.environment.items():
        monkeypatch.setenv(key, value)
    records = [artifacts.log_artifact(run_id=run_id, name=f"f{i}.bin", chunks=[os.urandom(1000 + i)]) for i in range(3)]
    bucket = new_root()
    result = artifacts.migrate_artifacts(to=bucket)
    assert (result.copied, result.already_there) == (3, 0)
    in_bucket = BucketStore(s3_server, bucket)
    assert in_bucket.blobs() == {record.sha256 for record in records}
    # Interrupted copies resume: what is there is skipped, what is missing is copied.
    in_bucket.remove(records[1].sha256)
    again = artifacts.migrate_artifacts(to=bucket)
    assert (again.copied, again.already_there) == (1, 2)
    # The registry now on the bucket reads its artifacts, and moves them back to a new directory.
    monkeypatch.setenv("GEMINI_ARTIFACT_ROOT", bucket)
    assert registry().download_artifact(run_id=run_id, name="f2.bin", dest=tmp_path / "f2.bin").stat().st_size == 1002
    back = tmp_path / "back"
    assert artifacts.migrate_artifacts(to=str(back)).copied == 3
    assert DirectoryStore(back).blobs() == {record.sha256 for record in records}


@directory_only
def test_migrate_artifacts_refuses_a_corrupted_blob_and_does_not_copy_it(run_id, store, s3_server, monkeypatch):
    for key, value in s3_server.environment.items():
        monkeypatch.setenv(key, value)
    record = artifacts.log_artifact(run_id=run_id, name="best.pt", chunks=[b"A" * 5000])
    store.write(record.sha256, b"B" * 5000)
    bucket = new_root()
    with pytest.raises(ArtifactCorruptedError):
        artifacts.migrate_artifacts(to=bucket)
    in_bucket = BucketStore(s3_server, bucket)
    assert in_bucket.blobs() == set() and in_bucket.temporary_files() == []


@directory_only
def test_gemini_db_migrate_artifacts_reports_what_it_copied(run_id, s3_server, monkeypatch):
    import json

    from click.testing import CliRunner

    from gemini.cli.main import cli

    for key, value in s3_server.environment.items():
        monkeypatch.setenv(key, value)
    artifacts.log_artifact(run_id=run_id, name="a.bin", chunks=[b"abc"])
    bucket = new_root()
    result = CliRunner().invoke(cli, ["db", "migrate-artifacts", "--to", bucket, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"copied": 1, "bytes_copied": 3, "already_there": 0}
    human = CliRunner().invoke(cli, ["db", "migrate-artifacts", "--to", bucket], catch_exceptions=False)
    assert f"Now set GEMINI_ARTIFACT_ROOT={bucket}" in human.stderr
    assert get_settings().artifact_root != bucket  # the registry's own setting is the user's to change


# -- a bucket that cannot be reached from the training node ---------------------------------------------


def test_an_unreachable_bucket_spools_the_artifact_and_gemini_sync_stores_it(s3_server, tmp_path, monkeypatch):
    """The server answers, its bucket does not: the file waits in the client's spool (the training goes
    on), and is stored and recorded once the bucket is back."""
    from gemini.remote.spooling import sync

    proxy = ExpiringProxy(s3_server.endpoint)
    settings = {**s3_server.environment, "AWS_ENDPOINT_URL": proxy.endpoint, "GEMINI_ARTIFACT_ROOT": new_root()}
    try:
        with running_gemini_server(
            database_url=f"sqlite:///{tmp_path / 'gemini.db'}", log_path=tmp_path / "serve.log", settings=settings
        ) as served:
            for key in [key for key in os.environ if key.startswith(("AWS_", "GEMINI_"))]:
                monkeypatch.delenv(key)
            monkeypatch.setenv("GEMINI_API_URL", served.url)
            monkeypatch.setenv("GEMINI_API_RETRIES", "0")
            monkeypatch.setenv("GEMINI_SPOOL_PATH", str(tmp_path / "client-spool.sqlite"))
            run_id = registry().create_run(model_run_info={"bucket": "away"})[0].id
            proxy.reachable = False
            weights = write_bytes(tmp_path / "best.pt", b"weights while the bucket is away")
            spooled = registry().log_artifact_file(run_id=run_id, path=weights, name="weights/best.pt")
            assert spooled.sha256 == digest_of(b"weights while the bucket is away")
            assert registry().search_artifacts(run_id=run_id, with_total=True).total == 0  # not recorded
            proxy.reachable = True
            report = sync()
            assert report.failed == 0 and report.left == 0, report
            path = registry().download_artifact(run_id=run_id, name="weights/best.pt", dest=tmp_path / "copy.pt")
            assert path.read_bytes() == b"weights while the bucket is away"
    finally:
        proxy.close()


@bucket_only
def test_artifacts_are_recorded_all_or_none(run_id):
    """One blob of two is not in the store: neither is recorded, and the error names the missing one."""
    there, missing = b"put into the bucket", b"never sent"
    offered = offer(run_id, "there.bin", there)
    assert httpx.put(offered.upload.url, headers=offered.upload.headers, content=there).status_code == 200
    with pytest.raises(NotFoundError, match="'missing.bin'"):
        registry().record_stored_artifacts(
            run_id=run_id, artifacts=[declared("there.bin", there), declared("missing.bin", missing)]
        )
    assert registry().search_artifacts(run_id=run_id, with_total=True).total == 0
    records = registry().record_stored_artifacts(run_id=run_id, artifacts=[declared("there.bin", there)])
    assert [item.name for item in records] == ["there.bin"]


def test_a_name_given_twice_in_one_request_is_refused(run_id):
    with pytest.raises(InvalidInputError, match="given twice"):
        registry().offer_artifact_uploads(run_id=run_id, artifacts=[declared("a.bin", b"1"), declared("a.bin", b"2")])


def test_a_directory_through_a_bucket_server_costs_two_requests_to_the_server(remote_registry_s3, tmp_path, monkeypatch):
    """One offer for all the files, one record for all: not two requests a file."""
    from gemini.remote import http

    a_client_of(remote_registry_s3, monkeypatch)
    run_id = registry().create_run(model_run_info={"directory": "batch"})[0].id
    folder = tmp_path / "train"
    for index in range(12):
        (folder / "plots").mkdir(parents=True, exist_ok=True)
        write_bytes(folder / "plots" / f"p{index}.png", b"p%d" % index)
    sent = []
    original = http.send
    monkeypatch.setattr(http, "send", lambda operation, **arguments: sent.append(operation) or original(operation, **arguments))
    records = registry().log_artifact_directory(run_id=run_id, directory=folder)
    assert [record.name for record in records] == sorted(f"plots/p{index}.png" for index in range(12))
    assert sent == ["offer_artifact_uploads", "record_stored_artifacts"]
    assert registry().search_artifacts(run_id=run_id, with_total=True).total == 12


def test_a_directory_sends_its_largest_files_first(remote_registry_s3, tmp_path, monkeypatch):
    """A checkpoint started last would travel alone while the other connections stand idle."""
    a_client_of(remote_registry_s3, monkeypatch)
    monkeypatch.setattr(remote_artifacts, "ARTIFACT_UPLOADS_AT_ONCE", 1)  # one at a time: the order they start in
    run_id = registry().create_run(model_run_info={"directory": "largest first"})[0].id
    sizes = {"args.yaml": 10, "weights/best.pt": 5000, "plots/a.png": 900, "results.csv": 40, "weights/last.pt": 4000}
    for name, size in sizes.items():
        (tmp_path / "train" / name).parent.mkdir(parents=True, exist_ok=True)
        write_bytes(tmp_path / "train" / name, b"x" * size)
    sent = []
    original = remote_artifacts._to_store
    monkeypatch.setattr(
        remote_artifacts,
        "_to_store",
        lambda offer, path, blob, what: sent.append(path.name) or original(offer, path, blob, what),
    )
    registry().log_artifact_directory(run_id=run_id, directory=tmp_path / "train")
    assert sent == ["best.pt", "last.pt", "a.png", "results.csv", "args.yaml"]


def test_bytes_another_record_points_at_are_recorded_without_asking_the_store(run_id, store, monkeypatch):
    """Only an unreferenced blob is ever removed, so one a record points at is known to be stored."""
    data = b"args: yolo11n.pt" * 10
    artifacts.log_artifact(run_id=run_id, name="args.yaml", chunks=[data])
    other_run = registry().create_run(model_run_info={"same": "args"})[0].id
    looked_up = []
    store_class = type(artifacts.artifact_store())
    original = store_class.stored_size
    monkeypatch.setattr(store_class, "stored_size", lambda self, sha256: looked_up.append(sha256) or original(self, sha256))
    assert record(other_run, "args.yaml", data).sha256 == digest_of(data)
    assert looked_up == []
    with pytest.raises(NotFoundError, match="holds no blob"):  # the size must still be the recorded one
        registry().record_stored_artifacts(run_id=other_run, artifacts=[{**declared("copy.yaml", data), "size": len(data) + 1}])
    assert looked_up == []
    new_bytes = b"results" * 10
    with pytest.raises(NotFoundError):
        record(other_run, "results.csv", new_bytes)
    assert looked_up == [digest_of(new_bytes)]


def test_a_directory_is_hashed_a_few_files_at_a_time(remote_registry_s3, tmp_path, monkeypatch):
    """Two files hashed at once meet at a barrier; hashed one after the other, the first would wait for
    the second in vain."""
    import threading

    a_client_of(remote_registry_s3, monkeypatch)
    run_id = registry().create_run(model_run_info={"directory": "hashed together"})[0].id
    for name in ("best.pt", "last.pt"):
        (tmp_path / "train").mkdir(exist_ok=True)
        write_bytes(tmp_path / "train" / name, name.encode() * 1000)
    together = threading.Barrier(2, timeout=5)
    original = remote_artifacts._digest

    def hashed_together(path):  # noqa: ANN001, ANN202
        together.wait()
        return original(path)

    monkeypatch.setattr(remote_artifacts, "_digest", hashed_together)
    records = registry().log_artifact_directory(run_id=run_id, directory=tmp_path / "train")
    assert [record.name for record in records] == ["best.pt", "last.pt"]


# -- large files in parts ------------------------------------------------------------------------------------

PART = 8 * 1024 * 1024


def in_parts(data: bytes, part_bytes: int = PART) -> dict:
    """``data`` declared with its parts, as a client cuts a large file."""
    parts = [data[start : start + part_bytes] for start in range(0, len(data), part_bytes)]
    return {"part_bytes": part_bytes, "part_sha256s": [digest_of(part) for part in parts]}


@bucket_only
def test_an_offer_in_parts_signs_each_part_with_its_own_checksum_and_the_parts_make_the_blob(run_id, store, tmp_path):
    data = os.urandom(2 * PART + 1234)
    offered = registry().offer_artifact_uploads(run_id=run_id, artifacts=[{**declared("big.bin", data), **in_parts(data)}])[0]
    assert not offered.stored and offered.upload is None
    assert offered.parts.part_bytes == PART and len(offered.parts.parts) == 3
    sizes = [int(request.headers["Content-Length"]) for request in offered.parts.parts]
    assert sizes == [PART, PART, 1234]
    for request, part_sha256 in zip(offered.parts.parts, in_parts(data)["part_sha256s"]):
        assert request.method == "PUT" and "X-Amz-Signature=" in request.url
        assert base64.b64decode(request.headers["x-amz-checksum-sha256"]).hex() == part_sha256
    assert offered.parts.complete.method == "POST"
    with pytest.raises(NotFoundError):  # nothing is there before the parts are put together
        record(run_id, "big.bin", data)
    blob = ArtifactBlob("big.bin", digest_of(data), len(data), BlobParts(PART, tuple(in_parts(data)["part_sha256s"])))
    remote_artifacts._to_store(offered, write_bytes(tmp_path / "big.bin", data), blob, "big.bin")
    assert record(run_id, "big.bin", data).sha256 == digest_of(data)
    assert store.blobs() == {digest_of(data)}
    assert registry().download_artifact(run_id=run_id, name="big.bin", dest=tmp_path / "copy.bin").read_bytes() == data


@directory_only
def test_a_directory_store_offers_no_parts_either(run_id):
    data = os.urandom(PART + 1)
    offered = registry().offer_artifact_uploads(run_id=run_id, artifacts=[{**declared("big.bin", data), **in_parts(data)}])[0]
    assert (offered.stored, offered.upload, offered.parts) == (False, None, None)


BAD_PARTS = pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"part_bytes": 1024, "part_sha256s": ["0" * 64] * 2}, "part_bytes must be a whole number of bytes from 5242880"),
        ({"part_bytes": PART, "part_sha256s": ["0" * 64]}, "one SHA-256 for each of the 2 parts"),
        ({"part_bytes": PART, "part_sha256s": ["0" * 64, "not a digest"]}, r"part_sha256s\[1\] must be 64 hexadecimal"),
        ({"part_bytes": PART}, "with part_bytes and part_sha256s or without"),
    ],
)


@BAD_PARTS
def test_parts_that_do_not_fit_the_size_are_refused_naming_what_is_wrong(run_id, parts, message):
    data = b"x" * (PART + 1)
    with pytest.raises(InvalidInputError, match=message):
        registry().offer_artifact_uploads(run_id=run_id, artifacts=[{**declared("big.bin", data), **parts}])


@BAD_PARTS
def test_parts_that_do_not_fit_are_refused_through_a_server_by_the_client_and_by_the_server(
    remote_registry_s3, monkeypatch, parts, message
):
    a_client_of(remote_registry_s3, monkeypatch)
    run_id = registry().create_run(model_run_info={"parts": "refused"})[0].id
    body = {**declared("big.bin", b"x" * (PART + 1)), **parts}
    with pytest.raises(InvalidInputError, match=message):
        registry().offer_artifact_uploads(run_id=run_id, artifacts=[body])
    answer = httpx.post(f"{remote_registry_s3.url}/api/model_runs/{run_id}/artifact_uploads", json={"artifacts": [body]})
    assert answer.status_code == 422
    assert re.search(message, answer.text)


@bucket_only
def test_gc_aborts_an_upload_in_parts_that_was_never_completed(run_id, store, s3_server, monkeypatch):
    data = os.urandom(PART + 10)
    registry().offer_artifact_uploads(run_id=run_id, artifacts=[{**declared("big.bin", data), **in_parts(data)}])
    unfinished = lambda: s3_server.client().list_multipart_uploads(Bucket=BUCKET, Prefix=store.prefix).get("Uploads", [])  # noqa: E731
    assert len(unfinished()) == 1
    monkeypatch.setenv("GEMINI_ARTIFACT_GC_GRACE_SECONDS", "0")
    assert artifacts.collect_garbage().temporary_files_removed == 1
    assert unfinished() == [] and store.blobs() == set()


def test_a_large_file_goes_from_the_client_to_the_bucket_in_parts_side_by_side(remote_registry_s3, s3_server, tmp_path, monkeypatch):
    from gemini.remote import http

    a_client_of(remote_registry_s3, monkeypatch)
    monkeypatch.setattr(remote_artifacts, "UPLOAD_IN_PARTS_FROM_BYTES", 2 * PART)
    run_id = registry().create_run(model_run_info={"large": "parts"})[0].id
    data = os.urandom(3 * PART + 99)
    small = b"args" * 100
    sent_to_server, sent_to_store = [], []
    original_send, original_store = http.send, remote_artifacts._send_to_store
    monkeypatch.setattr(http, "send", lambda operation, **arguments: sent_to_server.append(operation) or original_send(operation, **arguments))

    def to_store(request, content, what, **options):  # noqa: ANN001, ANN003, ANN202
        sent_to_store.append((request.method, what))
        return original_store(request, content, what, **options)

    monkeypatch.setattr(remote_artifacts, "_send_to_store", to_store)
    record = registry().log_artifact_file(run_id=run_id, path=write_bytes(tmp_path / "last.pt", data), name="weights/last.pt")
    assert record.sha256 == digest_of(data) and record.size == len(data)
    assert registry().log_artifact_file(run_id=run_id, path=write_bytes(tmp_path / "args.yaml", small), name="args.yaml").size == 400
    # The bytes went to the bucket in four parts and a completion; the server had an offer and a record of each.
    assert sorted(what.split(" of ")[0] for method, what in sent_to_store if method == "PUT") == [
        "artifact 'args.yaml'", "part 1", "part 2", "part 3", "part 4"
    ]
    assert [method for method, _ in sent_to_store].count("POST") == 1
    assert sent_to_server == ["offer_artifact_uploads", "record_stored_artifacts"] * 2
    stored = s3_server.client().head_object(Bucket=BUCKET, Key=BucketStore(s3_server, remote_registry_s3.artifact_root).key(record.sha256))
    assert stored["ContentLength"] == len(data) and stored["ETag"].strip('"').endswith("-4")
    assert registry().download_artifact(run_id=run_id, name="weights/last.pt", dest=tmp_path / "copy.pt").read_bytes() == data


def test_a_client_asks_again_when_the_requests_for_its_parts_have_expired(expiring, monkeypatch, tmp_path):
    monkeypatch.setattr(remote_artifacts, "UPLOAD_IN_PARTS_FROM_BYTES", PART)
    run_id = registry().create_run(model_run_info={"expired": "parts"})[0].id
    monkeypatch.setattr(remote_artifacts, "_to_store", late(remote_artifacts._to_store))
    data = os.urandom(PART + 1024)
    refused_before = expiring.refused
    record = registry().log_artifact_file(run_id=run_id, path=write_bytes(tmp_path / "w.pt", data), name="w.pt")
    assert record.sha256 == digest_of(data)
    assert expiring.refused >= refused_before + 1  # the late parts were refused, then asked for again
    assert registry().download_artifact(run_id=run_id, name="w.pt", dest=tmp_path / "copy.pt").read_bytes() == data


def test_a_completion_whose_answer_was_lost_is_sent_again_and_the_artifact_recorded(remote_registry_s3, tmp_path, monkeypatch):
    """The store completed the upload, the answer never arrived; sent again, the store knows the upload
    no more (NoSuchUpload, as S3 and MinIO answer for a completed upload; moto answers 200 again, so that
    answer is written here), and the record finds the object whole."""
    a_client_of(remote_registry_s3, monkeypatch)
    monkeypatch.setattr(remote_artifacts, "UPLOAD_IN_PARTS_FROM_BYTES", PART)
    run_id = registry().create_run(model_run_info={"lost": "completion"})[0].id
    client = remote_artifacts._store_client()
    answers = []

    class AnswerLost:
        def request(self, method, url, **arguments):  # noqa: ANN001, ANN003, ANN202
            if method == "POST" and len(answers) == 3:  # the completion again: the store completed it already
                response = httpx.Response(404, content=b"<Error><Code>NoSuchUpload</Code></Error>")
            else:
                response = client.request(method, url, **arguments)
            answers.append((method, response.status_code))
            if method == "POST" and len(answers) == 3:  # two parts, then the first completion's answer is lost
                raise httpx.ReadError("connection reset")
            return response

        def stream(self, method, url, **arguments):  # noqa: ANN001, ANN003, ANN202
            return client.stream(method, url, **arguments)

    monkeypatch.setattr(remote_artifacts, "_store_client", AnswerLost)
    data = os.urandom(PART + 77)
    record = registry().log_artifact_file(run_id=run_id, path=write_bytes(tmp_path / "w.pt", data), name="w.pt")
    assert record.sha256 == digest_of(data)
    assert answers == [("PUT", 200), ("PUT", 200), ("POST", 200), ("POST", 404)]
    assert registry().download_artifact(run_id=run_id, name="w.pt", dest=tmp_path / "copy.pt").read_bytes() == data
