"""One operation call as a generator of steps: the pipeline's decisions, with no I/O.

The flow yields a `Send` (a request, whether it may carry credentials, its mailbox slot and its
size cap) or a `Wait`, and is sent back the `httpx2.Response` (or thrown the transport error).
Its return value is the operation's result. One request's exchange (retries, redirects) is in
`exchange.py`, the steps and the call in `steps.py`. The sync and async drivers in
`io/drivers.py` only carry out the steps, so both behave the same. The flow reads the clock
(injected) to keep the operation's deadline and wait budget.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx2

from mscal.call.exchange import NOT_CARRIED, exchange
from mscal.call.guard import Origin, check_upload_url, check_url
from mscal.call.paging import PageTracker, Paginator, resume_link
from mscal.call.steps import Budget, Call, Flow, Page, PageFlow, Step, Upload
from mscal.errors import ConnectorError, EgressError, PagingError, SpecError, TransportError
from mscal.templates.render import output_cap, render


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
    skip = call.skip_first  # items of the first page an earlier run already returned
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
                resume_link=resume_link(str(request.url), skip),
            )
            stopped.request_id, stopped.date = exc.request_id, exc.date
            raise stopped from exc
        page = _body(response)
        if captured is None:
            captured = paginator.captured(page)
        items, link = tracker.add(
            paginator.items(page)[skip:],
            paginator.next_link(page),
            page_url=str(request.url),
            skipped=skip,
        )
        skip = 0
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
    headers = [(k, v) for k, v in previous.headers.raw if k.lower() not in NOT_CARRIED]
    return httpx2.Request("GET", url, headers=headers)


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
    with output_cap(call.limits.template_chars):
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
    with output_cap(call.limits.template_chars):
        return render(call.result, context)
