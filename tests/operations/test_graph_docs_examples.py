"""Every request-body example of Microsoft's Graph v1.0 docs for the shipped operations
(microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/api/*.md), named by its page
and example name, goes through the connector as a builder would give it: it validates and
renders to the documented request (method, path, body), sent through a real session against a
mocked Graph.

The fixtures in graph_docs/ hold each page's examples as documented (the commit read is
recorded): the operation, the inputs that are not the body (owner, ids, preferences), which input
takes the documented body (`body_input`) or, for actions, each parameter as an input, and the
documented request. Graph reads property names and enum values in any case (the docs write
"HTML", "Required", "Comment"): the connector sends the spec's spelling, so names and enum
values are compared case-insensitively and everything else exactly. Two examples write
placeholders Graph itself refuses, or a read-only property: those state the refusal (`refused`,
with why) and are refused with exactly it, sending nothing.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from pytest_httpx2 import HTTPXMock

import mscal

DOCS = Path(__file__).parent / "graph_docs"


def _examples() -> dict[str, dict[str, Any]]:
    examples = {}
    for page in sorted(DOCS.glob("*.json")):
        document = json.loads(page.read_text(encoding="utf-8"))
        assert document["source"] == f"api-reference/v1.0/api/{page.stem}.md"
        for name, example in document["examples"].items():
            examples[f"{page.stem}.md#{name}"] = example
    return examples


EXAMPLES = _examples()


def _enum_values(node: Any) -> set[str]:
    """Every enum value of the described input schemas: the values Graph reads in any case."""
    found: set[str] = set()
    if isinstance(node, dict):
        found.update(v for v in node.get("enum") or () if isinstance(v, str))
        for value in node.values():
            found |= _enum_values(value)
    elif isinstance(node, list):
        for item in node:
            found |= _enum_values(item)
    return found


def _same(sent: Any, documented: Any, enums: set[str]) -> bool:
    """Equal, with property names compared case-insensitively, and enum values too."""
    if isinstance(sent, dict) and isinstance(documented, dict):
        folded = {key.casefold(): value for key, value in documented.items()}
        return len(folded) == len(sent) and all(
            key.casefold() in folded and _same(value, folded[key.casefold()], enums)
            for key, value in sent.items()
        )
    if isinstance(sent, list) and isinstance(documented, list):
        return len(sent) == len(documented) and all(
            _same(a, b, enums) for a, b in zip(sent, documented, strict=True)
        )
    if isinstance(sent, str) and isinstance(documented, str) and sent in enums:
        return sent.casefold() == documented.casefold()
    return bool(sent == documented and type(sent) is type(documented))


def _path(path: str) -> str:
    # Graph's default calendar's events are the mailbox's events: /calendar/events/{id} and
    # /events/{id} name one event (the connector sends the shorter form).
    return path.replace("/calendar/events/", "/events/")


def _inputs(example: dict[str, Any]) -> dict[str, Any]:
    inputs = dict(example.get("input") or {})
    if "body_input" in example:
        inputs[example["body_input"]] = example["request"]["body"]
    return inputs


def test_every_page_names_its_source_and_commit() -> None:
    for page in DOCS.glob("*.json"):
        document = json.loads(page.read_text(encoding="utf-8"))
        assert len(document["commit"]) == 40
        assert document["examples"]


@pytest.mark.parametrize("example", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_a_graph_docs_example_validates_and_renders_to_its_request(
    httpx2_mock: HTTPXMock,
    connector: mscal.Connector,
    auth: mscal.Authentication,
    example: dict[str, Any],
) -> None:
    operation, expected = example["operation"], example["request"]
    inputs = _inputs(example)
    given = json.loads(json.dumps(inputs))
    if "refused" in example:
        with pytest.raises(mscal.InputError) as caught:
            connector.run(operation, inputs, auth=auth)
        refused = example["refused"]
        assert (caught.value.field, caught.value.rule) == (refused["field"], refused["rule"])
        assert httpx2_mock.get_requests() == []
        return
    httpx2_mock.add_response(status_code=202, json={})

    connector.run(operation, inputs, auth=auth)

    request = httpx2_mock.get_request()
    assert request is not None
    assert request.method == expected["method"]
    assert request.url.host == "graph.microsoft.com"
    assert _path(unquote(request.url.path)) == _path(f"/v1.0{expected['path']}")
    for name, value in (expected.get("headers") or {}).items():
        assert request.headers[name] == value
    sent = json.loads(request.content)
    if operation == "create_event" and "transactionId" not in expected["body"]:
        # The connector makes a create safe to retry with an id of its own.
        uuid.UUID(sent.pop("transactionId"))
    enums = _enum_values(connector.describe(operation)["input_schema"])
    assert _same(sent, expected["body"], enums), (sent, expected["body"])
    assert inputs == given  # the caller's inputs are left as they were


def test_every_operation_with_a_documented_body_has_its_examples(
    connector: mscal.Connector,
) -> None:
    covered = {example["operation"] for example in EXAMPLES.values()}
    # The operations whose Graph request carries a body, and the docs pages show one.
    assert covered >= {
        "create_event",
        "update_event",
        "create_calendar",
        "update_calendar",
        "create_calendar_group",
        "update_calendar_group",
        "accept_event",
        "tentatively_accept_event",
        "decline_event",
        "cancel_event",
        "forward_event",
        "snooze_event_reminder",
        "add_event_attachment",
        "find_meeting_times",
        "get_schedule",
        "create_calendar_permission",
        "update_calendar_permission",
    }
    assert covered <= set(connector.spec.operations)
