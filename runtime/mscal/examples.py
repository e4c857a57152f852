"""Checking an operation's declared examples: inputs render to the stated request."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx2

from mscal.errors import ConnectorError
from mscal.flow import Call, operation_flow
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
    if "response" in example or "output" in example:
        problems.extend(_output_problems(call, example))
    return problems


def _output_problems(call: Call, example: dict[str, Any]) -> list[str]:
    """Run the operation's flow on the canned response; compare with the stated output."""
    canned = example.get("response") or {}
    status = int(canned.get("status", 200))
    body = canned.get("body")
    response = httpx2.Response(status, json=body) if body is not None else httpx2.Response(status)
    flow = operation_flow(call)
    try:
        step = next(flow)
        while not isinstance(step, httpx2.Request):
            step = flow.send(None)
        flow.send(response)
    except StopIteration as stop:
        output = stop.value
    except ConnectorError as exc:
        return [f"the canned response gives an error: {exc}"]
    else:
        flow.close()
        return ["the canned response is not the last: the operation asks for more pages"]
    if "output" in example and output != example["output"]:
        return [f"output is {output!r}, the example says {example['output']!r}"]
    return []
