"""The local service refuses what Graph refuses, accepts what Graph accepts, and answers in
Graph's shapes (over a real socket, requests as Graph's docs and msgraph-sdk write them)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx2
import pytest

from mscal.sandbox.service import Sandbox
from tests.e2e.conftest import ADELE, ALEX

START = {"dateTime": "2027-04-05T10:00:00", "timeZone": "Pacific Standard Time"}
END = {"dateTime": "2027-04-05T10:30:00", "timeZone": "Pacific Standard Time"}


@pytest.fixture(scope="module")
def graph(service: str, sandbox: Sandbox) -> Iterator[httpx2.Client]:
    token = sandbox.identity.issue_for(ADELE)
    with httpx2.Client(
        base_url=f"{service}/v1.0", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


@pytest.fixture(scope="module")
def event(graph: httpx2.Client) -> dict[str, Any]:
    answer = graph.post("/me/events", json={"subject": "Fidelity", "start": START, "end": END})
    assert answer.status_code == 201
    return dict(answer.json())


def _error(answer: httpx2.Response) -> tuple[int, str, str]:
    error = answer.json()["error"]
    return answer.status_code, error["code"], error["message"]


@pytest.mark.parametrize(
    ("change", "code", "says"),
    [
        (
            {"subjct": "Typo"},
            "RequestBodyRead",
            "The property 'subjct' does not exist on type 'microsoft.graph.event'.",
        ),
        (
            {"webLink": "https://x"},
            "ErrorInvalidPropertyForOperation",
            "The property 'webLink' is read-only",
        ),
        (
            {"isAllDay": "yes"},
            "RequestBodyRead",
            "Cannot convert the literal 'yes' to the expected type 'Edm.Boolean'",
        ),
        (
            {"attendees": {"emailAddress": {"address": ALEX}}},
            "RequestBodyRead",
            "A 'StartArray' node was expected.",
        ),
        (
            {"recurrence": {"pattern": {"type": "daily", "interval": None}}},
            "RequestBodyRead",
            "A null value was found for the property named 'recurrence/pattern/interval'",
        ),
        ({"showAs": "sleeping"}, "RequestBodyRead", "Requested value 'sleeping' was not found."),
        (
            {"location": {"displayName": "Room", "invented": 1}},
            "RequestBodyRead",
            "The property 'invented' does not exist on type 'microsoft.graph.location'.",
        ),
    ],
)
def test_an_event_body_graph_refuses_is_refused_and_changes_nothing(
    graph: httpx2.Client, event: dict[str, Any], change: dict[str, Any], code: str, says: str
) -> None:
    path = f"/me/events/{quote(event['id'], safe='')}"
    status, got_code, message = _error(graph.patch(path, json=change))
    assert (status, got_code) == (400, code) and says in message
    assert graph.get(path).json()["changeKey"] == event["changeKey"]
    created = graph.post("/me/events", json={"subject": "x", "start": START, "end": END, **change})
    assert _error(created)[:2] == (400, code)


def test_a_calendar_takes_no_null_name_and_no_invented_property(graph: httpx2.Client) -> None:
    name = graph.get("/me/calendar").json()["name"]
    assert _error(graph.patch("/me/calendar", json={"name": None}))[:2] == (
        400,
        "ErrorInvalidRequest",
    )
    invented = graph.patch("/me/calendar", json={"name": "Renamed", "colour": "red"})
    assert _error(invented)[:2] == (400, "RequestBodyRead")
    assert graph.get("/me/calendar").json()["name"] == name


@pytest.mark.parametrize(
    "query",
    ["$count=-2.1e-284", "$count=yes", "$top=-1", "$top=1.5", "$skip=x"],
)
def test_malformed_odata_options_are_400(graph: httpx2.Client, query: str) -> None:
    status, code, _message = _error(graph.get(f"/me/events?{query}"))
    assert (status, code) == (400, "BadRequest")


def test_names_and_enum_members_match_whatever_their_case(graph: httpx2.Client) -> None:
    created = graph.post(
        "/me/events",
        json={
            "Subject": "Cased",
            "Start": START,
            "End": END,
            "Body": {"ContentType": "HTML", "Content": "<p>Agenda</p>"},
            "ShowAs": "Tentative",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["subject"] == "Cased"
    assert body["body"] == {"contentType": "html", "content": "<p>Agenda</p>"}
    assert body["showAs"] == "tentative"


def test_get_schedule_takes_msgraph_sdks_parameter_names(graph: httpx2.Client) -> None:
    answer = graph.post(
        "/me/calendar/getSchedule",
        json={
            "Schedules": [ALEX],
            "StartTime": {"dateTime": "2027-04-05T08:00:00", "timeZone": "UTC"},
            "EndTime": {"dateTime": "2027-04-05T10:00:00", "timeZone": "UTC"},
            "AvailabilityViewInterval": 60,
        },
    )
    assert answer.status_code == 200, answer.text
    assert [(s["scheduleId"], s["availabilityView"]) for s in answer.json()["value"]] == [
        (ALEX, "00")
    ]
    unknown = graph.post("/me/calendar/getSchedule", json={"Schedulez": [ALEX]})
    assert _error(unknown)[:2] == (400, "RequestBodyRead")


def test_functions_take_their_arguments_in_any_case(graph: httpx2.Client) -> None:
    as_docs = graph.get(
        "/me/reminderView(startDateTime='2027-04-05T00:00:00Z',endDateTime='2027-04-06T00:00:00Z')"
    )
    as_sdk = graph.get(
        "/me/reminderView(StartDateTime='2027-04-05T00:00:00Z',EndDateTime='2027-04-06T00:00:00Z')"
    )
    assert as_docs.status_code == as_sdk.status_code == 200
    assert as_docs.json()["value"] == as_sdk.json()["value"] != []


@pytest.mark.parametrize(
    "path",
    [
        "/me/outlook/supportedTimeZones",
        "/me/outlook/supportedTimeZones()",
        "/me/outlook/supportedTimeZones(TimeZoneStandard='Windows')",
    ],
)
def test_supported_time_zones_in_every_form_graph_takes(graph: httpx2.Client, path: str) -> None:
    answer = graph.get(path, params={"$top": "1000"})
    assert answer.status_code == 200, answer.text
    aliases = [z["alias"] for z in answer.json()["value"]]
    assert "Pacific Standard Time" in aliases and "America/Los_Angeles" not in aliases


@pytest.mark.parametrize(
    "argument",
    ["TimeZoneStandard='Iana'", "TimeZoneStandard=microsoft.graph.timeZoneStandard'Iana'"],
)
def test_iana_time_zones_are_iana_names(graph: httpx2.Client, argument: str) -> None:
    answer = graph.get(f"/me/outlook/supportedTimeZones({argument})", params={"$top": "1000"})
    aliases = [z["alias"] for z in answer.json()["value"]]
    assert "America/Los_Angeles" in aliases and "Pacific Standard Time" not in aliases


def test_recurrence_is_echoed_in_graphs_full_shape(graph: httpx2.Client) -> None:
    created = graph.post(
        "/me/events",
        json={
            "subject": "Weekly",
            "start": START,
            "end": END,
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["Monday"]},
                "range": {"type": "numbered", "startDate": "2027-04-05", "numberOfOccurrences": 4},
            },
        },
    )
    assert created.json()["recurrence"] == {
        "pattern": {
            "type": "weekly",
            "interval": 1,
            "month": 0,
            "dayOfMonth": 0,
            "daysOfWeek": ["monday"],
            "firstDayOfWeek": "sunday",
            "index": "first",
        },
        "range": {
            "type": "numbered",
            "startDate": "2027-04-05",
            "endDate": "0001-01-01",
            "recurrenceTimeZone": "Pacific Standard Time",
            "numberOfOccurrences": 4,
        },
    }


def test_the_context_names_the_selection(graph: httpx2.Client, event: dict[str, Any]) -> None:
    listed = graph.get("/me/events", params={"$select": "subject,start", "$top": "1"}).json()
    assert listed["@odata.context"].endswith("/events(subject,start)")
    assert set(listed["value"][0]) == {"@odata.etag", "id", "subject", "start"}
    one = graph.get(f"/me/events/{quote(event['id'], safe='')}", params={"$select": "subject"})
    assert one.json()["@odata.context"].endswith("/events(subject)/$entity")


def test_an_added_attachment_is_answered_as_graph_answers_it(
    graph: httpx2.Client, event: dict[str, Any]
) -> None:
    answer = graph.post(
        f"/me/events/{quote(event['id'], safe='')}/attachments",
        json={
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": "notes.txt",
            "contentBytes": base64.b64encode(b"notes").decode(),
        },
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["@odata.context"].endswith(f"/events('{event['id']}')/attachments/$entity")
    assert body["@odata.type"] == "#microsoft.graph.fileAttachment"
    assert (body["contentId"], body["contentLocation"], body["size"]) == (None, None, 5)
