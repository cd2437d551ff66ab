"""The transport of presigned requests to the artifact store (``http.client`` behind httpx's interface),
against a loopback server that answers as scripted: whole and cut-short bodies, kept-alive and closed
connections, bodies of unknown length, the environment's proxy, and the errors httpx's callers expect."""

import datetime as dt
import ipaddress
import os
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from gemini.remote.store_transport import StoreTransport
from tests.network import free_loopback_port

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@dataclass
class Received:
    request_line: str
    headers: dict[str, str]
    body: bytes


@dataclass
class RawServer:
    """Reads each request whole, then lets ``answer(received, connection)`` write what it likes; a
    connection is read again until ``answer`` returns False or the client closes it."""

    answer: Callable[[Received, socket.socket], bool]
    port: int = field(default_factory=free_loopback_port)
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    closed: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))

    def serve(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._talk, args=(connection,), daemon=True).start()

    def _talk(self, connection: socket.socket) -> None:
        try:
            self._read_and_answer(connection)
        finally:
            self.closed.release()

    def _read_and_answer(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as reading:
            while True:
                request_line = reading.readline().decode().strip()
                if not request_line:
                    return
                headers: dict[str, str] = {}
                while (line := reading.readline().decode().strip()):
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
                if headers.get("transfer-encoding") == "chunked":
                    body = b""
                    while (size := int(reading.readline().strip(), 16)):
                        body += reading.read(size)
                        reading.readline()
                    reading.readline()
                else:
                    body = reading.read(int(headers.get("content-length", 0)))
                received = Received(request_line, headers, body)
                self.received.append(received)
                if not self.answer(received, connection):
                    return

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._listener.close()


def answering(body: bytes, *, declared: int | None = None, close_after: bool = False):  # noqa: ANN201
    def answer(received: Received, connection: socket.socket) -> bool:
        length = len(body) if declared is None else declared
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (length, body))
        return not close_after

    return answer


