"""What spec templates may use (filters, globals) and how printed values are finalized: shared
by the renderers (`render.py`, `plain.py`) and the analysis, which parses with them."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from mscal.idempotency import new_uuid
from mscal.templates.errors import TemplateRenderError


class RawPath(str):
    """A path fragment the spec chose not to encode (the egress guard still checks it)."""

    __slots__ = ()


def encode_segment(value: Any) -> str:
    if isinstance(value, RawPath):
        return str(value)
    if value is None:
        raise TemplateRenderError("a path value is missing")
    return quote(str(value), safe="")


def blank_none(value: Any) -> Any:
    return "" if value is None else value


def _csv(value: Iterable[Any] | str | None) -> str:
    """Join a list with commas, as OData's $select and $orderby take it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return ",".join(str(item) for item in value)


def _raw_path(value: Any) -> RawPath:
    return RawPath("" if value is None else str(value))


def _base64_decode(value: str | None) -> bytes:
    return base64.b64decode(value or "", validate=True)


def _base64_size(value: str | None) -> int:
    """The decoded length of base64 text, without decoding it."""
    text = (value or "").strip()
    return len(text) * 3 // 4 - text[-2:].count("=")


def _resource_of(scopes: Iterable[Any] | str | None) -> str | None:
    """The origin the first scope written as a URL names (https://graph.microsoft.com in
    https://graph.microsoft.com/.default), None when no scope names one."""
    for scope in [scopes] if isinstance(scopes, str) else scopes or ():
        scheme, separator, rest = str(scope).partition("://")
        if separator and scheme and rest.split("/", 1)[0]:
            return f"{scheme}://{rest.split('/', 1)[0]}"
    return None


# Functions spec templates may call (e.g. a client-chosen id that makes a create safe to retry;
# the same id when a job runner runs the call again under `idempotency_key`).
GLOBALS: dict[str, Callable[..., Any]] = {"uuid": new_uuid}

# The filters spec templates may use, in every environment that reads them.
FILTERS: dict[str, Callable[..., Any]] = {
    "csv": _csv,
    "raw_path": _raw_path,
    "base64_decode": _base64_decode,
    "base64_size": _base64_size,
    "resource_of": _resource_of,
}
