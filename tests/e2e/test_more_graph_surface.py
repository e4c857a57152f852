"""Calendar groups, instances, cancel, permanentDelete and body preferences, over the wire."""

from __future__ import annotations

from typing import Any

import mscal
from mscal.io.session import Session
from tests.e2e.conftest import ALEX, q, raw


def _event(subject: str, **extra: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": "2027-03-01T10:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2027-03-01T11:00:00", "timeZone": "UTC"},
        **extra,
    }


def test_calendar_groups_and_their_calendars(me: Session) -> None:
    groups = raw(me, "GET", "/me/calendarGroups")["body"]["value"]
    assert [g["name"] for g in groups] == ["My Calendars"]
    group = raw(me, "POST", "/me/calendarGroups", {"name": "Projects"})["body"]
    calendar = raw(
        me, "POST", f"/me/calendarGroups/{q(group['id'])}/calendars", {"name": "Apollo"}
    )["body"]
    inside = raw(me, "GET", f"/me/calendarGroups/{q(group['id'])}/calendars")["body"]["value"]
    assert [c["name"] for c in inside] == ["Apollo"]
    event = raw(
        me,
        "POST",
        f"/me/calendarGroups/{q(group['id'])}/calendars/{q(calendar['id'])}/events",
        _event("In a group calendar"),
    )["body"]
    assert (
        me.run("get_event", {"calendar_id": calendar["id"], "event_id": event["id"]})["subject"]
        == "In a group calendar"
    )
    renamed = raw(me, "PATCH", f"/me/calendarGroups/{q(group['id'])}", {"name": "Projects 2027"})[
        "body"
    ]
    assert renamed["name"] == "Projects 2027"
    refused = None
    try:
        raw(me, "DELETE", f"/me/calendarGroups/{q(group['id'])}")
    except mscal.GraphError as exc:
        refused = exc.code
    assert refused == "ErrorCannotDeleteObject"  # not empty
    me.run("delete_calendar", {"calendar_id": calendar["id"]})
    assert raw(me, "DELETE", f"/me/calendarGroups/{q(group['id'])}")["status_code"] == 204


def test_instances_of_a_series(me: Session) -> None:
    series = me.run(
        "create_event",
        {
            "event": _event(
                "Series",
                recurrence={
                    "pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["monday"]},
                    "range": {
                        "type": "endDate",
                        "startDate": "2027-03-01",
                        "endDate": "2027-04-30",
                    },
                },
            )
        },
    )
    instances = raw(
        me,
        "GET",
        f"/me/events/{q(series['id'])}/instances",
        query={"startDateTime": "2027-03-01T00:00:00Z", "endDateTime": "2027-05-01T00:00:00Z"},
    )
    days = [i["start"]["dateTime"][:10] for i in instances["body"]["value"]]
    assert days == ["2027-03-01", "2027-03-15", "2027-03-29", "2027-04-12", "2027-04-26"]
    one = me.run("get_event", {"event_id": instances["body"]["value"][1]["id"]})
    assert (one["type"], one["seriesMasterId"]) == ("occurrence", series["id"])
    assert raw(me, "POST", f"/me/events/{q(series['id'])}/permanentDelete")["status_code"] == 204


def test_cancel_reaches_the_attendees(
    connector: mscal.Connector, me: Session, alex: mscal.Authentication
) -> None:
    meeting = me.run(
        "create_event",
        {"event": _event("To cancel", attendees=[{"emailAddress": {"address": ALEX}}])},
    )
    assert (
        raw(me, "POST", f"/me/events/{q(meeting['id'])}/cancel", {"comment": "Sorry"})[
            "status_code"
        ]
        == 202
    )
    with connector.session(alex) as them:
        copies = them.run("list_events", {"filter": "startswith(subject,'Canceled: To cancel')"})[
            "value"
        ]
        assert [c["isCancelled"] for c in copies] == [True]
        them.run("delete_event", {"event_id": copies[0]["id"]})


def test_body_content_type_preference(me: Session) -> None:
    event = me.run(
        "create_event",
        {
            "event": _event(
                "Body", body={"contentType": "html", "content": "<p>Hello <b>world</b></p>"}
            )
        },
    )
    as_text = me.run("get_event", {"event_id": event["id"], "body_content_type": "text"})
    assert as_text["body"] == {"contentType": "text", "content": "Hello world"}
    answer = raw(
        me,
        "GET",
        f"/me/events/{q(event['id'])}",
        headers={"Prefer": 'outlook.body-content-type="text"'},
    )
    assert answer["headers"]["preference-applied"] == 'outlook.body-content-type="text"'
    me.run("delete_event", {"event_id": event["id"]})
