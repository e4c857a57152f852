"""The steps a call's flow yields to its driver, and what a call carries: the prepared request
and everything the flow decides with (retry policy, paging, limits, the clock)."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2

from mscal.call.error_mapping import ErrorHints
from mscal.call.guard import Origin
from mscal.call.limits import Limits
from mscal.call.paging import Paginator
from mscal.call.retry import RetryPolicy
from mscal.errors import DeadlineError
from mscal.templates.render import Compiled


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
    limits: Limits  # the spec's, as the operation and session adjust them: no default here
    paginator: Paginator | None = None
    follow_pages: bool = False
    max_items: int | None = None
    # Items of the first page to skip: a resumed listing's earlier run already returned them.
    skip_first: int = 0
    result: Compiled | None = None
    upload: Upload | None = None
    idempotent: bool = False
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
