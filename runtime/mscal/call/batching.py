"""Packing prepared calls into JSON batches, and reading the answers back. No I/O.

The format is the spec's (`defaults.batch`: the path, how many requests a batch holds, the key
that chains a request to the one before, the status of a request that was not run). A batch
holds up to `max_requests` calls for one mailbox, run in order: each depends on the one
before (Graph runs a batch either wholly in parallel or wholly in sequence, and a sequential
one keeps a single request in flight at its mailbox). So a batch holds one of the mailbox's
concurrency slots, like a single request, and four batches at a time stay within Graph's limit.

When a request fails, the ones after it come back with the failed-dependency status (Graph:
424): they were not run, and go back in the queue. A throttled request (429/503/504) goes back
too, not before its `Retry-After`, until its retries are used up.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2

from mscal.call.error_mapping import graph_error
from mscal.call.exchange import throttling_error
from mscal.call.flow import result_of
from mscal.call.retry import IDEMPOTENT_METHODS
from mscal.call.steps import Call
from mscal.errors import ConnectorError, TransportError
from mscal.spec.defaults import Batch

# What an inner request carries: its own framing and the token come from the batch itself.
_NOT_PASSED = frozenset({"host", "content-length", "authorization", "accept-encoding"})


@dataclass
class Item:
    """One input's prepared call, waiting, in a batch, or done."""

    index: int
    call: Call
    attempts: int = 0
    not_before: float = 0.0


@dataclass(frozen=True)
class Outcome:
    """One input's result: a value, or a typed error."""

    index: int
    result: Any = None
    error: ConnectorError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        if self.error is None:
            return {"index": self.index, "ok": True, "result": self.result}
        return {"index": self.index, "ok": False, "error": self.error.to_dict()}


# The batch format as the spec declares it (kept under this name for the bulk runner).
BatchSpec = Batch


def batchable(call: Call) -> bool:
    """A call that is one request with a JSON body (or none), and no paging or upload."""
    if call.paginator is not None or call.upload is not None:
        return False
    content_type = call.request.headers.get("content-type", "")
    return not call.request.content or content_type.startswith("application/json")


def slot_key(call: Call) -> Hashable | None:
    if call.slot_of is None:
        return None
    return call.slot_of(_relative(call))


def _relative(call: Call) -> str:
    return call.origin.relative(call.request.url)


def batch_payload(items: Sequence[Item], spec: BatchSpec) -> dict[str, Any]:
    """The JSON batch: each request after the first depends on the one before it."""
    requests = []
    previous: str | None = None
    for item in items:
        request = item.call.request
        entry: dict[str, Any] = {
            "id": str(item.index),
            "method": request.method,
            "url": _relative(item.call),
            "headers": {
                name: value
                for name, value in request.headers.items()
                if name.lower() not in _NOT_PASSED
            },
        }
        if request.content:
            entry["body"] = json.loads(request.content)
        if previous is not None:
            entry[spec.depends_on] = [previous]
        requests.append(entry)
        previous = entry["id"]
    return {"requests": requests}


def batch_call(items: Sequence[Item], spec: BatchSpec, slot: Hashable | None) -> Call:
    """The batch as a call of its own: the runtime's retries, deadline and egress rules apply.
    It may be sent again after a lost answer only when every request in it may be."""
    first = items[0].call
    request = httpx2.Request(
        "POST",
        first.origin.join(spec.path),
        headers={"Accept": "application/json", "Content-Type": "application/json"},
        content=json.dumps(batch_payload(items, spec), separators=(",", ":")).encode(),
    )
    batch_id = str(uuid.uuid4())
    request.headers[spec.request_id_header] = batch_id
    return Call(
        operation=f"{first.operation} (batch of {len(items)})",
        request=request,
        context={},
        origin=first.origin,
        client_request_id=batch_id,
        retry=first.retry,
        error_envelope=first.error_envelope,
        idempotent=all(
            i.call.idempotent or i.call.request.method in IDEMPOTENT_METHODS for i in items
        ),
        limits=first.limits,
        error_hints=first.error_hints,
        slot_of=(lambda _path: slot) if slot is not None else None,
        clock=first.clock,
    )


@dataclass
class Settled:
    done: list[Outcome] = field(default_factory=list)
    again: list[Item] = field(default_factory=list)


def settle(items: Sequence[Item], answer: Any, now: float, spec: BatchSpec) -> Settled:
    """Each item's outcome from the batch's answer, or the items to send again."""
    settled = Settled()
    responses = answer.get("responses") if isinstance(answer, Mapping) else None
    by_id = {str(r.get("id")): r for r in responses or () if isinstance(r, Mapping) and "id" in r}
    for item in items:
        inner = by_id.get(str(item.index))
        if inner is None:
            missing = TransportError(f"{item.call.operation}: the batch answer left it out")
            settled.done.append(_failed(item, missing))
            continue
        status = _status(inner.get("status"))
        if status == spec.failed_dependency_status and item is not items[0]:
            settled.again.append(item)  # not run: an earlier request in the batch failed
            continue
        response = _as_response(item.call, inner)
        policy = item.call.retry
        if status in policy.statuses:
            delay = policy.delay(item.attempts, response.headers.get("Retry-After"))
            too_long = delay > policy.max_wait_seconds
            if item.attempts < policy.max_retries and not too_long:
                item.attempts += 1
                item.not_before = now + delay
                settled.again.append(item)
                continue
            error = throttling_error(
                item.call,
                response,
                attempts=item.attempts,
                delay=delay,
                why=(
                    f"Graph asked for a wait of {delay:.0f} s, longer than the longest wait "
                    f"({policy.max_wait_seconds:g} s)"
                    if too_long
                    else "the retries are used up"
                ),
            )
            settled.done.append(_failed(item, error))
            continue
        if response.is_error:
            error = graph_error(
                response,
                item.call.error_envelope,
                item.call.client_request_id,
                item.call.error_hints,
            )
            settled.done.append(_failed(item, error))
            continue
        try:
            settled.done.append(Outcome(item.index, result=result_of(item.call, response)))
        except ConnectorError as exc:
            settled.done.append(_failed(item, exc))
    return settled


def failed_batch(items: Sequence[Item], error: ConnectorError) -> list[Outcome]:
    """The batch itself failed (after its own retries): so did every request in it."""
    return [_failed(item, error) for item in items]


def _failed(item: Item, error: ConnectorError) -> Outcome:
    if error.client_request_id is None:
        error.client_request_id = item.call.client_request_id
    return Outcome(item.index, error=error)


def _as_response(call: Call, inner: Mapping[str, Any]) -> httpx2.Response:
    """An inner answer as an httpx2 response, so it maps and renders like a direct one."""
    given = inner.get("headers")
    headers = httpx2.Headers(
        {str(k): str(v) for k, v in given.items()} if isinstance(given, Mapping) else {}
    )
    body = inner.get("body")
    status = _status(inner.get("status"))
    if body is None:
        return httpx2.Response(status, headers=headers, request=call.request)
    if isinstance(body, str) and "json" not in headers.get("content-type", "").lower():
        return httpx2.Response(status, headers=headers, text=body, request=call.request)
    if "content-type" not in headers:
        headers["Content-Type"] = "application/json"
    content = json.dumps(body).encode()
    return httpx2.Response(status, headers=headers, content=content, request=call.request)


def _status(value: Any) -> int:
    """An inner answer's status; one that is no HTTP status reads as 502 (a bad gateway)."""
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return value
    if isinstance(value, str) and value.isdigit() and 100 <= int(value) <= 599:
        return int(value)
    return 502
