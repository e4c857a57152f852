"""One operation call as a generator of steps: the pipeline's decisions, with no I/O.

The flow yields a `Send` (a request, whether it may carry credentials, its mailbox slot and its
size cap) or a `Wait`, and is sent back the `httpx2.Response` (or thrown the transport error).
Its return value is the operation's result. The sync and async drivers in `drivers.py` only
carry out the steps, so both behave the same. The flow reads the clock (injected) to keep the
operation's deadline and wait budget, and logs each retry decision with its reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2

from mscal.call.error_mapping import ErrorHints, graph_error
from mscal.call.guard import Origin, check_upload_url, check_url
from mscal.call.limits import Limits
from mscal.call.paging import PageTracker, Paginator
from mscal.call.retry import IDEMPOTENT_METHODS, RetryPolicy
from mscal.errors import (
    ConnectorError,
    DeadlineError,
    EgressError,
    GraphError,
    PagingError,
    SpecError,
    TransportError,
)
from mscal.templates.render import Compiled, render

log = logging.getLogger("mscal.retry")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Wait:
    """Ask the driver to sleep before the next step."""

    seconds: float
    reason: str


@dataclass(frozen=True, slots=True)
class Send:
    """Ask the driver to send a request.

    `credentials` is False for a URL off the Graph origin (an upload URL, a redirect to another
    host): the driver then sends it with no auth at all. `slot` names the mailbox whose
    concurrency slot the request must hold; `max_bytes` caps the response body.
    """

    request: httpx2.Request
    credentials: bool = True
    slot: Hashable | None = None
    max_bytes: int | None = None


@dataclass(frozen=True)
class Upload:
    """A chunked upload step: bytes PUT in ranges to a URL the previous response gave."""

    url: Compiled
    content: Compiled
    chunk_size: int


@dataclass(frozen=True, slots=True)
class Page:
    """One page's items for a lazy reader: the driver hands them out, then resumes the flow."""

    items: list[Any]


Step = Send | Wait
Flow = Generator[Step, "httpx2.Response | None", Any]
# A flow that hands out pages as they arrive (`iterate`) instead of collecting them.
PageFlow = Generator[Step | Page, "httpx2.Response | None", Any]


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
    limits: Limits = field(default_factory=Limits)
    error_hints: ErrorHints = ()
    # The mailbox slot key of a request path (after the base path), when slots are kept.
    slot_of: Callable[[str], Hashable | None] | None = None
    clock: Callable[[], float] = time.monotonic


class Budget:
    """What one operation has spent of its deadline and of its wait budget."""

    __slots__ = ("call", "deadline", "waited")

    def __init__(self, call: Call) -> None:
        self.call = call
        seconds = call.limits.deadline_seconds
        self.deadline = None if seconds is None else call.clock() + seconds
        self.waited = 0.0

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.call.clock()

    def may_wait(self, seconds: float) -> bool:
        remaining = self.remaining()
        within_budget = self.waited + seconds <= self.call.retry.wait_budget_seconds
        return within_budget and (remaining is None or seconds < remaining)

    def expired(self) -> DeadlineError:
        seconds = self.call.limits.deadline_seconds
        return DeadlineError(
            f"{self.call.operation}: the operation's deadline of {seconds:g} s passed"
        )


def operation_flow(call: Call) -> Flow:
    """The whole operation; a paged one collects every page it follows into `value`."""
    try:
        return (yield from _steps(call))
    except ConnectorError as exc:
        _stamp(exc, call)
        raise


def page_flow(call: Call) -> PageFlow:
    """A paged operation that hands out each page (`Page`) as it arrives; returns the rest of
    the result (next_link, captured values, the delta link)."""
    if call.paginator is None:
        raise SpecError(f"operation {call.operation!r} is not paged")
    try:
        return (yield from _pages(call, Budget(call), call.paginator))
    except ConnectorError as exc:
        _stamp(exc, call)
        raise


def _stamp(exc: ConnectorError, call: Call) -> None:
    # Every error of an operation names its client-request-id, for support to trace.
    if exc.client_request_id is None:
        exc.client_request_id = call.client_request_id


def _steps(call: Call) -> Flow:
    budget = Budget(call)
    if call.paginator is None:
        response = yield from exchange(call, budget, call.request)
        if call.upload is not None:
            response = yield from _upload(call, budget, call.upload, response)
        return result_of(call, response)
    items: list[Any] = []
    pages = _pages(call, budget, call.paginator)
    step = next(pages)
    try:
        while True:
            if isinstance(step, Page):
                items.extend(step.items)
                step = pages.send(None)
                continue
            try:
                reply = yield step
            except BaseException as exc:
                step = pages.throw(exc)
                continue
            step = pages.send(reply)
    except StopIteration as stop:
        return {"value": items, **stop.value}


def _pages(call: Call, budget: Budget, paginator: Paginator) -> PageFlow:
    tracker = PageTracker(follow=call.follow_pages, max_items=call.max_items)
    request = call.request
    captured: dict[str, Any] | None = None
    while True:
        try:
            response = yield from exchange(call, budget, request)
        except ConnectorError as exc:
            if not tracker.count or isinstance(exc, PagingError):
                raise
            # Never a silently short success: say how far we got and where to resume.
            stopped = PagingError(
                f"paging stopped after {tracker.count} items: {exc}",
                collected=tracker.count,
                resume_link=str(request.url),
            )
            stopped.request_id, stopped.date = exc.request_id, exc.date
            raise stopped from exc
        page = _body(response)
        if captured is None:
            captured = paginator.captured(page)
        items, link = tracker.add(paginator.items(page), paginator.next_link(page))
        yield Page(items)
        if link is None:
            rest: dict[str, Any] = {"next_link": tracker.next_link, **captured}
            if paginator.final_output:
                rest[paginator.final_output] = paginator.final_link(page)
            return rest
        request = follow_link(request, link, call.origin, collected=tracker.count)


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
# All a request to another host (a redirect, an upload URL) may carry from the original.
_CARRIED_OFF_ORIGIN = frozenset({b"accept", b"user-agent"})


