"""The exact exchanges of a run, as the page shows them: each request as it went on the wire
(the token masked) and each response as it came back, with its time.

The recorder is the session's transport, so it sees what the runtime built after validation,
templates, the egress guard and the bearer token: nothing is assembled twice.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2

from mscal.secret import MASK

# Enough body for a person to read; a longer one is cut (and says so).
SHOWN_BYTES = 256 * 1024
_CREDENTIAL_HEADERS = {"authorization", "cookie", "proxy-authorization"}


def masked_headers(headers: httpx2.Headers) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name, value in headers.multi_items():
        if name.lower() in _CREDENTIAL_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            shown[name] = f"{scheme} {MASK}".strip()
        else:
            shown[name] = value
    return shown


def shown_body(content: bytes, content_type: str) -> Any:
    """JSON as JSON, text as text, cut at SHOWN_BYTES; bytes that are not text are counted."""
    if not content:
        return None
    cut = content[:SHOWN_BYTES]
    if "json" in content_type and len(content) <= SHOWN_BYTES:
        try:
            return json.loads(cut)
        except ValueError:
            pass
    try:
        text = cut.decode("utf-8")
    except UnicodeDecodeError:
        return f"({len(content)} bytes of {content_type or 'binary data'})"
    return text if len(content) <= SHOWN_BYTES else f"{text}\n… ({len(content)} bytes in all)"


class SharedTransport(httpx2.BaseTransport):
    """The studio's one connection pool (and TLS context, which costs ~100 ms to build): each
    run's session sends through it, and closing a session leaves it open."""

    def __init__(self, inner: httpx2.BaseTransport | None = None) -> None:
        self._inner = inner or httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return self._inner.handle_request(request)

    def close(self) -> None:
        return  # the studio closes the pool when it stops (`shutdown`)

    def shutdown(self) -> None:
        self._inner.close()


class RecordingTransport(httpx2.BaseTransport):
    """Sends through the shared transport and keeps what went out and came back."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self._inner = inner
        self.exchanges: list[dict[str, Any]] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        sent = request.read()
        began = time.perf_counter()
        exchange: dict[str, Any] = {
            "request": {
                "method": request.method,
                "url": str(request.url),
                "headers": masked_headers(request.headers),
                "body": shown_body(sent, request.headers.get("content-type", "")),
            }
        }
        self.exchanges.append(exchange)
        answer = self._inner.handle_request(request)
        raw = b"".join(answer.iter_raw())
        answer.close()
        elapsed = (time.perf_counter() - began) * 1000
        # A fresh response over the bytes read: the client decodes and reads it as usual.
        replay = httpx2.Response(
            answer.status_code,
            headers=answer.headers,
            content=raw,
            request=request,
            extensions=answer.extensions,
        )
        decoded = httpx2.Response(answer.status_code, headers=answer.headers, content=raw)
        exchange["response"] = {
            "status": answer.status_code,
            "headers": masked_headers(answer.headers),
            "body": shown_body(decoded.read(), answer.headers.get("content-type", "")),
            "ms": round(elapsed, 1),
        }
        return replay

    def close(self) -> None:
        self._inner.close()
