"""Fault injection and Graph's per-mailbox concurrency limit.

A fault is written as `key=value` words, e.g. `status=429 retry-after=1 times=2 path=/events`:

- `status=N` answers with that status and Graph's error envelope (`retry-after=` adds the header,
  `code=` overrides the error code);
- `delay=SECONDS` answers slowly (after the delay, the request is handled as usual);
- `latency=SECONDS` is a network round trip: like `delay`, but only for requests that come
  over the network, not for the requests inside a JSON batch;
- `drop` handles the request (so a write is committed) and then drops the connection before
  the response is complete;
- `expire-token` expires the caller's token first, so the request gets a 401;
- `status=3xx location=URL` redirects there;
- `times=N` applies it to the next N matching requests only (default: every one);
- `after=N` lets the first N matching requests through untouched;
- `method=` and `path=` (a regular expression searched in the path) choose the requests.
  Paths are matched by RE2 (linear time: `(a+)+$` cannot stall the service; no backreferences
  or lookarounds), and a `delay` or `latency` is at most 60 seconds.

Per run: `mscal sandbox --fault "..."`, `create_sandbox(faults=[...])` or `POST /_sandbox/faults`.
Per request: an `X-Sandbox-Fault` header with the same words.
"""

from __future__ import annotations

import math
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import re2

from mscal.sandbox.errors import GraphHTTPError

FAULT_HEADER = "x-sandbox-fault"
MAX_DELAY_SECONDS = 60.0
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is reported to the caller, not to stderr
MAILBOX_CONCURRENCY = 4
_CODES = {
    429: ("TooManyRequests", "Please retry again later."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
    504: ("UnknownError", "The gateway timed out."),
}


@dataclass
class Fault:
    status: int | None = None
    retry_after: str | None = None
    code: str | None = None
    delay: float = 0.0
    latency: float = 0.0
    drop: bool = False
    expire_token: bool = False
    times: int | None = None
    after: int = 0
    location: str | None = None
    method: str | None = None
    path: str | None = None
    pattern: Any = None  # the compiled RE2 of `path`

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return self.pattern is None or self.pattern.search(path) is not None

    def error(self) -> GraphHTTPError:
        status = self.status or 500
        code, message = _CODES.get(status, ("generalException", "An injected failure."))
        headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
        if self.location is not None:
            headers["Location"] = self.location
        return GraphHTTPError(status, self.code or code, message, headers)


def parse_fault(text: str) -> Fault:
    fault = Fault()
    for word in re.split(r"[\s;]+", text.strip()):
        if not word:
            continue
        key, _, value = word.partition("=")
        key = key.lower()
        try:
            if key == "status":
                fault.status = int(value)
            elif key == "retry-after":
                fault.retry_after = value
            elif key == "code":
                fault.code = value
            elif key == "delay":
                fault.delay = _seconds(value)
            elif key == "latency":
                fault.latency = _seconds(value)
            elif key == "drop":
                fault.drop = True
            elif key == "expire-token":
                fault.expire_token = True
            elif key == "times":
                fault.times = int(value)
            elif key == "after":
                fault.after = int(value)
            elif key == "location":
                fault.location = value
            elif key == "method":
                fault.method = value
            elif key == "path":
                fault.pattern = re2.compile(value, _RE2_OPTIONS)
                fault.path = value
            else:
                raise ValueError(f"unknown fault word {key!r}")
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
            raise ValueError(f"invalid fault {text!r}: path: {reason}") from None
        except ValueError as exc:
            raise ValueError(f"invalid fault {text!r}: {exc}") from None
    if fault.status is not None and not 100 <= fault.status <= 599:
        raise ValueError(f"invalid fault {text!r}: status must be 100 to 599")
    return fault


def _seconds(value: str) -> float:
    seconds = float(value)
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_DELAY_SECONDS:
        raise ValueError(f"a delay is 0 to {MAX_DELAY_SECONDS:g} seconds")
    return seconds


@dataclass
class Faults:
    """The run's fault rules, and what the service saw (for tests to assert on)."""

    rules: list[Fault] = field(default_factory=list)
    concurrency_limit: int = MAILBOX_CONCURRENCY
    in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    peak_in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Requests refused with 429 because their mailbox already had the limit in flight.
    concurrency_refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault | str) -> None:
        with self._lock:
            self.rules.append(parse_fault(fault) if isinstance(fault, str) else fault)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.peak_in_flight.clear()
            self.concurrency_refused.clear()
            self.requests = 0

    def take(
        self, method: str, path: str, header: str | None, *, inner: bool = False
    ) -> Fault | None:
        """The fault for this request: its own header first, then the first rule that matches
        (a latency rule only matches requests from the network, not those inside a batch)."""
        with self._lock:
            self.requests += 1
            if header:
                try:
                    return parse_fault(header)
                except ValueError as exc:
                    raise GraphHTTPError(400, "BadRequest", f"{FAULT_HEADER}: {exc}") from None
            for rule in self.rules:
                if inner and rule.latency:
                    continue
                if rule.matches(method, path) and (rule.times is None or rule.times > 0):
                    if rule.after > 0:
                        rule.after -= 1
                        continue
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def enter(self, mailbox: str) -> None:
        """Count a request in flight for a mailbox; over the limit it is throttled, as at Graph."""
        with self._lock:
            if self.in_flight[mailbox] >= self.concurrency_limit:
                self.concurrency_refused[mailbox] += 1
                raise GraphHTTPError(
                    429,
                    "ApplicationThrottled",
                    "Application is over its MailboxConcurrency limit.",
                    {"Retry-After": "1"},
                )
            self.in_flight[mailbox] += 1
            self.peak_in_flight[mailbox] = max(
                self.peak_in_flight[mailbox], self.in_flight[mailbox]
            )

    def leave(self, mailbox: str) -> None:
        with self._lock:
            self.in_flight[mailbox] -= 1
