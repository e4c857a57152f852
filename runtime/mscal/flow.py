"""One operation call as a generator of steps: the pipeline's decisions, with no I/O.

The flow yields an `httpx2.Request` to send or a `Wait` to sleep, and is sent back the
`httpx2.Response` (or thrown the transport error). Its return value is the operation's result.
The sync and async drivers in `drivers.py` only carry out the steps, so both behave the same.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2

from mscal.error_mapping import graph_error
from mscal.errors import EgressError, PagingError, SpecError, TransportError
from mscal.guard import Origin, check_upload_url, check_url
from mscal.paging import PageTracker, Paginator
from mscal.retry import IDEMPOTENT_METHODS, RetryPolicy
from mscal.templating import Compiled, render


@dataclass(frozen=True)
class Wait:
    """Ask the driver to sleep before the next step."""

    seconds: float
    reason: str


@dataclass(frozen=True)
class Bare:
    """Ask the driver to send a request with no credentials at all (an upload URL)."""

    request: httpx2.Request


@dataclass(frozen=True)
class Upload:
    """A chunked upload step: bytes PUT in ranges to a URL the previous response gave."""

    url: Compiled
    content: Compiled
    chunk_size: int


Step = httpx2.Request | Bare | Wait
Flow = Generator[Step, "httpx2.Response | None", Any]


@dataclass(frozen=True)
class Call:
    """Everything one operation call needs, prepared and checked before the first step."""

    operation: str
    request: httpx2.Request
    context: Mapping[str, Any]
    origin: Origin
    client_request_id: str | None
    retry: RetryPolicy
    error_envelope: Mapping[str, Sequence[str]]
    paginator: Paginator | None = None
    follow_pages: bool = False
    max_items: int | None = None
    result: Compiled | None = None
    upload: Upload | None = None
    idempotent: bool = False


def operation_flow(call: Call) -> Flow:
    if call.paginator is None:
        response = yield from exchange(call, call.request)
        if call.upload is not None:
            response = yield from _upload(call, call.upload, response)
        return _result(call, response)
    return (yield from _paged(call, call.paginator))


def _paged(call: Call, paginator: Paginator) -> Flow:
    tracker = PageTracker(follow=call.follow_pages, max_items=call.max_items)
    request = call.request
    captured: dict[str, Any] | None = None
    while True:
        try:
            response = yield from exchange(call, request)
        except Exception as exc:
            if tracker.items:
                # Never a silently short success: say how far we got and where to resume.
                raise PagingError(
                    f"paging stopped after {len(tracker.items)} items: {exc}",
                    collected=len(tracker.items),
                    resume_link=str(request.url),
                ) from exc
            raise
        page = _body(response)
        if captured is None:
            captured = paginator.captured(page)
        link = tracker.add(paginator.items(page), paginator.next_link(page))
        if link is None:
            result: dict[str, Any] = {
                "value": tracker.items,
                "next_link": tracker.next_link,
                **captured,
            }
            if paginator.final_output:
                result[paginator.final_output] = paginator.final_link(page)
            return result
        request = follow_link(request, link, call.origin, collected=len(tracker.items))


def follow_link(
    previous: httpx2.Request, link: str, origin: Origin, *, collected: int = 0
) -> httpx2.Request:
    """A GET of a server-given link, verbatim, with the first request's headers."""
    try:
        url = check_url(link, origin)
    except EgressError as exc:
        raise PagingError(
            f"refused to follow a next link: {exc}", collected=collected, resume_link=None
        ) from None
    headers = [(k, v) for k, v in previous.headers.raw if k.lower() not in _NOT_CARRIED]
    return httpx2.Request("GET", url, headers=headers)


# Body framing does not apply to a GET; the token is added afresh by the auth flow.
_NOT_CARRIED = frozenset({b"host", b"content-type", b"content-length", b"authorization"})


def _upload(
    call: Call, upload: Upload, session: httpx2.Response
) -> Generator[Step, Any, httpx2.Response]:
    """PUT the content in ranges to the upload URL, sending no credentials there."""
    context = {
        **call.context,
        "body": _body(session),
        "status_code": session.status_code,
        "headers": dict(session.headers),
    }
    try:
        url = check_upload_url(render(upload.url, context), call.origin)
    except EgressError as exc:
        raise TransportError(f"{call.operation}: {exc}") from None
    content = render(upload.content, context)
    if not isinstance(content, bytes):
        raise SpecError(f"operation {call.operation!r}: the upload content must render to bytes")
    total = len(content)
    response = session
    for start in range(0, total, upload.chunk_size):
        end = min(start + upload.chunk_size, total) - 1
        chunk = httpx2.Request(
            "PUT",
            url,
            content=content[start : end + 1],
            headers={
                "Content-Range": f"bytes {start}-{end}/{total}",
                "Content-Type": "application/octet-stream",
            },
        )
        response = yield from exchange(call, chunk, bare=True)
    return response


def exchange(
    call: Call, request: httpx2.Request, *, bare: bool = False
) -> Generator[Step, Any, httpx2.Response]:
    """Send one request, retrying throttling and safe transport failures; map error statuses."""
    policy = call.retry
    attempt = 0
    while True:
        try:
            response: httpx2.Response = yield Bare(request) if bare else request
        except httpx2.TransportError as exc:
            if attempt < policy.max_retries and _may_resend(request, exc, call.idempotent):
                yield Wait(policy.delay(attempt, None), f"transport error: {type(exc).__name__}")
                attempt += 1
                continue
            raise TransportError(
                f"{request.method} {request.url.path}: {type(exc).__name__}: {exc}"
            ) from None
        if response.status_code in policy.statuses and attempt < policy.max_retries:
            reason = f"HTTP {response.status_code}"
            yield Wait(policy.delay(attempt, response.headers.get("Retry-After")), reason)
            attempt += 1
            continue
        if response.is_error:
            raise graph_error(response, call.error_envelope, call.client_request_id)
        return response


def _may_resend(request: httpx2.Request, exc: httpx2.TransportError, idempotent: bool) -> bool:
    # A connection that never opened carried nothing; anything later may have reached the
    # server, so only idempotent requests are sent again: by method, or because the operation
    # says so (create_event carries a transactionId that Graph de-duplicates).
    never_sent = isinstance(exc, (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout))
    return never_sent or idempotent or request.method in IDEMPOTENT_METHODS


def _body(response: httpx2.Response) -> Any:
    if not response.content:
        return None
    content_type = response.headers.get("content-type", "")
    if "json" in content_type:
        try:
            return response.json()
        except ValueError:
            return response.text
    return response.text


def _result(call: Call, response: httpx2.Response) -> Any:
    body = _body(response)
    if call.result is None:
        return body
    context = {
        **call.context,
        "body": body,
        "status_code": response.status_code,
        "headers": dict(response.headers),
    }
    return render(call.result, context)
