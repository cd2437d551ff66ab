"""A content-addressed blob store in an S3-compatible bucket (AWS S3, MinIO, Ceph, ...).

Layout under ``s3://BUCKET/PREFIX/``, as in the directory store::

    blobs/ab/abcdef...   the bytes whose SHA-256 is abcdef..., written once
    tmp/<uuid>           an upload streamed through this process, copied to blobs/ once its digest is known

Only the standard S3 calls are used (Put/Get/Head/Copy/Delete/ListObjectsV2 and the multipart ones), so
every S3-compatible store works; endpoint, region and credentials are the standard AWS settings
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``,
``AWS_PROFILE``), read by botocore itself.

The bucket cannot hold a lock, so the store is given one (``lock``): whoever records a blob holds it
shared while the blob is checked and the record committed, whoever removes blobs holds it exclusively
while checking that no record points at them, as with the directory store's ``flock``. Bytes that clients
put into the bucket through a presigned URL are stored before anything is recorded; ``sweep`` leaves
objects younger than ``grace_seconds`` alone, so an upload that has not been recorded yet is not taken
for a crash's leftover.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import importlib.util
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from gemini.domain.errors import ArtifactCorruptedError, StorageUnavailableError
from gemini.domain.limits import MAX_UPLOAD_PART_BYTES, upload_part_bytes
from gemini.domain.records import BlobParts, PartsUpload, PresignedRequest
from gemini.storage.blobs import CHUNK_BYTES, DIGEST, Lock, StoredBlob, SweepResult, checked_chunks, too_large


def parse_s3_root(root: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (``bucket``, ``some/prefix/``); the prefix may be empty."""
    rest = root[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"{root!r} names no bucket: write s3://BUCKET or s3://BUCKET/PREFIX")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def _checksum(sha256: str) -> str:
    """The form S3's ``x-amz-checksum-sha256`` takes: the digest's bytes in base64."""
    return base64.b64encode(bytes.fromhex(sha256)).decode()


@dataclass
class _Parts:
    upload_id: str
    done: list[dict] = field(default_factory=list)


