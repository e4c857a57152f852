"""A hostile HTTP server on a real loopback socket: it answers whatever a test scripts (echoes
of credentials, redirects, broken token answers) and records every request it gets."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)


Script = Callable[[Seen], Answer]


@dataclass
class Hostile:
    url: str
    seen: list[Seen]
    script: list[Script]

    def answer(self, script: Script) -> None:
        self.script[0] = script


@contextmanager
def hostile_server() -> Iterator[Hostile]:
    seen: list[Seen] = []
    script: list[Script] = [lambda _: Answer(404)]

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request = Seen(
                self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
            )
            seen.append(request)
            answer = script[0](request)
            body = answer.body.encode() if isinstance(answer.body, str) else answer.body
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._any()

        def do_POST(self) -> None:
            self._any()

        def do_PUT(self) -> None:
            self._any()

        def do_PATCH(self) -> None:
            self._any()

        def do_DELETE(self) -> None:
            self._any()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Hostile(f"http://127.0.0.1:{server.server_address[1]}", seen, script)
    finally:
        server.shutdown()
        server.server_close()
