"""The service's guard on the wire, in front of every route (Graph, `$batch`, the identity
platform, uploads, `/_sandbox`): what a hostile client sends is refused the way Graph refuses
it, and no single request can stall the others.

- A body over Graph's 4 MB (plus room for an upload's 4 MiB range) is refused with 413 before it
  is read further, declared or streamed.
- A JSON body is read strictly before any handler sees it: nesting over 64 levels, an integer
  of more than 4,300 digits, NaN or Infinity (not JSON), a number too large for a double, or a
  lone surrogate (which no UTF-8 answer could carry, and which would poison every later read of
  the mailbox) is a 400, so nothing of it is stored.
- Every request has a time limit (504 past it, its mailbox slot released).
- Starlette's own plain-text answers (400, 404, 405) and anything that escapes a handler become
  Graph's error envelope with Graph's headers, or the identity platform's error shape under
  `/oauth2/`; never a stack trace, never plain text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mscal.sandbox.errors import GraphHTTPError

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Message, Receive, Send], Awaitable[None]]

# Graph refuses JSON bodies over 4 MB; an upload session's range is at most 4 MiB.
MAX_BODY_BYTES = (4 << 20) + (64 << 10)
MAX_JSON_DEPTH = 64
MAX_INT_DIGITS = 4300
# Long enough for a slow fault (`delay=`) a test asks for; short enough that nothing hangs.
REQUEST_SECONDS = 30.0
_JSON_PATHS = ("/v1.0/", "/_sandbox/")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Refused(Exception):  # noqa: N818 (a refusal, not an error of the service)
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class WireGuard:
    """Pure ASGI middleware (Starlette's `Middleware(WireGuard)`)."""

    def __init__(self, app: App, request_seconds: float = REQUEST_SECONDS) -> None:
        self.app = app
        self.request_seconds = request_seconds

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(scope, receive)
            _check_json(scope, body)
        except Refused as refused:
            await _send_error(scope, send, refused.status, refused.code, refused.message)
            return
        await self._guarded(scope, _replay(body, receive), send)

    async def _guarded(self, scope: Message, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = {"started": False, "plain": None}

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = {bytes(k).lower(): v for k, v in message.get("headers", [])}
                plain = headers.get(b"content-type", b"").startswith(b"text/plain")
                if message["status"] >= 400 and plain:
                    state["plain"] = (message["status"], b"")  # rewritten below
                    return
                if b"request-id" not in headers:  # Graph's headers are on every answer
                    message = {**message, "headers": [*message.get("headers", []), *_ids(scope)]}
                state["started"] = True
            elif message["type"] == "http.response.body" and state["plain"] is not None:
                status, text = state["plain"]
                text += message.get("body", b"")
                state["plain"] = (status, text)
                if message.get("more_body"):
                    return
                state["started"] = True
                reason = text.decode("utf-8", "replace").strip() or "Invalid request."
                await _send_error(scope, send, status, _CODES.get(status, "BadRequest"), reason)
                return
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, guarded_send), self.request_seconds)
        except TimeoutError:
            if not state["started"]:
                await _send_error(
                    scope,
                    send,
                    504,
                    "GatewayTimeout",
                    f"The request did not complete within {self.request_seconds:g} seconds.",
                )
        except Exception:
            if state["started"]:
                raise  # an answer is half sent (an injected drop): the connection goes
            await _send_error(scope, send, 500, "generalException", "An unexpected error occurred.")


_CODES = {400: "BadRequest", 404: "ResourceNotFound", 405: "Request_BadRequest"}


async def _read_body(scope: Message, receive: Receive) -> bytes:
    declared = _header(scope, b"content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Refused(400, "BadRequest", "The Content-Length header is not a number.")
        if int(declared) > MAX_BODY_BYTES:
            raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _too_large() -> Refused:
    return Refused(
        413,
        "RequestEntityTooLarge",
        f"The request body is larger than the maximum of {MAX_BODY_BYTES} bytes; larger files "
        "go through an upload session.",
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _check_json(scope: Message, body: bytes) -> None:
    path = str(scope.get("path", ""))
    if not body or not path.startswith(_JSON_PATHS) or scope.get("method") == "GET":
        return
    content_type = (_header(scope, b"content-type") or "").lower()
    if content_type and "json" not in content_type:
        return  # a form or a text body: the handler decides
    try:
        value = json.loads(body, parse_int=_integer, parse_float=_number, parse_constant=_constant)
    except Refused:
        raise
    except RecursionError:
        raise _bad(f"The JSON payload is nested more than {MAX_JSON_DEPTH} levels deep.") from None
    except (ValueError, UnicodeDecodeError):
        return  # not JSON at all: the handler answers in its own words
    _walk(value)


def _bad(message: str) -> Refused:
    return Refused(400, "BadRequest", message)


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _bad(f"A number in the JSON payload has more than {MAX_INT_DIGITS} digits.")
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _bad(f"The number {text[:40]} in the JSON payload is out of range.")
    return value


def _constant(text: str) -> Any:
    raise _bad(f"{text} is not a valid JSON value.")


def _walk(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _bad(f"The JSON payload is nested more than {MAX_JSON_DEPTH} levels deep.")
        items = list(node.items()) if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            for text in (key, child):
                if isinstance(text, str) and not text.isascii() and _LONE_SURROGATE.search(text):
                    raise _bad(
                        "The JSON payload contains a lone surrogate (such as \\ud800), which is "
                        "not a character."
                    )
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))


def _header(scope: Message, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _ids(scope: Message) -> list[tuple[bytes, bytes]]:
    request_id = str(uuid.uuid4())
    client_request_id = _header(scope, b"client-request-id") or request_id
    return [
        (b"request-id", request_id.encode()),
        (b"client-request-id", client_request_id.encode("latin-1", "replace")),
    ]


def error_body(
    path: str, status: int, code: str, message: str, request_id: str, client_request_id: str | None
) -> Any:
    """Graph's error envelope, or the identity platform's error shape under /oauth2/."""
    if "/oauth2/" in path:
        # The identity platform's own error shape.
        return {
            "error": "invalid_request" if status < 500 else "server_error",
            "error_description": f"AADSTS900144: {message}",
            "timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": request_id,
            "correlation_id": client_request_id or request_id,
        }
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return GraphHTTPError(status, code, message).envelope(request_id, client_request_id, date)


async def _send_error(scope: Message, send: Send, status: int, code: str, message: str) -> None:
    request_id = str(uuid.uuid4())
    client_request_id = _header(scope, b"client-request-id")
    path = str(scope.get("path", ""))
    body = error_body(path, status, code, message, request_id, client_request_id)
    content = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        (b"request-id", request_id.encode()),
        (b"client-request-id", (client_request_id or request_id).encode("latin-1", "replace")),
    ]  # no Date: the server sends one on every answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content, "more_body": False})
