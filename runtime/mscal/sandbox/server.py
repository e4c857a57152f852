"""Serving the sandbox with uvicorn: in the foreground, or on a background thread."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from mscal.sandbox.tls import TlsFiles


def serve(app: Starlette, host: str, port: int, tls: TlsFiles | None = None) -> None:
    uvicorn.Server(_config(app, tls, host=host, port=port)).run()


def _config(app: Starlette, tls: TlsFiles | None, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ssl_certfile=None if tls is None else tls.cert,
        ssl_keyfile=None if tls is None else tls.key,
        **options,
    )


class BackgroundServer:
    """Runs an app on a free loopback port in a thread; `with BackgroundServer(app) as url:`
    (https when given `tls` files)."""

    def __init__(
        self, app: Starlette, host: str = "127.0.0.1", port: int = 0, tls: TlsFiles | None = None
    ) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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
