"""How presigned requests reach the artifact store: HTTP/1.1 through the standard library's
``http.client``, the bytes read 1 MiB at a time, behind httpx's client interface.

httpx's own transport reads a response 64 KiB at a time through a pure-Python parser: a 1 GiB download
cost twice boto3's CPU time and reached 55-70% of its speed (docs/benchmarks.md). ``http.client`` is what
boto3 itself sends with (through urllib3), and reads a large step straight from the socket. The REST
client keeps httpx's transport: its requests are small. Requests the environment sends through a proxy
(``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) go through httpx's transport, which speaks
to proxies.
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
import urllib.request
from collections.abc import Iterator

import httpx

READ_BYTES = 1024 * 1024
IDLE_CONNECTIONS_PER_STORE = 32  # more than the parts and files sent at once
DEFAULT_PORTS = {"http": 80, "https": 443}
SENT_AGAIN_ON_A_NEW_CONNECTION = ("GET", "HEAD")  # reads: the store did nothing a second one would repeat

Origin = tuple[str, str, int]


def _closed_while_idle(connection: http.client.HTTPConnection) -> bool:
    """An idle kept-alive connection that has something to read was closed by the store (or is out of
    step): sending on it would fail half-way, so it is not reused."""
    if connection.sock is None:
        return True
    poller = select.poll()  # not select(): it fails on descriptors past 1023
    poller.register(connection.sock, select.POLLIN)
    try:
        return bool(poller.poll(0))
    except OSError:
        return True


class StoreTransport(httpx.BaseTransport):
    """httpx's transport interface over ``http.client``, keeping connections to each store alive."""

    def __init__(self) -> None:
        self._ssl_context: ssl.SSLContext | None = None
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._proxies = urllib.request.getproxies_environment()
        self._through_proxies: dict[str, httpx.HTTPTransport] = {}

    def _proxy_for(self, url: httpx.URL) -> str | None:
        proxy = self._proxies.get(url.scheme) or self._proxies.get("all")
        if proxy is None or urllib.request.proxy_bypass_environment(url.host, self._proxies):
            return None
        return proxy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        proxy = self._proxy_for(request.url)
        if proxy is not None:
            with self._lock:
                through_proxy = self._through_proxies.get(proxy)
                if through_proxy is None:
                    through_proxy = self._through_proxies[proxy] = httpx.HTTPTransport(proxy=proxy)
            return through_proxy.handle_request(request)
        url = request.url
        if url.scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"a store is reached over http or https, not {url.scheme!r}", request=request)
        origin = (url.scheme, url.host, url.port or DEFAULT_PORTS[url.scheme])
        timeouts = request.extensions.get("timeout", {})
        connection, reused = self._idle_connection(origin), True
        if connection is None:
            connection, reused = self._new_connection(origin, timeouts.get("connect"), request), False
        while True:
            try:
                response = self._exchange(connection, request, timeouts)
                break
            except httpx.TransportError as exc:
                connection.close()
                lost = isinstance(exc, (httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError))
                if not (lost and reused and request.method in SENT_AGAIN_ON_A_NEW_CONNECTION):
                    raise
                # A kept-alive connection the store closed as it was taken (its end not yet seen): a read
                # goes once more, on a new connection.
                connection, reused = self._new_connection(origin, timeouts.get("connect"), request), False
        return httpx.Response(
            response.status,
            headers=response.getheaders(),
            stream=_ResponseBody(self, origin, connection, response, request),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason.encode("latin-1", "replace")},
        )

    def _idle_connection(self, origin: Origin) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(origin, [])
            while idle:
                connection = idle.pop()
                if not _closed_while_idle(connection):
                    return connection
                connection.close()
        return None

    def _new_connection(
        self, origin: Origin, connect_timeout: float | None, request: httpx.Request
    ) -> http.client.HTTPConnection:
        scheme, host, port = origin
        if scheme == "https":
            with self._lock:
                if self._ssl_context is None:
                    self._ssl_context = httpx.create_ssl_context()  # httpx's certificates and SSL_CERT_* variables
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, port, timeout=connect_timeout, context=self._ssl_context
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=connect_timeout)
        try:
            connection.connect()
        except OSError as exc:
            connection.close()
            raise _error(httpx.ConnectTimeout if isinstance(exc, TimeoutError) else httpx.ConnectError, exc, request) from exc
        return connection

    def _exchange(
        self, connection: http.client.HTTPConnection, request: httpx.Request, timeouts: dict
    ) -> http.client.HTTPResponse:
        """The request sent and the response's head read; httpx's error when either fails."""
        connection.sock.settimeout(timeouts.get("write"))
        try:
            self._send(connection, request)
            unsent = None
        except (OSError, http.client.HTTPException) as exc:
            # The store may answer before the whole body is sent (a refused signature) and close: its
            # answer says more than the broken pipe, so it is read all the same.
            unsent = exc
        try:
            connection.sock.settimeout(timeouts.get("read"))
            return connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            if unsent is not None:
                kind = httpx.WriteTimeout if isinstance(unsent, TimeoutError) else httpx.WriteError
                raise _error(kind, unsent, request) from unsent
            raise _read_error(exc, request) from exc

    @staticmethod
    def _send(connection: http.client.HTTPConnection, request: httpx.Request) -> None:
        connection.putrequest(request.method, request.url.raw_path.decode("ascii"), skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers.multi_items():
            connection.putheader(name, value)
        connection.endheaders()
        chunked = request.headers.get("Transfer-Encoding", "").lower() == "chunked"
        for chunk in request.stream:
            if chunked:
                if chunk:
                    connection.send(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            else:
                connection.send(chunk)
        if chunked:
            connection.send(b"0\r\n\r\n")

    def keep(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < IDLE_CONNECTIONS_PER_STORE:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle = [connection for connections in self._idle.values() for connection in connections]
            self._idle.clear()
            through_proxies = list(self._through_proxies.values())
            self._through_proxies.clear()
        for connection in idle:
            connection.close()
        for through_proxy in through_proxies:
            through_proxy.close()


def _error(kind: type[httpx.TransportError], exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """httpx's error of that kind, saying what ``http.client`` or the socket said."""
    return kind(f"{type(exc).__name__}: {exc}", request=request)


def _read_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    if isinstance(exc, TimeoutError):
        return _error(httpx.ReadTimeout, exc, request)
    if isinstance(exc, http.client.HTTPException):  # cut short, or not HTTP
        return _error(httpx.RemoteProtocolError, exc, request)
    return _error(httpx.ReadError, exc, request)


class _ResponseBody(httpx.SyncByteStream):
    """The response's bytes as the store sends them; its connection goes back to the idle ones once
    every byte was read, and is closed otherwise."""

    def __init__(
        self,
        transport: StoreTransport,
        origin: Origin,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        request: httpx.Request,
    ) -> None:
        self._transport = transport
        self._origin = origin
        self._connection: http.client.HTTPConnection | None = connection
        self._response = response
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        try:
            while chunk := self._response.read(READ_BYTES):
                yield chunk
            if self._response.length:
                # http.client ends a read early at the connection's end without a word; what the
                # Content-Length declared and did not come is left in ``length``.
                raise http.client.IncompleteRead(b"", self._response.length)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise _read_error(exc, self._request) from exc

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._response.isclosed() and not self._response.will_close:
            self._transport.keep(self._origin, connection)
        else:
            self._response.close()
            connection.close()

