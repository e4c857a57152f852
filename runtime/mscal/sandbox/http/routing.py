"""A route table for Graph's resource paths, compiled once.

A route is a method, a path pattern after the owner (`/me`, `/users/{id}`, `/groups/{id}`) and
a handler. A pattern's segments are literals (`events`), parameters (`{event}`) or function
calls (`reminderView(...)`, whose `Name='value'` arguments the handler receives). Resolving a
path takes the first route that matches its segments and method; a path some route matches
under another method is 405, and a path no route matches names the first segment no route
knows, as Graph's 400 does.

A route may carry a guard: the check of the scope its path names (a calendar that must exist),
run before its handler and before a 405 for its path, so a request for a calendar that is not
there is a 404 whatever its method. A route may also answer other methods as an unknown
segment instead of 405 (`unknown_otherwise`), as the service has always answered views,
functions and actions under the wrong method.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from starlette.responses import Response

from mscal.sandbox.errors import GraphHTTPError, bad_request
from mscal.sandbox.http.call import Call
from mscal.sandbox.http.envelope import method_not_allowed, unknown_segment

Handler = Callable[[Call], Response]
Guard = Callable[[Call], None]
MAILBOXES = frozenset({"user", "group"})
EVERYONE = frozenset({"user", "group", "tenant"})
_FUNCTION = re.compile(r"^(\w+)\((.*)\)$")
# Name='value', or an enum literal with its type: Name=microsoft.graph.timeZoneStandard'Iana'.
_ARGUMENT = re.compile(r"(\w+)\s*=\s*(?:[A-Za-z_][\w.]*)?'((?:[^']|'')*)'")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    owners: frozenset[str] = MAILBOXES  # which owners the path may follow
    guard: Guard | None = None
    unknown_otherwise: int | None = None  # the segment named when the method is another


def mount(
    prefix: str,
    routes: Iterable[Route],
    owners: frozenset[str] | None = None,
    guard: Guard | None = None,
) -> list[Route]:
    """The routes under a prefix (a calendar, say), for the given owners and guard if named."""
    depth = len([s for s in prefix.split("/") if s])
    return [
        replace(
            route,
            path="/".join(p for p in (prefix, route.path) if p),
            owners=route.owners if owners is None else owners,
            guard=route.guard or guard,
            unknown_otherwise=None
            if route.unknown_otherwise is None
            else route.unknown_otherwise + depth,
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
    guard: Guard | None = None

    def answer(self, call: Call) -> Response:
        if self.guard is not None:
            self.guard(call)
        return self.handler(call)


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
                return _bind(route, pattern, segments, route.handler)
        if not segments:
            raise bad_request("Resource not found for the segment.", "BadRequest")
        if on_path:
            route, pattern = on_path[0]
            named = {r.unknown_otherwise for r, _ in on_path}
            index = named.pop() if len(named) == 1 else None
            refusal = (
                method_not_allowed(r.method for r, _ in on_path)
                if index is None
                else unknown_segment(segments[index])
            )
            return _bind(route, pattern, segments, _refuse(refusal))
        known = max((_known_depth(pattern, segments) for _, pattern in candidates), default=0)
        raise unknown_segment(segments[min(known, len(segments) - 1)])


def _known_depth(pattern: tuple[_Segment, ...], segments: list[str]) -> int:
    depth = 0
    for segment, value in zip(pattern, segments, strict=False):
        if not segment.matches(value):
            break
        depth += 1
    return depth


def _refuse(error: GraphHTTPError) -> Handler:
    def refuse(call: Call) -> Response:
        raise error

    return refuse


def _bind(
    route: Route, pattern: tuple[_Segment, ...], segments: list[str], handler: Handler
) -> Match:
    params: dict[str, str] = {}
    args: dict[str, str] = {}
    for segment, value in zip(pattern, segments, strict=True):
        if segment.kind == "param":
            params[segment.text] = value
        elif segment.kind == "function":
            found = _FUNCTION.match(value)
            inner = found.group(2) if found else ""
            args = {k: v.replace("''", "'") for k, v in _ARGUMENT.findall(inner)}
    return Match(handler, params, args, route.guard)
