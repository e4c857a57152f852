"""One request's exchange, as flow steps: retries of throttling and of safe transport failures
(each decision logged with its reason on `mscal.retry`), redirects (credentials only on the
Graph origin), the deadline and the wait budget, and error statuses mapped to errors."""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

import httpx2

from mscal.call.error_mapping import graph_error
from mscal.call.guard import check_upload_url, check_url
from mscal.call.retry import IDEMPOTENT_METHODS
from mscal.call.steps import Budget, Call, Send, Step, Wait
from mscal.errors import EgressError, GraphError, TransportError

log = logging.getLogger("mscal.retry")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5

# Body framing does not apply to a GET; the token is added afresh by the auth flow.
NOT_CARRIED = frozenset({b"host", b"content-type", b"content-length", b"authorization"})
# All a request to another host (a redirect, an upload URL) may carry from the original.
_CARRIED_OFF_ORIGIN = frozenset({b"accept", b"user-agent"})


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
            raise TransportError(f"{failure}: {exc}{_where(request, exc)}") from None
        if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
            redirects += 1
            request, credentials = _redirected(call, request, response, redirects, credentials)
            continue
        if response.status_code in policy.statuses:
            told = response.headers.get("Retry-After")
            delay = policy.delay(attempt, told)
            reason = f"HTTP {response.status_code}" + (f" Retry-After {told!r}" if told else "")
            too_long = delay > policy.max_wait_seconds
            if attempt < policy.max_retries and not too_long and budget.may_wait(delay):
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
            why = _why_give_up(call, attempt, delay)
            raise throttling_error(call, response, attempts=attempt, delay=delay, why=why)
        if response.is_error:
            raise graph_error(
                response, call.error_envelope, call.client_request_id, call.error_hints
            )
        return response


def _why_give_up(call: Call, attempt: int, delay: float) -> str:
    if attempt >= call.retry.max_retries:
        return "the retries are used up"
    if delay > call.retry.max_wait_seconds:
        return (
            f"Graph asked for a wait of {delay:.0f} s, longer than the longest wait "
            f"({call.retry.max_wait_seconds:g} s)"
        )
    return "waiting longer would pass the operation's wait budget or deadline"


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
    call: Call, request: httpx2.Request, response: httpx2.Response, hops: int, credentials: bool
) -> tuple[httpx2.Request, bool]:
    """The request a redirect asks for, and whether it may carry credentials: only on the Graph
    origin, and only when the redirected request carried them (an upload host cannot send a
    chunk to Graph with the token). Elsewhere it goes bare (no Authorization, no cookies, no
    custom headers), only for a GET (a write answered with a redirect to another host is an
    error, never re-sent there as a GET), and only over https (or loopback when local)."""
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
        if request.method != "GET":
            raise EgressError(
                f"refused to follow a redirect of {request.method} to {target.host} "
                f"(HTTP {response.status_code}): a write is never re-sent off the Graph host, "
                "nor turned into a GET there; the write may not have happened"
            ) from None
        try:
            url = check_upload_url(str(target), call.origin)
        except EgressError as exc:
            raise EgressError(f"refused to follow a redirect: {exc}") from None
        headers = [(k, v) for k, v in request.headers.raw if k.lower() in _CARRIED_OFF_ORIGIN]
        log.info("%s: following a redirect to %s without credentials", call.operation, url.host)
        return httpx2.Request("GET", url, headers=headers), False
    if not credentials:
        raise EgressError(
            f"refused to follow a redirect from {request.url.host} to the Graph host: a request "
            "sent without credentials (an upload URL, another host) never gains the token"
        )
    not_carried = NOT_CARRIED - {b"content-type"} if content else NOT_CARRIED
    headers = [(k, v) for k, v in request.headers.raw if k.lower() not in not_carried]
    return httpx2.Request(method, url, headers=headers, content=content), True


def _where(request: httpx2.Request, exc: httpx2.TransportError) -> str:
    """Which host and port could not be reached, and what to check."""
    if not isinstance(exc, (httpx2.ConnectError, httpx2.ConnectTimeout)):
        return ""
    url = request.url
    port = url.port or (443 if url.scheme == "https" else 80)
    return (
        f" (could not connect to {url.host} port {port}: check the base URL, that the "
        "service is running there, and any proxy settings)"
    )


def _may_resend(request: httpx2.Request, exc: httpx2.TransportError, idempotent: bool) -> bool:
    # A connection that never opened carried nothing; anything later may have reached the
    # server, so only idempotent requests are sent again: by method, or because the operation
    # says so (create_event carries a transactionId that Graph de-duplicates).
    never_sent = isinstance(exc, (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout))
    return never_sent or idempotent or request.method in IDEMPOTENT_METHODS
