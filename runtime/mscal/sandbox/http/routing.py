"""A route table for Graph's resource paths, compiled once.

A route is a method, a path pattern after the owner (`/me`, `/users/{id}`, `/groups/{id}`) and
a handler. A pattern's segments are literals (`events`), parameters (`{event}`) or function
calls (`reminderView(...)`, whose `Name='value'` arguments the handler receives). Resolving a
path takes the first route that matches its segments and method; a path some route matches
under another method is 405, and a path no route matches names the first segment no route
knows, as Graph's 400 does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from starlette.responses import Response

from mscal.sandbox.errors import bad_request
from mscal.sandbox.http.call import Call
from mscal.sandbox.http.envelope import method_not_allowed, unknown_segment

Handler = Callable[[Call], Response]
MAILBOXES = frozenset({"user", "group"})
EVERYONE = frozenset({"user", "group", "tenant"})
_FUNCTION = re.compile(r"^(\w+)\((.*)\)$")
_ARGUMENT = re.compile(r"(\w+)='((?:[^']|'')*)'")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    owners: frozenset[str] = MAILBOXES  # which owners the path may follow


def mount(
    prefix: str, routes: Iterable[Route], owners: frozenset[str] | None = None
) -> list[Route]:
    """The routes under a prefix (a calendar, say), for the given owners if named."""
    return [
        replace(
            route,
            path="/".join(p for p in (prefix, route.path) if p),
            owners=route.owners if owners is None else owners,
        )
        for route in routes
    ]


@dataclass(frozen=True)
class _Segment:
    kind: str  # "literal" | "param" | "function"
    text: str

    @classmethod
    def parse(cls, text: str) -> _Segment:
        if text.startswith("{") and text.endswith("}"):
            return cls("param", text[1:-1])
        if text.endswith("(...)"):
            return cls("function", text[: -len("(...)")])
        return cls("literal", text)

    def matches(self, value: str) -> bool:
        if self.kind == "literal":
            return value == self.text
        if self.kind == "param":
            return True
        found = _FUNCTION.match(value)
        return found is not None and found.group(1) == self.text


@dataclass(frozen=True)
class Match:
    handler: Handler
    params: dict[str, str] = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = [
            (route, tuple(_Segment.parse(s) for s in route.path.split("/") if s))
            for route in routes
        ]

    def resolve(self, method: str, owner_kind: str, segments: list[str]) -> Match:
        candidates = [(r, p) for r, p in self._routes if owner_kind in r.owners]
        on_path = [
            (route, pattern)
            for route, pattern in candidates
            if len(pattern) == len(segments)
            and all(s.matches(v) for s, v in zip(pattern, segments, strict=True))
        ]
        for route, pattern in on_path:
            if route.method == method:
                return _bind(route.handler, pattern, segments)
        if not segments:
            raise bad_request("Resource not found for the segment.", "BadRequest")
        if on_path:
            raise method_not_allowed()
        known = max((_known_depth(pattern, segments) for _, pattern in candidates), default=0)
        raise unknown_segment(segments[min(known, len(segments) - 1)])


def _known_depth(pattern: tuple[_Segment, ...], segments: list[str]) -> int:
    depth = 0
    for segment, value in zip(pattern, segments, strict=False):
        if not segment.matches(value):
            break
        depth += 1
    return depth


def _bind(handler: Handler, pattern: tuple[_Segment, ...], segments: list[str]) -> Match:
    params: dict[str, str] = {}
    args: dict[str, str] = {}
    for segment, value in zip(pattern, segments, strict=True):
        if segment.kind == "param":
            params[segment.text] = value
        elif segment.kind == "function":
            found = _FUNCTION.match(value)
            inner = found.group(2) if found else ""
            args = {k: v.replace("''", "'") for k, v in _ARGUMENT.findall(inner)}
    return Match(handler, params, args)
