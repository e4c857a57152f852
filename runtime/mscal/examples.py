"""Checking an operation's declared examples: inputs render to the stated request."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mscal.errors import ConnectorError
from mscal.guard import Origin

if TYPE_CHECKING:
    from mscal.api import Connector


def example_problems(connector: Connector, operation: str, example: dict[str, Any]) -> list[str]:
    """What differs between the request an example states and the one its inputs render."""
    origin = Origin.from_base_url(connector.spec.base_url)
    try:
        call = connector.compiled(operation).prepare(connector, example.get("input") or {}, origin)
    except ConnectorError as exc:
        return [f"does not render: {exc}"]
    expected = example.get("request") or {}
    request = call.request
    problems = []
    if "method" in expected and expected["method"] != request.method:
        problems.append(f"method is {request.method}, the example says {expected['method']}")
    if "url" in expected and expected["url"] != str(request.url):
        problems.append(f"URL is {request.url}, the example says {expected['url']}")
    for name, value in (expected.get("headers") or {}).items():
        if request.headers.get(name) != value:
            problems.append(
                f"header {name} is {request.headers.get(name)!r}, the example says {value!r}"
            )
    if "json" in expected:
        body = json.loads(request.content) if request.content else None
        if body != expected["json"]:
            problems.append(f"JSON body is {body!r}, the example says {expected['json']!r}")
    return problems
