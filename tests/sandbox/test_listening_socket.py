"""The service's sockets say they are TCP, so asyncio turns Nagle's algorithm off for each
connection (it sets TCP_NODELAY only on sockets whose protocol is IPPROTO_TCP). Without it an
answer's body waited ~40 ms behind its headers for the client's delayed ACK: 44 ms a request
instead of 1 ms, measured on loopback."""

from __future__ import annotations

import socket

from mscal.sandbox.server import listen


def test_the_listening_socket_is_tcp_so_connections_get_tcp_nodelay() -> None:
    sock = listen("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        client = socket.create_connection(sock.getsockname()[:2])
        accepted, _ = sock.accept()
        try:
            assert accepted.proto == socket.IPPROTO_TCP  # what asyncio's _set_nodelay checks
        finally:
            accepted.close()
            client.close()
    finally:
        sock.close()
