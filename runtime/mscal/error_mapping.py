"""Mapping an error response to one typed GraphError, using the envelope the spec declares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx2

from mscal.errors import GraphError
from mscal.retry import parse_retry_after


def graph_error(
    response: httpx2.Response, envelope: Mapping[str, Sequence[str]], client_request_id: str | None
) -> GraphError:
    """Read code, message, request id and date from the body paths or headers the spec names."""
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

    message = first("message") or _fallback_message(response)
    return GraphError(
        status_code=response.status_code,
        code=first("code"),
        message=message,
        request_id=first("request_id"),
        client_request_id=client_request_id,
        date=first("date"),
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
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
