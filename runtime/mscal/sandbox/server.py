"""Serving the sandbox with uvicorn: in the foreground, or on a background thread."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from types import TracebackType
from typing import Any, TextIO

import uvicorn
from starlette.types import ASGIApp

from mscal.sandbox.tls import TlsFiles

GRACEFUL_SECONDS = 10


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is printed, so a busy port or an address
    that is not this machine's is refused cleanly (OSError) before the banner."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, so asyncio sets TCP_NODELAY on each connection (it checks the
    # protocol): without it an answer's body waits ~40 ms behind its headers (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def serve(
    app: ASGIApp, sock: socket.socket, tls: TlsFiles | None = None, *, quiet: bool = False
) -> None:
    """Serve in the foreground on a bound socket; one line per request on stderr unless quiet."""
    served: Any = app if quiet else RequestLog(app, sys.stderr)
    uvicorn.Server(_config(served, tls)).run(sockets=[sock])


def _config(app: Any, tls: TlsFiles | None, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        # On SIGTERM or Ctrl-C, requests in flight finish (each is bounded by the service's
        # request time limit); past this, they are cancelled and the server stops anyway.
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        ssl_certfile=None if tls is None else tls.cert,
        ssl_keyfile=None if tls is None else tls.key,
        **options,
    )


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class RequestLog:
    """One line per request: client, method, path (never the query, which can carry an upload
    URL's own credential), status and time taken."""

    def __init__(self, app: Any, stream: TextIO) -> None:
        self._app = app
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self._app(scope, receive, send)
            return
        began = time.perf_counter()
        status = [0]

        async def sending(message: Message) -> None:
            if message.get("type") == "http.response.start":
                status[0] = int(message.get("status", 0))
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            client = (scope.get("client") or ("-",))[0]
            took = (time.perf_counter() - began) * 1000
            path = scope.get("path", "")
            line = f"{client} {scope.get('method', '-')} {path} {status[0] or '-'} {took:.0f} ms"
            print(line, file=self._stream, flush=True)


class BackgroundServer:
    """Runs an app on a free loopback port in a thread; `with BackgroundServer(app) as url:`
    (https when given `tls` files)."""

    def __init__(
        self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, tls: TlsFiles | None = None
    ) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        self.scheme = "http" if tls is None else "https"
        self._server = uvicorn.Server(_config(app, tls, lifespan="off"))
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            daemon=True,
            name="mscal-sandbox",
        )

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the local Graph service did not start")
            time.sleep(0.01)
        return self.url

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=2)
        if self._thread.is_alive():
            # Still waiting on connections its clients kept alive and never closed (closing a
            # TLS connection waits for the peer's answer, up to half a minute): stop waiting.
            self._server.force_exit = True
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
