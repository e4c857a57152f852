"""An operation's declared examples, replayed: the inputs render to the stated request, the
canned responses give the stated output, and that output fits the output schema."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx2
from jsonschema import Draft202012Validator

from mscal.call.explain import FORMAT_CHECKER
from mscal.call.flow import operation_flow
from mscal.call.guard import Origin
from mscal.call.steps import Call, Wait
from mscal.errors import ConnectorError
from mscal.lint.report import Keys, Report
from mscal.spec.positions import Located

if TYPE_CHECKING:
    from mscal.connector import Connector


def check_examples(
    report: Report,
    document: Located,
    base: Keys,
    connector: Connector,
    name: str,
    output_schema: dict[str, Any],
) -> None:
    """Replay each example of the operation `name`; report what differs, at the example."""
    examples = connector.spec.operation(name).examples
    # Built only for an operation whose examples state an output.
    output_validator = (
        Draft202012Validator(output_schema, format_checker=FORMAT_CHECKER)
        if any("output" in example for example in examples)
        else None
    )
    for number, example in enumerate(examples):
        for problem in example_problems(connector, name, example):
            rule = (
                "example-invalid" if problem.startswith("does not render") else "example-mismatch"
            )
            report.at(
                document,
                (*base, "examples", number),
                rule,
                f"operation {name!r} example {number + 1}: {problem}",
            )
        if (
            output_validator is not None
            and "output" in example
            and not output_validator.is_valid(example["output"])
        ):
            report.at(
                document,
                (*base, "examples", number, "output"),
                "example-output-schema",
                f"operation {name!r} example {number + 1}: output does not fit its schema",
            )


def example_problems(connector: Connector, operation: str, example: dict[str, Any]) -> list[str]:
    """What differs between the request an example states and the one its inputs render."""
    origin = Origin.from_base_url(connector.spec.base_url)
    try:
        call = connector.compiled(operation).prepare(example.get("input") or {}, origin)
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
    if {"response", "responses", "output"} & set(example):
        problems.extend(_output_problems(call, example))
    return problems


def _output_problems(call: Call, example: dict[str, Any]) -> list[str]:
    """Run the operation's flow on the canned responses (`response`, or `responses` for an
    operation of several steps); compare its result with the stated output."""
    canned = example.get("responses") or [example.get("response") or {}]
    flow = operation_flow(call)
    answered = 0
    try:
        step = next(flow)
        while True:
            if isinstance(step, Wait):
                step = flow.send(None)
                continue
            if answered == len(canned):
                flow.close()
                return [
                    "the operation asks for more than the canned responses (more pages or steps)"
                ]
            answered += 1
            step = flow.send(_response(canned[answered - 1]))
    except StopIteration as stop:
        output = stop.value
    except ConnectorError as exc:
        return [f"the canned response gives an error: {exc}"]
    if answered < len(canned):
        return [f"only {answered} of {len(canned)} canned responses were asked for"]
    if "output" in example and output != example["output"]:
        return [f"output is {output!r}, the example says {example['output']!r}"]
    return []


def _response(canned: dict[str, Any]) -> httpx2.Response:
    status = int(canned.get("status", 200))
    headers = canned.get("headers") or {}
    if canned.get("body") is not None:
        return httpx2.Response(status, json=canned["body"], headers=headers)
    return httpx2.Response(status, headers=headers)
