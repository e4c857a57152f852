"""Refusals hold on a real socket: nothing connects, not one byte is sent.

A mock transport accepts requests the wire would not (a header name with a trailing newline, a
method with CR/LF), so these run the connector's own network stack against a plain TCP server
on 127.0.0.1 that counts the connections it accepts and the bytes it receives. One positive
control shows a good request does reach it, so a silent server cannot make the tests pass.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import mscal
from mscal.call.guard import FORBIDDEN_HEADERS
from mscal.io.session import Session

TOKEN = "wire-canary-token-4b1e"


class CountingServer:
    """A one-connection-at-a-time HTTP/1.1 responder that records what arrives.

    `settle()` makes the counts exact without sleeping: it opens a probe connection and waits
    until the server has accepted it; connections are accepted in order, so any connection the
    client opened before has been counted by then."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.body: dict[str, Any] = {"ok": True}
        self._changed = threading.Condition()
        self._peers: list[int] = []  # client ports, in the order they were accepted
        self._probes: set[int] = set()
        self._received: dict[int, bytes] = {}
        self._closing = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            conn, (_, peer) = self._listener.accept()
            if self._closing:
                conn.close()
                return
            with self._changed:
                self._peers.append(peer)
                self._changed.notify_all()
            with conn:
                self._answer(conn, peer)

    def _answer(self, conn: socket.socket, peer: int) -> None:
        conn.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            if b"\r\n\r\n" in data:
                body = json.dumps(self.body).encode()
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
        except OSError:
            pass
        with self._changed:
            self._received[peer] = data

    def settle(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port)) as probe:
            port = probe.getsockname()[1]
        with self._changed:
            self._probes.add(port)
            assert self._changed.wait_for(lambda: port in self._peers, timeout=5)

    def mark(self) -> int:
        with self._changed:
            return len(self._peers)

    def since(self, mark: int) -> tuple[int, int]:
        """Connections accepted and bytes received since `mark`, probes left out."""
        self.settle()
        with self._changed:
            peers = [peer for peer in self._peers[mark:] if peer not in self._probes]
            return len(peers), sum(len(self._received.get(peer, b"")) for peer in peers)

    def requests_since(self, mark: int) -> list[bytes]:
        self.settle()
        with self._changed:
            peers = [peer for peer in self._peers[mark:] if peer not in self._probes]
            return [self._received.get(peer, b"") for peer in peers]

    def close(self) -> None:
        # Closing a listener does not wake a thread blocked in accept(): connect once more.
        self._closing = True
        socket.create_connection(("127.0.0.1", self.port)).close()
        self._thread.join(timeout=5)
        self._listener.close()


@pytest.fixture(scope="module")
def server() -> Iterator[CountingServer]:
    counting = CountingServer()
    yield counting
    counting.close()


@pytest.fixture(scope="module")
def other_port() -> Iterator[CountingServer]:
    """A second server on another port of the same host: links there must not be followed."""
    counting = CountingServer()
    yield counting
    counting.close()


@pytest.fixture(scope="module")
def session(connector: mscal.Connector, server: CountingServer) -> Iterator[Session]:
    auth = connector.authentication(
        {"base_url": f"http://127.0.0.1:{server.port}/v1.0"}, access_token=TOKEN
    )
    with connector.session(auth) as opened:  # the real network stack, no mock transport
        yield opened


def refused(
    session: Session, server: CountingServer, operation: str, inputs: dict[str, Any]
) -> mscal.ConnectorError:
    """Run; it must fail with a typed error, and the server must have seen nothing at all."""
    mark = server.mark()
    with pytest.raises(mscal.ConnectorError) as caught:
        session.run(operation, inputs)
    assert server.since(mark) == (0, 0)
    return caught.value


def test_a_good_request_reaches_the_socket(session: Session, server: CountingServer) -> None:
    mark = server.mark()
    result = session.run(
        "raw_http_request", {"endpoint": "/me", "headers": {"X-Trace": "ok\tfine"}}
    )
    assert result["status_code"] == 200
    assert result["body"] == {"ok": True}
    (request,) = server.requests_since(mark)
    head = request.lower()
    assert request.startswith(b"GET /v1.0/me HTTP/1.1\r\n")
    assert f"authorization: bearer {TOKEN}\r\n".encode() in head
    assert b"x-trace: ok\tfine\r\n" in head