@pytest.fixture
def server_with() -> Iterator[Callable[..., RawServer]]:
    started: list[RawServer] = []

    def start(answer: Callable[[Received, socket.socket], bool]) -> RawServer:
        server = RawServer(answer)
        server.serve()
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture(autouse=True)
def environment_without_proxies_or_certificates(monkeypatch) -> None:  # noqa: ANN001
    """Each test sets what it needs: a proxy or certificates of the machine's would change the route."""
    for name in (*PROXY_VARIABLES, "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(transport=StoreTransport(), timeout=5) as made:
        yield made


def test_a_body_arrives_whole_and_its_connection_carries_the_next_request(server_with, client):
    body = os.urandom(3 * 1024 * 1024 + 5)
    server = server_with(answering(body))
    for _ in range(2):
        with client.stream("GET", f"{server.url}/blob?X-Amz-Signature=abc") as response:
            assert response.status_code == 200
            assert b"".join(response.iter_raw()) == body
    assert [received.request_line for received in server.received] == ["GET /blob?X-Amz-Signature=abc HTTP/1.1"] * 2
    assert server.connections == 1


def test_a_connection_the_store_closed_while_idle_is_not_sent_on_again(server_with, client):
    server = server_with(answering(b"done", close_after=True))
    for _ in range(3):
        assert client.get(f"{server.url}/blob").content == b"done"
        assert server.closed.acquire(timeout=5)  # the store has closed it: the next request finds it so
    assert server.connections == 3


def test_a_read_on_a_connection_closed_as_it_was_taken_goes_again_on_a_new_one(server_with, client, monkeypatch):
    # The store's close not yet seen when the idle connection is taken: only sending on it tells.
    monkeypatch.setattr("gemini.remote.store_transport._closed_while_idle", lambda connection: False)
    server = server_with(answering(b"done", close_after=True))
    for _ in range(2):
        assert client.get(f"{server.url}/blob").content == b"done"
        assert server.closed.acquire(timeout=5)
    assert server.connections == 2
    with pytest.raises(httpx.TransportError):  # a write is not repeated here: its caller decides
        client.put(f"{server.url}/blob", content=b"abc")
    assert server.connections == 2


def test_a_body_cut_short_is_a_transport_error_and_its_connection_is_not_kept(server_with, client):
    cut = server_with(answering(b"x" * 100, declared=1024 * 1024, close_after=True))
    with pytest.raises(httpx.RemoteProtocolError), client.stream("GET", f"{cut.url}/blob") as response:
        response.read()
    whole = server_with(answering(b"whole"))
    assert client.get(f"{whole.url}/blob").content == b"whole"


def test_a_body_of_unknown_length_goes_in_chunks_and_one_of_known_length_as_it_is(server_with, client):
    server = server_with(answering(b""))
    client.put(f"{server.url}/part", content=iter([b"ab", b"", b"cd"]))
    client.put(f"{server.url}/part", content=iter([b"ef", b"gh"]), headers={"Content-Length": "4"})
    chunked, declared = server.received
    assert (chunked.headers["transfer-encoding"], chunked.body) == ("chunked", b"abcd")
    assert ("transfer-encoding" not in declared.headers, declared.body) == (True, b"efgh")


def test_headers_are_sent_as_given_with_the_host(server_with, client):
    server = server_with(answering(b""))
    client.put(f"{server.url}/part", content=b"abc", headers={"x-amz-checksum-sha256": "c2lnbmVk"})
    (received,) = server.received
    assert received.headers["x-amz-checksum-sha256"] == "c2lnbmVk"
    assert received.headers["host"] == f"127.0.0.1:{server.port}"
    assert received.headers["content-length"] == "3"


def test_the_environments_proxy_carries_the_request_unless_no_proxy_names_the_host(server_with, monkeypatch):
    proxy = server_with(answering(b"from the proxy"))
    store = server_with(answering(b"from the store"))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with httpx.Client(transport=StoreTransport(), timeout=5) as through_proxy:
        assert through_proxy.get(f"{store.url}/blob").content == b"from the proxy"
    assert proxy.received[0].request_line == f"GET {store.url}/blob HTTP/1.1"
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with httpx.Client(transport=StoreTransport(), timeout=5) as direct:
        assert direct.get(f"{store.url}/blob").content == b"from the store"
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.delenv("HTTP_PROXY")
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    with httpx.Client(transport=StoreTransport(), timeout=5) as through_any_proxy:
        assert through_any_proxy.get(f"{store.url}/blob").content == b"from the proxy"
    assert len(proxy.received) == 2


def test_a_url_that_is_not_http_is_refused_by_name(client):
    with pytest.raises(httpx.UnsupportedProtocol, match="not 'ftp'"):
        client.get("ftp://127.0.0.1/blob")


def test_a_store_that_is_not_listening_is_a_connect_error(client):
    with pytest.raises(httpx.ConnectError):
        client.get(f"http://127.0.0.1:{free_loopback_port()}/blob")


def test_a_store_that_does_not_answer_is_a_read_timeout(server_with):
    silent = server_with(lambda received, connection: True)
    with httpx.Client(transport=StoreTransport(), timeout=0.3) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get(f"{silent.url}/blob")



class RefusingBeforeTheBody(RawServer):
    """Answers 403 as soon as a request's head arrived and closes the connection, the body unread."""

    def _talk(self, connection: socket.socket) -> None:
        with connection:
            head = b""
            while b"\r\n\r\n" not in head:
                head += connection.recv(65536)
            connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 15\r\nConnection: close\r\n\r\nRequest expired")


def test_an_answer_the_store_gives_before_taking_the_body_is_the_answer(client):
    server = RefusingBeforeTheBody(lambda received, connection: False)
    server.serve()
    try:
        body = iter([b"x" * 1024 * 1024] * 64)
        response = client.put(f"{server.url}/part", content=body, headers={"Content-Length": str(64 * 1024 * 1024)})
    finally:
        server.close()
    assert (response.status_code, response.content) == (403, b"Request expired")


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as a lab's MinIO behind its own authority would have."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gemini-test-store")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "store.pem", directory / "store.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_path, key_path


class TlsServer(RawServer):
    """``RawServer`` speaking HTTPS with the given certificate."""

    def __init__(self, answer, certificate: Path, key: Path) -> None:  # noqa: ANN001
        super().__init__(answer)
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.load_cert_chain(certificate, key)

    def _read_and_answer(self, connection: socket.socket) -> None:
        try:
            wrapped = self._tls.wrap_socket(connection, server_side=True)
        except (ssl.SSLError, OSError):
            connection.close()  # the client refused the certificate
            return
        super()._read_and_answer(wrapped)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


def test_a_store_over_https_is_checked_against_the_certificates_httpx_trusts(tmp_path, monkeypatch):
    certificate, key = _self_signed_certificate(tmp_path)
    body = os.urandom(2 * 1024 * 1024)
    server = TlsServer(answering(body), certificate, key)
    server.serve()
    try:
        with httpx.Client(transport=StoreTransport(), timeout=5) as untrusting, pytest.raises(httpx.ConnectError):
            untrusting.get(f"{server.url}/blob")
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
        with httpx.Client(transport=StoreTransport(), timeout=5) as trusting:
            for _ in range(2):
                assert trusting.get(f"{server.url}/blob").content == body
    finally:
        server.close()
    assert (server.connections, len(server.received)) == (2, 2)  # the refused one; one kept alive for both reads
