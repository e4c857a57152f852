"""The limits an operation runs under: its deadline, response and body sizes, input depth and
template output. Defaults come from the spec (`defaults.limits`), an operation may raise or
lower them (`limits:` in the operation), and a session may override them for every operation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import httpx2

# httpx2's per-phase timeouts; the operation's deadline shortens them as it approaches.
PHASE_TIMEOUT = httpx2.Timeout(30.0, connect=10.0)


@dataclass(frozen=True)
class Limits:
    deadline_seconds: float | None = 300.0
    response_bytes: int | None = 64 * 1024 * 1024
    body_bytes: int | None = 4 * 1024 * 1024
    input_depth: int = 64
    template_chars: int = 1024 * 1024

    @classmethod
    def from_spec(cls, raw: Mapping[str, Any] | None) -> Limits:
        return cls().merged(raw)

    def merged(self, raw: Mapping[str, Any] | None) -> Limits:
        """These limits with the given ones (spec or session) taking precedence."""
        known = {field.name for field in fields(self)}
        given = {key: value for key, value in (raw or {}).items() if key in known}
        unknown = set(raw or {}) - known
        if unknown:
            raise ValueError(f"unknown limits: {', '.join(sorted(unknown))}")
        return replace(self, **given) if given else self

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
