"""Building an operation's HTTP request from its templates and validated inputs. No I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx2

from mscal.call.guard import Origin, check_headers, check_method, check_path, check_url
from mscal.errors import EgressError, InputError, SpecError
from mscal.spec.load import Operation
from mscal.templates.render import (
    TemplateOutputError,
    TemplateRenderError,
    Templates,
    render,
)

BODY_TYPES = frozenset({"none", "json", "raw", "form"})


@dataclass(frozen=True)
class RequestParts:
    """What the templates rendered, before it becomes an httpx2.Request."""

    method: str
    url: str
    query: dict[str, Any]
    headers: dict[str, str]
    body_type: str
    body: Any


class RequestBuilder:
    """An operation's request templates, compiled once."""

    def __init__(self, operation: Operation, templates: Templates) -> None:
        spec = operation.request
        self.operation = operation
        if "method" not in spec or "path" not in spec:
            raise SpecError(f"operation {operation.name!r}: request needs a method and a path")
        self._method = templates.value(spec["method"])
        self._path = templates.path(spec["path"])
        self._query = templates.value(spec.get("query") or {})
        self._headers = templates.value(spec.get("headers") or {})
        self._has_body = spec.get("body") is not None
        self._body = templates.value(spec.get("body"))
        self._body_type = templates.value(
            spec.get("body_type", "json" if self._has_body else "none")
        )

    def context(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Every declared input is in the context (None when absent), and nothing else."""
        return {name: inputs.get(name) for name in self.operation.input_names}

    def render(
        self, inputs: Mapping[str, Any], origin: Origin, context: Mapping[str, Any] | None = None
    ) -> RequestParts:
        context = context if context is not None else self.context(inputs)
        try:
            method = check_method(str(render(self._method, context)))
            path = render(self._path, context)
            query = _as_mapping(render(self._query, context), "query")
            headers = self._rendered_headers(context)
            body_type = str(render(self._body_type, context) or "none")
            body = render(self._body, context) if self._has_body else None
        except TemplateOutputError as exc:
            raise InputError(_largest(context), "size", f"{exc} (limits.template_chars)") from None
        except TemplateRenderError as exc:
            raise SpecError(f"operation {self.operation.name!r}: template failed: {exc}") from None
        try:
            url = _absolute(path, origin)
        except EgressError as exc:
            raise InputError(_culprit(context), "egress", str(exc)) from None
        headers = _checked(headers)
        if body_type not in BODY_TYPES:
            raise InputError("body_type", "enum", f"must be one of {', '.join(sorted(BODY_TYPES))}")
        return RequestParts(method, url, query, headers, body_type, body)

    def headers(self, context: Mapping[str, Any]) -> dict[str, str]:
        """Only the operation's headers (checked), for a listing resumed from a link that
        already says everything else."""
        try:
            return _checked(self._rendered_headers(context))
        except TemplateOutputError as exc:
            raise InputError(_largest(context), "size", f"{exc} (limits.template_chars)") from None
        except TemplateRenderError as exc:
            raise SpecError(f"operation {self.operation.name!r}: template failed: {exc}") from None

    def _rendered_headers(self, context: Mapping[str, Any]) -> dict[str, str]:
        return {
            str(name): _header_value(value)
            for name, value in _as_mapping(render(self._headers, context), "headers").items()
        }

    def build(
        self,
        inputs: Mapping[str, Any],
        origin: Origin,
        default_headers: Mapping[str, str],
        *,
        max_body_bytes: int | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> httpx2.Request:
        parts = self.render(inputs, origin, context)
        request = to_request(parts, default_headers)
        if max_body_bytes is not None and len(request.content) > max_body_bytes:
            raise InputError(
                _largest(self.context(inputs)),
                "size",
                f"makes a request body of {len(request.content)} bytes; at most "
                f"{max_body_bytes} are sent (limits.body_bytes)",
            )
        return request


def _checked(headers: dict[str, str]) -> dict[str, str]:
    """The headers that have a value, refused as a whole if one may not be sent."""
    headers = {name: value for name, value in headers.items() if value}
    try:
        check_headers(headers)
    except EgressError as exc:
        raise InputError("headers", "egress", str(exc)) from None
    return headers


def _absolute(path: str, origin: Origin) -> str:
    """The URL of a rendered path. Only a `raw_path` value can make it a full URL (others are
    percent-encoded, so they cannot spell a scheme), and then only one on the connection's
    origin and under its base path, as a next link must be."""
    if path.lower().startswith(("https://", "http://")):
        return str(check_url(path, origin))
    return origin.join(path)


def _largest(context: Mapping[str, Any]) -> str:
    """The input that contributes most to an oversized body, to name in the error."""
    sizes = {name: len(json.dumps(value, default=str)) for name, value in context.items() if value}
    return max(sizes, key=sizes.__getitem__) if sizes else "body"


def to_request(parts: RequestParts, default_headers: Mapping[str, str]) -> httpx2.Request:
    headers = {**default_headers, **parts.headers}
    params = {key: _query_value(value) for key, value in parts.query.items()}
    if "?" in parts.url and not params:  # a raw endpoint's own query string (a next link): verbatim
        url = httpx2.URL(parts.url)
    elif "?" in parts.url:  # merge, do not replace
        url = httpx2.URL(parts.url).copy_merge_params(params)
    else:
        url = httpx2.URL(parts.url, params=params or None)
    content: bytes | None = None
    if parts.body_type == "json" and parts.body is not None:
        content = json.dumps(parts.body, separators=(",", ":"), ensure_ascii=False).encode()
        headers.setdefault("Content-Type", "application/json")
    elif parts.body_type == "raw" and parts.body is not None:
        content = (
            parts.body.encode() if isinstance(parts.body, str) else json.dumps(parts.body).encode()
        )
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
    elif parts.body_type == "form" and parts.body is not None:
        if not isinstance(parts.body, Mapping):
            raise InputError("body", "type", "must be an object of form fields for body_type form")
        return httpx2.Request(
            parts.method,
            url,
            headers=headers,
            data={str(k): _query_value(v) for k, v in parts.body.items()},
        )
    return httpx2.Request(parts.method, url, headers=headers, content=content)


def _culprit(context: Mapping[str, Any]) -> str:
    """The input whose value made the path unsafe (e.g. an id of '..'), for the error."""
    for name, value in context.items():
        if isinstance(value, str) and value:
            try:
                check_path("/" + quote(value, safe=""))
            except (EgressError, UnicodeError):
                return name
    return "endpoint" if "endpoint" in context else "path"


def _as_mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping):
        raise InputError(what, "type", f"must be an object, got {type(value).__name__}")
    return {str(k): v for k, v in value.items() if v is not None and v != ""}


def _header_value(value: Any) -> str:
    # A header declared as a list (e.g. several Prefer preferences) is sent as one header.
    if isinstance(value, list):
        return ", ".join(str(part) for part in value if part not in (None, ""))
    return _query_value(value)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_query_value(item) for item in value)
    return str(value)
