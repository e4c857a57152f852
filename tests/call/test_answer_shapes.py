"""No answer shape makes a traceback: every operation, run with its first example's inputs,
against an empty object, an empty list and an empty body. The result is JSON (what a `result`
expression reads from an absent field is null), or a typed ConnectorError that says what was
wrong with the answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from mscal.errors import ConnectorError
from mscal.templates.render import TemplateRenderError, Templates, render

OPERATIONS = {
    name: operation.examples[0]["input"]
    for name, operation in mscal.load_connector().spec.operations.items()
}
SHAPES = {"empty object": {"json": {}}, "empty list": {"json": []}, "no body": {}}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize(("operation", "inputs"), OPERATIONS.items(), ids=OPERATIONS.keys())
def test_any_answer_shape_gives_json_or_a_typed_error(
    httpx2_mock: HTTPXMock,
    connector: mscal.Connector,
    auth: mscal.Authentication,
    operation: str,
    inputs: dict[str, Any],
    shape: dict[str, Any],
) -> None:
    httpx2_mock.add_response(is_reusable=True, is_optional=True, **shape)
    try:
        result = connector.run(operation, inputs, auth=auth)
    except ConnectorError as exc:
        # A refusal of the answer, said in words (a page without its list, an upload session
        # without its URL), never a crash inside the runtime.
        assert str(exc)
        assert type(exc).__name__ != "SpecError", exc
        return
    json.dumps(result)  # plain data all the way down


def test_an_absent_field_a_result_reads_is_null(
    httpx2_mock: HTTPXMock, connector: mscal.Connector, auth: mscal.Authentication
) -> None:
    # Graph's findMeetingTimes answer without its suggestions: the result says so with nulls.
    httpx2_mock.add_response(json={"emptySuggestionsReason": "attendeesUnavailable"})
    result = connector.run(
        "find_meeting_times",
        {"attendees": [{"emailAddress": {"address": "alex@contoso.com"}}]},
        auth=auth,
    )
    request = httpx2_mock.get_request()
    assert request is not None
    assert request.method == "POST"
    assert request.url.path == "/v1.0/me/findMeetingTimes"
    assert result == {
        "emptySuggestionsReason": "attendeesUnavailable",
        "meetingTimeSuggestions": None,
    }


def test_a_name_the_spec_never_declared_still_fails() -> None:
    templates = Templates({})
    assert render(templates.result("{{ {'a': body.x.y} }}"), {"body": []}) == {"a": None}
    assert render(templates.result("{{ [body.x, 1] }}"), {"body": None}) == [None, 1]
    with pytest.raises(TemplateRenderError, match="nowhere"):
        render(templates.result("{{ {'a': body.x, 'b': nowhere} }}"), {"body": {}})
