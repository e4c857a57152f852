"""Graph's answer envelope: every failure becomes Graph's error body, never a stack trace; every
answer gets Graph's headers (`request-id`, `client-request-id`, `OData-Version`, Graph's JSON
`Content-Type`, a `WWW-Authenticate` challenge on 401); and the injected dropped connection."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mscal.sandbox.errors import GraphHTTPError, bad_request, not_found
from mscal.sandbox.http.wire_guard import error_body

_log = logging.getLogger("mscal.sandbox")
# What a request's values make domain code raise: answered 400, never 500.
_FROM_INPUT = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    UnicodeError,
)
# What Graph's OData layer puts on every JSON answer.
GRAPH_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8"
)
# Graph's first-party application id, named in its 401 challenge.
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


async def answer(request: Request, handle: Callable[[], Awaitable[Response]]) -> Response:
    """Run a handler; every failure becomes Graph's envelope, with Graph's headers.

    The `Date` header is the server's (uvicorn sends one on every answer): adding another here
    would send two."""
    request_id = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id")
    headers = {
        "request-id": request_id,
        "client-request-id": client_request_id or request_id,
        "OData-Version": "4.0",
    }
    try:
        response = await handle()
    except GraphHTTPError as exc:
        response = _error(exc, request, request_id, client_request_id)
    except _FROM_INPUT as exc:
        # What a request's values make the domain code raise (a wrong type, a date past 9999,
        # a filter nested too deep, an unknown time zone): the request's fault, so a 400.
        error = GraphHTTPError(400, "BadRequest", f"The request is invalid ({type(exc).__name__}).")
        response = _error(error, request, request_id, client_request_id)
    except Exception as exc:
        # The caller gets Graph's envelope; the service's own log keeps the trace to fix it.
        _log.exception("unexpected error answering %s %s", request.method, request.url.path)
        error = GraphHTTPError(
            500, "generalException", f"An unexpected error occurred: {type(exc).__name__}."
        )
        response = _error(error, request, request_id, client_request_id)
    response.headers.update(headers)
    if response.headers.get("content-type", "").startswith("application/json"):
        response.headers["content-type"] = GRAPH_JSON
    return response


def _error(
    error: GraphHTTPError, request: Request, request_id: str, client_request_id: str | None
) -> Response:
    body = error.envelope(request_id, client_request_id, _now())
    response = JSONResponse(body, status_code=error.status, headers=error.headers)
    if error.status == 401 and "www-authenticate" not in response.headers:
        # Graph's challenge names where a token comes from and for which resource.
        origin = f"{request.url.scheme}://{request.url.netloc}"
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="", authorization_uri="{origin}/common/oauth2/authorize", '
            f'client_id="{GRAPH_APP_ID}"'
        )
    return response


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


async def no_route(request: Request) -> Response:
    """Anything outside /v1.0, the identity platform, uploads and /_sandbox."""
    if "/oauth2/" in request.url.path:
        # A method the identity platform does not take there: its own error shape.
        body = error_body(
            request.url.path,
            405,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
            str(uuid.uuid4()),
            request.headers.get("client-request-id"),
        )
        return JSONResponse(body, status_code=405)

    async def refuse() -> Response:
        error = not_found(f"No route for {request.url.path}.")
        error.code = "ResourceNotFound"
        raise error

    return await answer(request, refuse)


def method_not_allowed(allowed: Iterable[str]) -> GraphHTTPError:
    return GraphHTTPError(
        405,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
        {"Allow": ", ".join(sorted(set(allowed)))},
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