def _upload(
    call: Call, budget: Budget, upload: Upload, session: httpx2.Response
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
        response = yield from exchange(call, budget, chunk, credentials=False)
    return response


def exchange(
    call: Call, budget: Budget, request: httpx2.Request, *, credentials: bool = True
) -> Generator[Step, Any, httpx2.Response]:
    """Send one request: retry throttling and safe transport failures, follow redirects (with
    credentials only on the Graph origin), keep the deadline; map error statuses."""
    policy = call.retry
    attempt = redirects = 0
    while True:
        remaining = budget.remaining()
        if remaining is not None and remaining <= 0:
            raise budget.expired()
        timeouts = call.limits.timeouts(remaining)
        if timeouts is not None:
            request.extensions = {**request.extensions, "timeout": timeouts}
        slot = None
        if credentials and call.slot_of is not None:
            slot = call.slot_of(call.origin.relative(request.url))
        try:
            response: httpx2.Response = yield Send(
                request, credentials, slot, call.limits.response_bytes
            )
        except httpx2.TransportError as exc:
            remaining = budget.remaining()
            if remaining is not None and remaining <= 0:
                raise budget.expired() from None
            failure = f"{request.method} {request.url.path}: {type(exc).__name__}"
            if not _may_resend(request, exc, call.idempotent):
                log.info(
                    "%s: not resending after %s: it may have reached Graph and %s is not "
                    "idempotent [client-request-id %s]",
                    call.operation,
                    failure,
                    request.method,
                    call.client_request_id,
                )
            elif attempt < policy.max_retries:
                delay = policy.delay(attempt, None)
                if budget.may_wait(delay):
                    yield _wait(call, delay, attempt, f"transport error: {failure}")
                    budget.waited += delay
                    attempt += 1
                    continue
            raise TransportError(f"{failure}: {exc}") from None
        if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
            redirects += 1
            request, credentials = _redirected(call, request, response, redirects)
            continue
        if response.status_code in policy.statuses:
            told = response.headers.get("Retry-After")
            delay = policy.delay(attempt, told)
            reason = f"HTTP {response.status_code}" + (f" Retry-After {told!r}" if told else "")
            if attempt < policy.max_retries and budget.may_wait(delay):
                yield _wait(call, delay, attempt, reason)
                budget.waited += delay
                attempt += 1
                continue
            log.info(
                "%s: giving up after %d retries (%s); retry after %.0f s [client-request-id %s]",
                call.operation,
                attempt,
                reason,
                delay,
                call.client_request_id,
            )
            why = (
                "the retries are used up"
                if attempt >= call.retry.max_retries
                else "waiting longer would pass the operation's wait budget or deadline"
            )
            raise throttling_error(call, response, attempts=attempt, delay=delay, why=why)
        if response.is_error:
            raise graph_error(
                response, call.error_envelope, call.client_request_id, call.error_hints
            )
        return response


def _wait(call: Call, delay: float, attempt: int, reason: str) -> Wait:
    log.info(
        "%s: retry %d of %d in %.2f s after %s [client-request-id %s]",
        call.operation,
        attempt + 1,
        call.retry.max_retries,
        delay,
        reason,
        call.client_request_id,
    )
    return Wait(delay, reason)


def throttling_error(
    call: Call, response: httpx2.Response, *, attempts: int, delay: float, why: str
) -> GraphError:
    """Giving up on a throttled request: Graph's error, and when to try again."""
    advice = f"Gave up after {attempts} retries ({why}); try again in {delay:.0f} s."
    return graph_error(
        response, call.error_envelope, call.client_request_id, giving_up=(delay, advice)
    )


def _redirected(
    call: Call, request: httpx2.Request, response: httpx2.Response, hops: int
) -> tuple[httpx2.Request, bool]:
    """The request a redirect asks for, and whether it may carry credentials: only on the Graph
    origin. Elsewhere it goes bare (no Authorization, no cookies, no custom headers), only for a
    GET, and only over https (or loopback when the connection is local)."""
    if hops > MAX_REDIRECTS:
        raise TransportError(
            f"{request.method} {request.url.path}: more than {MAX_REDIRECTS} redirects"
        )
    target = request.url.join(response.headers["location"])
    keep_method = response.status_code in {307, 308}
    method = request.method if keep_method else "GET"
    content = request.content if keep_method and method != "GET" else None
    try:
        url = check_url(target, call.origin)
    except EgressError:
        if method != "GET":
            raise EgressError(
                f"refused to follow a redirect of {method} to {target.host}: "
                "a body is never sent off the Graph host"
            ) from None
        try:
            url = check_upload_url(str(target), call.origin)
        except EgressError as exc:
            raise EgressError(f"refused to follow a redirect: {exc}") from None
        headers = [(k, v) for k, v in request.headers.raw if k.lower() in _CARRIED_OFF_ORIGIN]
        log.info("%s: following a redirect to %s without credentials", call.operation, url.host)
        return httpx2.Request("GET", url, headers=headers), False
    not_carried = _NOT_CARRIED - {b"content-type"} if content else _NOT_CARRIED
    headers = [(k, v) for k, v in request.headers.raw if k.lower() not in not_carried]
    return httpx2.Request(method, url, headers=headers, content=content), True


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


def result_of(call: Call, response: httpx2.Response) -> Any:
    """The operation's output from its (last) response: the body, or what `result` makes of it."""
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
