"""A real S3-protocol server for the tests and benchmarks: moto's S3 application served on its own on a
free loopback port (``tests/s3_endpoint.py`` says why not ``python -m moto.server``).

The registry reaches it only through the standard S3 API with the standard AWS variables, as it would
MinIO or AWS S3; the tests look into the bucket through boto3 the same way.
"""

from __future__ import annotations

import calendar
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.network import free_loopback_port

BUCKET = "gemini-test"
START_SECONDS = 30


TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "gemini-test-key",
    "AWS_SECRET_ACCESS_KEY": "gemini-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class S3Endpoint:
    """An S3 server's address and the AWS variables (keys and region) a client of it needs."""

    endpoint: str
    credentials: dict[str, str]

    @property
    def environment(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, **self.credentials}

    def client(self):  # noqa: ANN201
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.credentials["AWS_SECRET_ACCESS_KEY"],
            region_name=self.credentials["AWS_DEFAULT_REGION"],
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def make_bucket(self) -> None:
        """The test bucket, made unless these keys reach it already. A bucket of that name that they cannot
        reach (someone else's) is an error here, not later at the first object."""
        from botocore.exceptions import ClientError

        client = self.client()
        try:
            client.head_bucket(Bucket=BUCKET)
            return
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
                raise
        region = self.credentials["AWS_DEFAULT_REGION"]
        # Outside us-east-1, S3 wants the bucket's region named in the request.
        placed = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        client.create_bucket(Bucket=BUCKET, **placed)


@dataclass
class S3Server(S3Endpoint):
    """A running moto server."""

    process: subprocess.Popen
    port: int
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def running_s3_server(directory: Path, *, port: int | None = None, objects_in: Path | None = None) -> Iterator[S3Server]:
    """moto's S3 endpoint on loopback, ready, with the test bucket made. moto keeps the larger objects in
    temporary files, in ``objects_in`` when given (the system's temporary directory otherwise)."""
    port = port or free_loopback_port()
    log_path = directory / f"s3-server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("s3_endpoint.py")), str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={
                **{key: value for key, value in os.environ.items() if not key.startswith("AWS_")},
                **({"TMPDIR": str(objects_in)} if objects_in is not None else {}),
            },
        )
    server = S3Server(
        endpoint=f"http://127.0.0.1:{port}", credentials=TEST_CREDENTIALS, process=process, port=port, log_path=log_path
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the S3 server (moto) exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                httpx.get(f"{server.endpoint}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the S3 server (moto) did not answer within {START_SECONDS} s")
                time.sleep(0.1)
        server.make_bucket()
        yield server
    finally:
        server.stop()


def new_root() -> str:
    """A prefix of the test bucket no other test uses."""
    return f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"


class BucketStore:
    """What the bucket holds under one ``s3://`` root, seen through the S3 API."""

    def __init__(self, server: S3Endpoint, root: str) -> None:
        self.server = server
        self.root = root
        self.prefix = root.removeprefix(f"s3://{BUCKET}/").strip("/") + "/"
        self._client = server.client()

    def key(self, digest: str) -> str:
        return f"{self.prefix}blobs/{digest[:2]}/{digest}"

    def _keys(self, below: str) -> list[dict]:
        found: list[dict] = []
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=self.prefix + below):
            found.extend(page.get("Contents", []))
        return found

    def blobs(self) -> set[str]:
        return {item["Key"].rsplit("/", 1)[-1] for item in self._keys("blobs/")}

    def temporary_files(self) -> list[str]:
        objects = [item["Key"] for item in self._keys("tmp/")]
        uploads = self._client.list_multipart_uploads(Bucket=BUCKET, Prefix=self.prefix + "tmp/").get("Uploads", [])
        return sorted(objects + [upload["Key"] for upload in uploads])

    def read(self, digest: str) -> bytes:
        return self._client.get_object(Bucket=BUCKET, Key=self.key(digest))["Body"].read()

    def write(self, digest: str, data: bytes) -> None:
        self._client.put_object(Bucket=BUCKET, Key=self.key(digest), Body=data)

    def remove(self, digest: str) -> None:
        self._client.delete_object(Bucket=BUCKET, Key=self.key(digest))


class ExpiringProxy:
    """An HTTP proxy in front of an S3 server that refuses presigned requests past their expiry, as AWS
    S3 and MinIO do (moto's server does not check): ``403 AccessDenied, Request has expired``. With
    ``reachable`` false it drops every connection unanswered, as a store that cannot be reached."""

    def __init__(self, upstream: str) -> None:
        import http.server
        import threading

        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if not proxy.reachable:  # the connection dropped with no answer, as a store that went away
                    self.close_connection = True
                    return
                query = httpx.URL(self.path).params
                if "X-Amz-Expires" in query:
                    signed = calendar.timegm(time.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
                    if time.time() > signed + int(query["X-Amz-Expires"]):
                        proxy.refused += 1
                        message = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
                        self.send_response(403)
                        self.send_header("Content-Length", str(len(message)))
                        self.end_headers()
                        self.wfile.write(message)
                        return
                headers = {key: value for key, value in self.headers.items() if key.lower() not in ("connection",)}
                answer = httpx.request(self.command, upstream + self.path, headers=headers, content=body, timeout=60)
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(key, value)
                content = answer.content
                # A HEAD's answer has no body but tells the length of the object's.
                length = answer.headers.get("content-length", "0") if self.command == "HEAD" else str(len(content))
                self.send_header("Content-Length", length)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.refused = 0
        self.reachable = True
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