class S3BlobStore:
    """The blobs under ``s3://bucket/prefix``; nothing is asked of the bucket at construction."""

    def __init__(
        self,
        root: str,
        *,
        lock: Lock,
        presigned_url_seconds: int = 900,
        grace_seconds: float = 86400,
        presign: bool = True,
    ) -> None:
        self.root = root.rstrip("/")
        self.bucket, self.prefix = parse_s3_root(root)
        self._lock = lock
        self.presigned_url_seconds = presigned_url_seconds
        self.grace_seconds = grace_seconds
        self.presigns = presign
        self._client = None

    def __str__(self) -> str:
        return self.root

    # -- the client ----------------------------------------------------------------------------------

    @property
    def client(self):  # noqa: ANN201 - botocore's generated client class
        if self._client is None:
            self._client = _make_client()
        return self._client

    @contextlib.contextmanager
    def _calls(self, action: str) -> Iterator[None]:
        """botocore's errors as the store's: unreachable, refused or without credentials, naming the store."""
        _require_boto3()
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            yield
        except NoCredentialsError as exc:
            raise StorageUnavailableError(
                f"artifact store {self.root}: no credentials to {action} (set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
            ) from exc
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise StorageUnavailableError(
                f"artifact store {self.root} refused to {action}: {error.get('Code', '?')} {error.get('Message', '')}".rstrip()
            ) from exc
        except BotoCoreError as exc:
            raise StorageUnavailableError(f"artifact store {self.root} unreachable: cannot {action} ({exc})") from exc

    def check_reachable(self) -> None:
        with self._calls(f"find the bucket {self.bucket}"):
            self.client.head_bucket(Bucket=self.bucket)

    def key_of(self, sha256: str) -> str:
        if not DIGEST.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return f"{self.prefix}blobs/{sha256[:2]}/{sha256}"

    def stored_size(self, sha256: str) -> int | None:
        """The size of the blob ``sha256`` in the bucket, or ``None`` when it is not there."""
        _require_boto3()
        from botocore.exceptions import ClientError

        with self._calls(f"look up {sha256}"):
            try:
                answer = self.client.head_object(Bucket=self.bucket, Key=self.key_of(sha256), ChecksumMode="ENABLED")
            except ClientError as exc:
                if _missing(exc):
                    return None
                raise
        stored_checksum = answer.get("ChecksumSHA256")
        # An object put in parts carries its parts' checksum, not its bytes' (its ETag ends "-<parts>").
        in_parts = "-" in answer.get("ETag", "") or "-" in (stored_checksum or "")
        if stored_checksum and not in_parts and stored_checksum != _checksum(sha256):
            # The store computed the bytes' digest when they arrived, and it is not the name's.
            raise ArtifactCorruptedError(f"the stored bytes of {sha256} hash to another SHA-256 in {self.root}")
        return answer["ContentLength"]

    # -- writing -------------------------------------------------------------------------------------

    def begin(self, *, max_bytes: int) -> S3BlobWriter:
        return S3BlobWriter(self, max_bytes)

    @contextlib.contextmanager
    def publishing(self) -> Iterator[None]:
        with self._lock(exclusive=False):
            yield

    def presigned_upload(self, sha256: str, size: int) -> PresignedRequest | None:
        """A URL a client may PUT the blob's bytes to directly, the store checking them against their
        SHA-256; ``None`` when the bytes should come through the server instead."""
        if not self.presigns or size > MAX_UPLOAD_PART_BYTES:
            return None
        checksum = _checksum(sha256)
        with self._calls("sign an upload URL"):
            url = self.client.generate_presigned_url(
                "put_object",
                Params={"Bucket": self.bucket, "Key": self.key_of(sha256), "ContentLength": size, "ChecksumSHA256": checksum},
                ExpiresIn=self.presigned_url_seconds,
            )
        return PresignedRequest(
            method="PUT",
            url=url,
            headers={"Content-Length": str(size), "x-amz-checksum-sha256": checksum},
            expires_at=_expiry(self.presigned_url_seconds),
        )

    def presigned_parts_upload(self, sha256: str, size: int, parts: BlobParts) -> PartsUpload | None:
        """Requests that put a large blob's parts into the store directly, each checked there against the
        SHA-256 the client declared for it, then assemble them under the blob's name; ``None`` when the
        bytes should come through the server instead. The parts go straight to the blob's key (an
        abandoned upload is aborted by ``sweep``): copying them there afterwards would cost the store a
        second write of every byte."""
        if not self.presigns:
            return None
        key = self.key_of(sha256)
        expires_at = _expiry(self.presigned_url_seconds)  # before signing: never later than the URLs
        with self._calls("start an upload in parts"):
            started = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, ChecksumAlgorithm="SHA256")
            upload_id = started["UploadId"]
            requests = []
            for number, (part_sha256, part_size) in enumerate(_part_sizes(parts, size), start=1):
                checksum = _checksum(part_sha256)
                url = self.client.generate_presigned_url(
                    "upload_part",
                    Params={
                        "Bucket": self.bucket,
                        "Key": key,
                        "UploadId": upload_id,
                        "PartNumber": number,
                        "ContentLength": part_size,
                        "ChecksumSHA256": checksum,
                    },
                    ExpiresIn=self.presigned_url_seconds,
                )
                requests.append(
                    PresignedRequest(
                        method="PUT",
                        url=url,
                        headers={"Content-Length": str(part_size), "x-amz-checksum-sha256": checksum},
                        expires_at=expires_at,
                    )
                )
            complete = self.client.generate_presigned_url(
                "complete_multipart_upload",
                Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id},
                ExpiresIn=self.presigned_url_seconds,
            )
        return PartsUpload(
            part_bytes=parts.part_bytes,
            parts=tuple(requests),
            complete=PresignedRequest(
                method="POST",
                url=complete,
                headers={"Content-Type": "application/xml"},
                expires_at=expires_at,
            ),
        )

    def presigned_download(self, sha256: str) -> PresignedRequest | None:
        if not self.presigns:
            return None
        with self._calls("sign a download URL"):
            url = self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self.key_of(sha256)}, ExpiresIn=self.presigned_url_seconds
            )
        return PresignedRequest(method="GET", url=url, headers={}, expires_at=_expiry(self.presigned_url_seconds))

    # -- reading -------------------------------------------------------------------------------------

    def read(
        self, sha256: str, size: int, *, start: int = 0, end: int | None = None, chunk_bytes: int = CHUNK_BYTES
    ) -> Iterator[bytes]:
        """As ``BlobStore.read``: the object is asked for at once (a missing or wrongly sized one fails
        here), and a whole read holds its last chunk back until the bytes matched their digest."""
        _require_boto3()
        from botocore.exceptions import ClientError

        end = size if end is None else end
        whole = start == 0 and end == size
        if start == end:
            # S3 has no empty range; the size is still checked.
            stored = self.stored_size(sha256)
            if stored is None:
                raise ArtifactCorruptedError(f"the stored bytes of {sha256} are missing from the artifact store {self.root}")
            if whole and stored != size:
                raise ArtifactCorruptedError(f"the stored bytes of {sha256} are corrupted: {stored} bytes where {size} were stored")
            if whole and hashlib.sha256(b"").hexdigest() != sha256:
                raise ArtifactCorruptedError(f"the stored bytes of {sha256} are corrupted")
            return iter(())
        request = {"Bucket": self.bucket, "Key": self.key_of(sha256)}
        if not whole:
            request["Range"] = f"bytes={start}-{end - 1}"
        with self._calls(f"read {sha256}"):
            try:
                answer = self.client.get_object(**request)
            except ClientError as exc:
                if _missing(exc):
                    raise ArtifactCorruptedError(
                        f"the stored bytes of {sha256} are missing from the artifact store {self.root}"
                    ) from exc
                raise
        stored_size = int(answer.get("ContentRange", "/").rsplit("/", 1)[-1] or answer["ContentLength"])
        if stored_size != size:
            answer["Body"].close()
            raise ArtifactCorruptedError(
                f"the stored bytes of {sha256} are corrupted: {stored_size} bytes where {size} were stored"
            )
        return checked_chunks(self._body_chunks(answer["Body"], sha256, chunk_bytes), sha256, end - start, whole=whole)

    def _body_chunks(self, body, sha256: str, chunk_bytes: int) -> Iterator[bytes]:  # noqa: ANN001
        try:
            with self._calls(f"read {sha256}"):
                yield from body.iter_chunks(chunk_bytes)
        finally:
            body.close()

    # -- removing ------------------------------------------------------------------------------------

    def remove_unreferenced(self, candidates: Iterable[str], *, referenced: Callable[[set[str]], set[str]]) -> int:
        wanted = {digest for digest in candidates if DIGEST.fullmatch(digest)}
        if not wanted:
            return 0
        with self._lock(exclusive=True):
            unused = wanted - referenced(wanted)
            return self._delete([self.key_of(digest) for digest in unused])

    def sweep(self, *, referenced: Callable[[set[str]], set[str]]) -> SweepResult:
        """Remove the blobs no record names and the leftovers of dead uploads, all older than the grace
        period: younger ones may belong to an upload whose record is on its way."""
        cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=self.grace_seconds)
        old_blobs: dict[str, int] = {}
        for key, size, modified in self._list(f"{self.prefix}blobs/"):
            digest = key.rsplit("/", 1)[-1]
            if DIGEST.fullmatch(digest) and modified <= cutoff:
                old_blobs[digest] = size
        removed = freed = 0
        if old_blobs:
            with self._lock(exclusive=True):
                unused = set(old_blobs) - referenced(set(old_blobs))
                removed = self._delete([self.key_of(digest) for digest in unused])
                freed = sum(old_blobs[digest] for digest in unused)
        leftovers = [key for key, _, modified in self._list(f"{self.prefix}tmp/") if _began(key, modified) <= cutoff]
        temporary = self._delete(leftovers)
        # Unfinished uploads in parts: through this process to tmp/, from clients straight to blobs/.
        with self._calls("list unfinished uploads"):
            for prefix in (f"{self.prefix}tmp/", f"{self.prefix}blobs/"):
                for page in self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=prefix):
                    for upload in page.get("Uploads", []):
                        if _began(upload["Key"], upload["Initiated"]) <= cutoff:
                            self.client.abort_multipart_upload(
                                Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                            )
                            temporary += 1
        return SweepResult(removed, freed, temporary)

    def _list(self, prefix: str) -> Iterator[tuple[str, int, dt.datetime]]:
        with self._calls(f"list {prefix}"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"], item["Size"], item["LastModified"]

    def _delete(self, keys: list[str]) -> int:
        removed = 0
        with self._calls("remove blobs"):
            for start in range(0, len(keys), 1000):  # DeleteObjects takes 1,000 keys at most
                batch = keys[start : start + 1000]
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
                )
                errors = answer.get("Errors", [])
                if errors:
                    raise StorageUnavailableError(
                        f"artifact store {self.root} refused to remove {errors[0]['Key']}: {errors[0].get('Code')}"
                    )
                removed += len(batch)
        return removed


