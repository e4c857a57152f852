"""Inputs take Graph's spellings, and resource bodies are checked as Graph checks them: the
exact request that goes out, or the one error naming the field and the rule (nothing sent)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from tests.conftest import GRAPH


def _sent(httpx2_mock: HTTPXMock) -> Any:
    request = httpx2_mock.get_request()
    assert request is not None
    return request


@pytest.mark.parametrize(
    ("inputs", "query"),
    [
        # Graph's own string forms, as its docs write them...
        (
            {"orderby": "start/dateTime desc, subject", "select": "subject,start"},
            "%24select=subject%2Cstart&%24orderby=start%2FdateTime+desc%2C+subject",
        ),
        ({"expand": "attachments"}, "%24expand=attachments"),
        # ...and the lists builders' forms give.
        (
            {"orderby": ["start/dateTime desc", "subject"], "select": ["subject", "start"]},
            "%24select=subject%2Cstart&%24orderby=start%2FdateTime+desc%2Csubject",
        ),
        ({"expand": ["attachments", "instances"]}, "%24expand=attachments%2Cinstances"),
    ],
)
def test_odata_options_in_graphs_string_form_or_as_lists(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], inputs: dict[str, Any], query: str
) -> None:
    httpx2_mock.add_response(json={"value": [{"id": "e1"}]})
    assert run("list_events", inputs) == {"value": [{"id": "e1"}], "next_link": None}
    assert str(_sent(httpx2_mock).url) == f"{GRAPH}/me/events?{query}"


def test_graphs_spellings_of_names_and_enum_values_are_sent_in_the_specs(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(status_code=201, json={"id": "e1"})
    event = {
        "Subject": "Lunch",
        "body": {"contentType": "HTML", "Content": "<p>Noon?</p>"},
        "start": {"dateTime": "2026-12-01T12:00:00", "timeZone": "UTC"},
        "attendees": [{"EmailAddress": {"Address": "alex@contoso.com"}, "type": "Required"}],
        "showAs": "BUSY",
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["Monday"]},
            "range": {"type": "noEnd", "startDate": "2026-12-01"},
        },
        "transactionId": "t-1",
    }
    assert run("create_event", {"event": event}) == {"id": "e1"}
    request = _sent(httpx2_mock)
    assert (request.method, str(request.url)) == ("POST", f"{GRAPH}/me/events")
    assert json.loads(request.content) == {
        "subject": "Lunch",
        "body": {"contentType": "html", "content": "<p>Noon?</p>"},
        "start": {"dateTime": "2026-12-01T12:00:00", "timeZone": "UTC"},
        "attendees": [{"emailAddress": {"address": "alex@contoso.com"}, "type": "required"}],
        "showAs": "busy",
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "noEnd", "startDate": "2026-12-01"},
        },
        "transactionId": "t-1",
    }
    assert event["Subject"] == "Lunch"  # the caller's input is left as it was


def test_graph_enum_inputs_outside_bodies_take_any_case(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(json={"value": []})
    run("list_supported_time_zones", {"time_zone_standard": "iana"})
    assert str(_sent(httpx2_mock).url) == (
        f"{GRAPH}/me/outlook/supportedTimeZones(TimeZoneStandard='Iana')"
    )


def test_odata_type_is_taken_where_graph_takes_it(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(status_code=201, json={"id": "e1"})
    event = {"@odata.type": "#microsoft.graph.event", "subject": "S", "transactionId": "t"}
    run("create_event", {"event": event})
    assert json.loads(_sent(httpx2_mock).content) == event


REFUSED = [
    # (operation, inputs, field, rule, message)
    (
        "create_event",
        {"event": {"subjct": "Typo"}},
        "event.subjct",
        "unknown",
        "is not a known property; did you mean subject?",
    ),
    (
        "update_event",
        {"event_id": "e1", "event": {"location": {"displayNme": "Room"}}},
        "event.location.displayNme",
        "unknown",
        "is not a known property; did you mean displayName?",
    ),
    (
        "create_event",
        {"event": {"subject": "S", "webLink": "https://outlook.office.com/x"}},
        "event.webLink",
        "readOnly",
        "is read-only: Graph sets it, so it cannot be sent",
    ),
    (
        "create_event",
        {"event": {"attendees": [{"emailAddress": {"address": "a@b"}, "status": {}}]}},
        "event.attendees[0].status",
        "readOnly",
        "is read-only: Graph sets it, so it cannot be sent",
    ),
    (
        "create_calendar",
        {"calendar": {"name": "C", "isDefaultCalendar": True}},
        "calendar.isDefaultCalendar",
        "readOnly",
        "is read-only: Graph sets it, so it cannot be sent",
    ),
    (
        "create_event",
        {"event": {"@odata.type": "#microsoft.graph.calendar"}},
        "event.@odata.type",
        "pattern",
        "'#microsoft.graph.calendar' is not in the expected form, e.g. #microsoft.graph.event",
    ),
    (
        "create_event",
        {"event": {"body": {"contentType": "markdown"}}},
        "event.body.contentType",
        "enum",
        "must be one of text, html, got 'markdown'",
    ),
    (
        "list_events",
        {"select": "subject;start"},
        "select",
        "pattern",
        'must be property names, as a list (["subject", "start"]) or as Graph writes them '
        '("subject,start")',
    ),
    ("list_events", {"orderby": 5}, "orderby", "type", "must be array or string, got integer"),
    (
        "list_events",
        {"selct": "subject"},
        "selct",
        "unknown",
        "is not a known input; did you mean select?",
    ),
]


@pytest.mark.parametrize(("operation", "inputs", "field", "rule", "message"), REFUSED)
def test_bodies_are_checked_like_graph_checks_them_and_nothing_is_sent(
    httpx2_mock: HTTPXMock,
    run: Callable[..., Any],
    operation: str,
    inputs: dict[str, Any],
    field: str,
    rule: str,
    message: str,
) -> None:
    with pytest.raises(mscal.InputError) as caught:
        run(operation, inputs)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert str(caught.value).startswith(f"{field}: {message}")
    assert httpx2_mock.get_requests() == []


def _properties(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property an input schema offers, with its path, at any depth."""
    if isinstance(node, dict):
        for name, schema in (node.get("properties") or {}).items():
            if isinstance(schema, dict):
                yield f"{path}.{name}", schema
                yield from _properties(schema, f"{path}.{name}")
        if isinstance(node.get("items"), dict):
            yield from _properties(node["items"], f"{path}[]")
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(key) or ():
                yield from _properties(branch, path)


def test_every_property_offered_has_a_title_and_a_description_and_none_is_read_only(
    connector: mscal.Connector,
) -> None:
    offered = [
        (path, schema)
        for name in connector.spec.operations
        for path, schema in _properties(connector.describe(name)["input_schema"], name)
    ]
    assert len(offered) > 300
    assert [path for path, schema in offered if not schema.get("title")] == []
    assert [path for path, schema in offered if not schema.get("description")] == []
    assert [path for path, schema in offered if schema.get("readOnly")] == []


def test_read_only_properties_stay_in_what_comes_back(connector: mscal.Connector) -> None:
    described = connector.describe("create_event")
    event_in = described["input_schema"]["properties"]["event"]
    assert "webLink" not in event_in["properties"]
    assert "webLink" in event_in["x-read-only"]
    assert event_in["additionalProperties"] is False
    event_out = described["output_schema"]
    assert event_out["properties"]["webLink"]["readOnly"] is True
    assert "additionalProperties" not in event_out  # Graph's answers carry annotations too