HEADER_VALUES = [
    "a\r\nInjected: 1",
    "a\nInjected: 1",
    "a\rInjected: 1",
    "a\x00b",
    "\r\n\r\nGET /evil HTTP/1.1",
    "a\x0bb",
    "caf\u00e9",
]
HEADER_NAMES = [
    "X-Test\r\nInjected",
    "X-Test\n",  # a trailing newline once slipped past a '$'-anchored check
    "X-Test\r",
    "X-Test\x00",
    "X\nTest",
    "X-Test ",
    " X-Test",
    "X-Test:",
    "X Test",
    "",
]
# Each header the connection sets itself, in the spellings a caller might use.
FORBIDDEN_SPELLINGS = sorted(
    {
        spelling
        for name in FORBIDDEN_HEADERS
        for spelling in (name, name.upper(), "-".join(part.title() for part in name.split("-")))
    }
)


@pytest.mark.parametrize("value", HEADER_VALUES)
def test_header_values_with_control_characters_never_reach_the_wire(
    session: Session, server: CountingServer, value: str
) -> None:
    error = refused(
        session, server, "raw_http_request", {"endpoint": "/me", "headers": {"X-Test": value}}
    )
    assert isinstance(error, mscal.InputError) and error.field == "headers"


@pytest.mark.parametrize("name", HEADER_NAMES)
def test_bad_header_names_never_reach_the_wire(
    session: Session, server: CountingServer, name: str
) -> None:
    error = refused(
        session, server, "raw_http_request", {"endpoint": "/me", "headers": {name: "1"}}
    )
    assert isinstance(error, mscal.InputError) and error.field == "headers"


@pytest.mark.parametrize("name", FORBIDDEN_SPELLINGS)
def test_headers_the_connection_sets_cannot_be_given(
    session: Session, server: CountingServer, name: str
) -> None:
    error = refused(
        session, server, "raw_http_request", {"endpoint": "/me", "headers": {name: "1"}}
    )
    assert isinstance(error, mscal.InputError) and error.field == "headers"


@pytest.mark.parametrize(
    "method",
    [
        "TRACE",
        "CONNECT",
        "OPTIONS",
        "HEAD",
        "PROPFIND",
        "GET\r\n",
        "GET\r\nX-Injected: 1",
        "GET /evil HTTP/1.1\r\n",
        "GET\x00",
        " GET",
        "get",
        "post",
        "delete",
        "trace",
        "Get",
        "",
    ],
)
def test_other_methods_never_reach_the_wire(
    session: Session, server: CountingServer, method: str
) -> None:
    error = refused(session, server, "raw_http_request", {"endpoint": "/me", "method": method})
    assert isinstance(error, mscal.InputError) and error.field == "method"


@pytest.mark.parametrize(
    "endpoint",
    [
        "/me HTTP/1.1\r\nHost: evil.example",
        "/me\r\nX-Injected: 1",
        "/me\x00",
        "/me%0d%0aX-Injected:%201",
        "//evil.example/me",
        "/../me",
        "/%2e%2e/beta",
        "/%c0%ae%c0%ae/beta",
        "/..;/beta",
    ],
)
def test_bad_endpoints_never_reach_the_wire(
    session: Session, server: CountingServer, endpoint: str
) -> None:
    error = refused(session, server, "raw_http_request", {"endpoint": endpoint})
    assert isinstance(error, mscal.InputError) and error.field == "endpoint"


def test_links_to_another_port_are_refused_and_that_port_sees_nothing(
    session: Session, server: CountingServer, other_port: CountingServer
) -> None:
    elsewhere = f"http://127.0.0.1:{other_port.port}/v1.0/me/events"
    other_mark = other_port.mark()

    error = refused(session, server, "list_events", {"next_link": elsewhere})
    assert isinstance(error, mscal.PagingError)
    error = refused(session, server, "sync_calendar_view", {"delta_link": elsewhere + "/delta"})
    assert isinstance(error, mscal.PagingError)

    # The server's own answer points there: the first page is fetched, the link is not.
    mark = server.mark()
    server.body = {"value": [1], "@odata.nextLink": elsewhere}
    try:
        with pytest.raises(mscal.PagingError) as caught:
            session.run("list_events", {"all_pages": True})
    finally:
        server.body = {"ok": True}
    assert caught.value.collected == 1
    assert server.since(mark)[0] == 1
    assert other_port.since(other_mark) == (0, 0)
