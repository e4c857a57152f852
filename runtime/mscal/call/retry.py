"""Retry decisions: which responses to retry and how long to wait. Pure functions."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    statuses: frozenset[int] = frozenset({429, 503, 504})
    max_retries: int = 3
    backoff_base_seconds: float = 0.5
    max_wait_seconds: float = 60.0
    wait_budget_seconds: float = 120.0

    @classmethod
    def from_spec(cls, raw: Mapping[str, Any] | None) -> RetryPolicy:
        raw = raw or {}
        return cls(
            statuses=frozenset(int(s) for s in raw.get("statuses", cls.statuses)),
            max_retries=int(raw.get("max_retries", cls.max_retries)),
            backoff_base_seconds=float(raw.get("backoff_base_seconds", cls.backoff_base_seconds)),
            max_wait_seconds=float(raw.get("max_wait_seconds", cls.max_wait_seconds)),
            wait_budget_seconds=float(raw.get("wait_budget_seconds", cls.wait_budget_seconds)),
        )

    def delay(
        self,
        attempt: int,
        retry_after: str | None,
        jitter: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        told = parse_retry_after(retry_after)
        if told is None:
            told = self.backoff_base_seconds * (2**attempt) + jitter() * self.backoff_base_seconds
        return min(max(told, 0.0), self.max_wait_seconds)


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