class S3BlobWriter:
    """One blob being written: a small one is kept in memory and put under its digest at ``publish``; a
    larger one is sent in parts to ``tmp/`` as it arrives and copied under its digest at ``publish``."""

    def __init__(self, store: S3BlobStore, max_bytes: int) -> None:
        self.store = store
        self._max_bytes = max_bytes
        self._digest = hashlib.sha256()
        self._buffer = bytearray()
        self._part_bytes = upload_part_bytes(max_bytes)
        self._parts: _Parts | None = None
        # Named after when it began: its age is then known whatever a store reports of its uploads.
        self._temporary_key = f"{store.prefix}tmp/{int(time.time())}-{uuid.uuid4().hex}"
        self._completed = False
        self.size = 0
        self.sha256: str | None = None

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._max_bytes:
            raise too_large(self._max_bytes)
        self._digest.update(chunk)
        self._buffer += chunk
        while len(self._buffer) >= self._part_bytes:
            self._send_part(bytes(self._buffer[: self._part_bytes]))
            del self._buffer[: self._part_bytes]

    def _send_part(self, data: bytes) -> None:
        client = self.store.client
        with self.store._calls("store an upload's part"):
            if self._parts is None:
                started = client.create_multipart_upload(Bucket=self.store.bucket, Key=self._temporary_key)
                self._parts = _Parts(started["UploadId"])
            number = len(self._parts.done) + 1
            answer = client.upload_part(
                Bucket=self.store.bucket, Key=self._temporary_key, UploadId=self._parts.upload_id, PartNumber=number, Body=data
            )
            self._parts.done.append({"ETag": answer["ETag"], "PartNumber": number})

    def finish(self) -> StoredBlob:
        """The bytes are all in; a multipart upload is completed (not yet visible under its digest)."""
        if self._parts is not None:
            if self._buffer:
                self._send_part(bytes(self._buffer))
                self._buffer.clear()
            with self.store._calls("complete an upload"):
                self.store.client.complete_multipart_upload(
                    Bucket=self.store.bucket,
                    Key=self._temporary_key,
                    UploadId=self._parts.upload_id,
                    MultipartUpload={"Parts": self._parts.done},
                )
            self._completed = True
        self.sha256 = self._digest.hexdigest()
        return StoredBlob(self.sha256, self.size)

    def publish(self) -> StoredBlob:
        """Make the blob visible under its digest (inside ``store.publishing()``); stored once."""
        if self.sha256 is None:
            raise RuntimeError("publish() before finish()")
        store = self.store
        key = store.key_of(self.sha256)
        try:
            if store.stored_size(self.sha256) != self.size:
                with store._calls(f"store {self.sha256}"):
                    if self._parts is None:
                        store.client.put_object(
                            Bucket=store.bucket, Key=key, Body=bytes(self._buffer), ChecksumSHA256=_checksum(self.sha256)
                        )
                    else:
                        # Server-side: the bytes do not come back through this process.
                        store.client.copy(
                            {"Bucket": store.bucket, "Key": self._temporary_key}, store.bucket, key
                        )
        finally:
            self.discard()
        return StoredBlob(self.sha256, self.size)

    def discard(self) -> None:
        """Drop what was sent to ``tmp/``; safe to call more than once. A failure here leaves a leftover
        that ``sweep`` removes later, so it is not raised."""
        self._buffer = bytearray()
        parts, self._parts = self._parts, None
        if parts is None:
            return
        with contextlib.suppress(StorageUnavailableError), self.store._calls("remove an upload's parts"):
            if self._completed:
                self.store.client.delete_object(Bucket=self.store.bucket, Key=self._temporary_key)
            else:
                self.store.client.abort_multipart_upload(
                    Bucket=self.store.bucket, Key=self._temporary_key, UploadId=parts.upload_id
                )


