"""Every YAML example of every operation, replayed through a real session against a mocked
Graph: the exact request goes out, and the stated output comes back.

The examples in `operations/*.yaml` are the request table: a new request shape is documented
there (and `mscal lint` replays it sans-IO); this module sends it over the wire. What an example
cannot state (a generated id, a form or text body) has its own small test below.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from tests.conftest import CANARY_TOKEN, GRAPH


def _examples() -> dict[str, tuple[str, dict[str, Any]]]:
    """`operation/title` -> (operation, example), for every example of the shipped spec."""
    examples: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, operation in mscal.load_connector().spec.operations.items():
        for index, example in enumerate(operation.examples):
            # A repeated title gets its index, so that every id still names one example.
            key = f"{name}/{example['title']}"
            examples[key if key not in examples else f"{key} #{index + 1}"] = (name, example)
    return examples


EXAMPLES = _examples()


def mock_canned(httpx2_mock: HTTPXMock, example: dict[str, Any]) -> None:
    """Queue the example's canned responses, in order (`responses` for several steps)."""
    for canned in example.get("responses") or [example.get("response") or {}]:
        options: dict[str, Any] = {
            "status_code": int(canned.get("status", 200)),
            "headers": canned.get("headers") or {},
        }
        if canned.get("body") is not None:
            options["json"] = canned["body"]
        httpx2_mock.add_response(**options)


def assert_sent(requests: list[httpx2.Request], example: dict[str, Any]) -> None:
    """The first request is exactly the one the example states; there was one per canned
    response (later steps, such as an upload's PUT, are the operation's own business)."""
    assert len(requests) == len(example.get("responses") or [None])
    request, expected = requests[0], example["request"]
    assert request.method == expected["method"]
    assert str(request.url) == expected["url"]
    assert request.headers["Authorization"] == f"Bearer {CANARY_TOKEN}"
    assert request.headers["Accept"] == "application/json"
    assert len(request.headers["client-request-id"]) == 36
    stated = expected.get("headers") or {}
    for name, value in stated.items():
        assert request.headers.get(name) == value, name
    # A header the example does not state is not sent on the quiet.
    if "Prefer" not in stated:
        assert "Prefer" not in request.headers
    if "json" in expected:
        assert json.loads(request.content) == expected["json"]
    else:
        assert request.content == b""
        assert "Content-Type" not in request.headers
    # The token goes in the Authorization header and nowhere else.
    assert CANARY_TOKEN not in str(request.url)
    assert CANARY_TOKEN not in request.content.decode(errors="replace")
    others = [v for k, v in request.headers.items() if k.lower() != "authorization"]
    assert not any(CANARY_TOKEN in value for value in others)


@pytest.mark.parametrize(("operation", "example"), EXAMPLES.values(), ids=EXAMPLES.keys())
def test_example_sends_its_request_and_returns_its_output(
    httpx2_mock: HTTPXMock,
    connector: mscal.Connector,
    auth: mscal.Authentication,
    operation: str,
    example: dict[str, Any],
) -> None:
    mock_canned(httpx2_mock, example)

    with connector.session(auth) as session:
        output = session.run(operation, example["input"])

    assert_sent(httpx2_mock.get_requests(), example)
    assert output == example["output"]
    assert CANARY_TOKEN not in repr(output)


def test_every_operation_is_replayed(connector: mscal.Connector) -> None:
    assert {operation for operation, _ in EXAMPLES.values()} == set(connector.spec.operations)


def test_every_example_states_what_the_replay_checks() -> None:
    for key, (_, example) in EXAMPLES.items():
        assert {"method", "url"} <= set(example.get("request") or {}), key
        assert "output" in example, key


def test_create_event_without_a_transaction_id_gets_a_fresh_one(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    # Not an example: the id is new on every call, so no example can state the body.
    httpx2_mock.add_response(status_code=201, json={"id": "e1"}, is_reusable=True)
    event = {"subject": "S"}

    run("create_event", {"event": event})
    run("create_event", {"event": event})

    first, second = (json.loads(r.content) for r in httpx2_mock.get_requests())
    assert first["subject"] == second["subject"] == "S"
    assert uuid.UUID(first.pop("transactionId")) != uuid.UUID(second.pop("transactionId"))
    assert first == second == {"subject": "S"}
    assert event == {"subject": "S"}  # the caller's input is left as it was


def test_form_body(httpx2_mock: HTTPXMock, run: Callable[..., Any]) -> None:
    httpx2_mock.add_response(text="ok", headers={"content-type": "text/plain"})
    result = run(
        "raw_http_request",
        {"method": "POST", "endpoint": "/x", "body_type": "form", "body": {"a": "1 2", "b": True}},
    )
    request = httpx2_mock.get_request()
    assert request is not None
    assert request.content == b"a=1+2&b=true"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert result["body"] == "ok"


def test_raw_text_body_and_query_in_endpoint(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(json={})
    run(
        "raw_http_request",
        {
            "method": "PUT",
            "endpoint": "/me/x?$top=3",
            "query": {"$skip": 1},
            "body_type": "raw",
            "body": "hello",
        },
    )
    request = httpx2_mock.get_request()
    assert request is not None
    assert str(request.url) == f"{GRAPH}/me/x?%24top=3&%24skip=1"
    assert request.content == b"hello"
    assert request.headers["Content-Type"] == "text/plain; charset=utf-8"
