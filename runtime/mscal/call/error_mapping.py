"""Mapping an error response to one typed GraphError, using the envelope the spec declares,
and the advice the spec attaches to particular errors (`defaults.error_hints`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2

from mscal.call.retry import parse_retry_after
from mscal.errors import GraphError, ResyncRequiredError, ThrottlingError

ERROR_TYPES: dict[str, type[GraphError]] = {"resync_required": ResyncRequiredError}


@dataclass(frozen=True)
class ErrorHint:
    status: int
    codes: frozenset[str]
    hint: str
    kind: type[GraphError] = GraphError
    # Graph reuses codes (BadRequest, InvalidAuthenticationToken) for unrelated failures:
    # a pattern over the message tells them apart.
    message: re.Pattern[str] | None = None

    def matches(self, status: int, code: str | None, message: str = "") -> bool:
        return (
            status == self.status
            and (not self.codes or (code or "") in self.codes)
            and (self.message is None or self.message.search(message) is not None)
        )


ErrorHints = tuple[ErrorHint, ...]


def hints_from_spec(raw: Sequence[Mapping[str, Any]] | None) -> ErrorHints:
    return tuple(
        ErrorHint(
            status=int(entry["status"]),
            codes=frozenset(entry.get("codes") or ()),
            hint=str(entry["hint"]),
            kind=ERROR_TYPES[entry["type"]] if entry.get("type") else GraphError,
            message=re.compile(entry["message"], re.IGNORECASE) if entry.get("message") else None,
        )
        for entry in raw or ()
    )


def graph_error(
    response: httpx2.Response,
    envelope: Mapping[str, Sequence[str]],
    client_request_id: str | None,
    hints: ErrorHints = (),
    *,
    giving_up: tuple[float, str] | None = None,
) -> GraphError:
    """Read code, message, request id and date from the body paths or headers the spec names.

    `giving_up` (seconds to wait, why) makes it a ThrottlingError that says when to retry.
    """
    try:
        body: Any = response.json()
    except ValueError:
        body = None

    def first(key: str) -> str | None:
        for location in envelope.get(key, ()):
            value = _lookup(location, body, response.headers)
            if value not in (None, ""):
                return str(value)
        return None

    code = first("code")
    message = first("message") or _fallback_message(response)
    advice = next((h for h in hints if h.matches(response.status_code, code, message)), None)
    kind = advice.kind if advice else GraphError
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    hint = advice.hint if advice else None
    if giving_up is not None:
        kind, (retry_after, hint) = ThrottlingError, giving_up
    return kind(
        status_code=response.status_code,
        code=code,
        message=message,
        request_id=first("request_id"),
        client_request_id=client_request_id,
        date=first("date"),
        retry_after=retry_after,
        hint=hint,
    )


def _lookup(location: str, body: Any, headers: httpx2.Headers) -> Any:
    if location.startswith("header:"):
        return headers.get(location.removeprefix("header:"))
    node = body
    for part in location.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _fallback_message(response: httpx2.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    reason = response.reason_phrase or "error"
    return f"{reason}: {text[:200]}" if text else reason