def _part_sizes(parts: BlobParts, size: int) -> Iterator[tuple[str, int]]:
    """Each declared part's SHA-256 and size; the last part holds what is left."""
    for number, part_sha256 in enumerate(parts.sha256s):
        yield part_sha256, min(parts.part_bytes, size - number * parts.part_bytes)


def _began(key: str, reported: dt.datetime) -> dt.datetime:
    """When an upload to ``tmp/`` began: the time in its name, else what the store reports."""
    started, _, _ = key.rsplit("/", 1)[-1].partition("-")
    if started.isdigit():
        return dt.datetime.fromtimestamp(int(started), dt.timezone.utc)
    return reported


def _missing(exc: Exception) -> bool:
    error = getattr(exc, "response", {}).get("Error", {})
    return str(error.get("Code")) in {"404", "NoSuchKey", "NotFound"}


def _expiry(seconds: int) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)


def _require_boto3() -> None:
    if importlib.util.find_spec("boto3") is None:
        raise StorageUnavailableError(
            "an s3:// artifact store (GEMINI_ARTIFACT_ROOT) needs boto3: pip install 'gemini-model-registry[s3]'"
        )


def _make_client():  # noqa: ANN202
    _require_boto3()
    import boto3
    from botocore.config import Config
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    config = Config(
        signature_version="s3v4",
        # MinIO and most self-hosted stores answer on one host name, not a name per bucket.
        s3={"addressing_style": "path" if endpoint else "auto"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        # Checksums only where the store is asked for them (put_object of a blob names its SHA-256):
        # older S3-compatible stores refuse the CRC headers that newer botocore adds by default.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client("s3", config=config)
