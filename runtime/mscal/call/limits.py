"""The limits an operation runs under: its deadline, response and body sizes, input depth and
template output. Their values come from the spec (`defaults.limits`, every one required), an
operation may raise or lower them (`limits:` in the operation), and a session may override them
for every operation. There are no values here: a spec that leaves one out is a SpecError."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import httpx2

# httpx2's per-phase timeouts; the operation's deadline shortens them as it approaches.
PHASE_TIMEOUT = httpx2.Timeout(30.0, connect=10.0)


@dataclass(frozen=True)
class Limits:
    deadline_seconds: float | None
    response_bytes: int | None
    body_bytes: int | None
    input_depth: int
    template_chars: int

    @classmethod
    def names(cls) -> frozenset[str]:
        return frozenset(field.name for field in fields(cls))

    @classmethod
    def check_names(cls, raw: Mapping[str, Any] | None) -> None:
        """Refuse names that are no limit (a session's overrides are checked when it opens)."""
        unknown = set(raw or {}) - cls.names()
        if unknown:
            raise ValueError(
                f"unknown limits: {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(cls.names()))})"
            )

    def merged(self, raw: Mapping[str, Any] | None) -> Limits:
        """These limits with the given ones (an operation's or a session's) taking precedence."""
        self.check_names(raw)
        return replace(self, **raw) if raw else self

    def timeouts(self, remaining: float | None) -> dict[str, float | None] | None:
        """httpx2's timeout extension with no phase allowed past the deadline; None when the
        deadline is further away than every phase (the client's own timeouts then apply)."""
        if remaining is None or remaining >= _LONGEST_PHASE:
            return None
        return {
            phase: remaining if t is None else min(t, remaining) for phase, t in _PHASES.items()
        }


_PHASES = PHASE_TIMEOUT.as_dict()
_LONGEST_PHASE = max(t for t in _PHASES.values() if t is not None)
