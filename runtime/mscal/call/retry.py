"""Retry decisions: which responses to retry and how long to wait. Pure functions."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """Which statuses are retried, how often and how long to wait: the spec's `defaults.retry`
    (every value required there; none is assumed here)."""

    statuses: frozenset[int]
    max_retries: int
    backoff_base_seconds: float
    max_wait_seconds: float
    wait_budget_seconds: float

    def delay(
        self,
        attempt: int,
        retry_after: str | None,
        jitter: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait before retry number `attempt` (0-based): the server's Retry-After
        exactly as it said (the caller gives up at once when that is past `max_wait_seconds`:
        a shorter wait would be answered by another throttle), else our backoff, clamped."""
        told = parse_retry_after(retry_after)
        if told is not None:
            return told if told > 0 else 0.0
        backoff = self.backoff_base_seconds * 2.0**attempt + jitter() * self.backoff_base_seconds
        return min(backoff, self.max_wait_seconds)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 86_400))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(when.timestamp() - now(), 0.0)
