"""Graph's answer envelope: every failure becomes Graph's error body with Graph's headers
(`request-id`, `client-request-id`, `Date`), never a stack trace; and the injected dropped
connection."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mscal.sandbox.errors import GraphHTTPError, bad_request, not_found


async def answer(request: Request, handle: Callable[[], Awaitable[Response]]) -> Response:
    """Run a handler; every failure becomes Graph's envelope, with Graph's headers."""
    request_id = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id")
    headers = {
        "request-id": request_id,
        "client-request-id": client_request_id or request_id,
        "Date": formatdate(usegmt=True),
    }
    try:
        response = await handle()
    except GraphHTTPError as exc:
        body = exc.envelope(request_id, client_request_id, _now())
        return JSONResponse(body, status_code=exc.status, headers={**headers, **exc.headers})
    except Exception as exc:
        error = GraphHTTPError(
            500, "generalException", f"An unexpected error occurred: {type(exc).__name__}."
        )
        body = error.envelope(request_id, client_request_id, _now())
        return JSONResponse(body, status_code=500, headers=headers)
    response.headers.update(headers)
    return response


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


async def no_route(request: Request) -> Response:
    """Anything outside /v1.0, the identity platform, uploads and /_sandbox."""
    error = not_found(f"No route for {request.url.path}.")
    error.code = "ResourceNotFound"
    return JSONResponse(error.envelope(str(uuid.uuid4()), None, ""), status_code=404)


def method_not_allowed() -> GraphHTTPError:
    return GraphHTTPError(
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
    )


def unknown_segment(segment: str) -> GraphHTTPError:
    return bad_request(f"Resource not found for the segment '{segment}'.", "BadRequest")


def raw_path(request: Request) -> str:
    """The path as sent, still percent-encoded (Starlette's path params are decoded)."""
    raw: bytes = request.scope.get("raw_path") or request.url.path.encode()
    return raw.decode("latin-1").split("?", 1)[0]


class InjectedDropError(ConnectionAbortedError):
    """Raised after a response has started, so the server drops the connection mid-answer."""


class DroppedResponse(Response):
    """The request was handled (a write is committed) but the answer never completes."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"@odata.context":', "more_body": True})
        raise InjectedDropError(
            "fault injection: connection dropped after the request was committed"
        )


def _quiet_injected_drops(record: logging.LogRecord) -> bool:
    return not (record.exc_info and isinstance(record.exc_info[1], InjectedDropError))


# A dropped connection is what the fault asked for: uvicorn need not log it as an error.
logging.getLogger("uvicorn.error").addFilter(_quiet_injected_drops)
