"""Events through the connector: lifecycle in the default and a named calendar, paging,
search and count, time zones and body preferences, raw requests, transactionId de-duplication."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import mscal
from mscal.io.session import Session
from tests.e2e.conftest import q, raw

MONDAY = dt.date(2026, 11, 23)


def _event(
    subject: str, day: dt.date = MONDAY, hour: int = 10, tz: str = "UTC", **extra: Any
) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": f"{day}T{hour:02d}:00:00", "timeZone": tz},
        "end": {"dateTime": f"{day}T{hour:02d}:30:00", "timeZone": tz},
        **extra,
    }


def _march_event(subject: str, **extra: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": "2027-03-01T10:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2027-03-01T11:00:00", "timeZone": "UTC"},
        **extra,
    }


MAY_DAY = "2027-05-11"  # a Tuesday


def _may_event(
    subject: str, start: str = "10:00", end: str = "11:00", **extra: Any
) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": f"{MAY_DAY}T{start}:00", "timeZone": "UTC"},
        "end": {"dateTime": f"{MAY_DAY}T{end}:00", "timeZone": "UTC"},
        **extra,
    }


def test_event_lifecycle_in_default_and_named_calendar(me: Session) -> None:
    calendar = me.run("create_calendar", {"calendar": {"name": "E2E events"}})
    for calendar_id in (None, calendar["id"]):
        scope = {"calendar_id": calendar_id} if calendar_id else {}
        event = me.run("create_event", {**scope, "event": _event("E2E meeting", hour=15)})
        assert event["subject"] == "E2E meeting"
        assert event["start"] == {"dateTime": f"{MONDAY}T15:00:00.0000000", "timeZone": "UTC"}
        got = me.run(
            "get_event", {**scope, "event_id": event["id"], "time_zone": "Pacific Standard Time"}
        )
        assert got["start"] == {
            "dateTime": f"{MONDAY}T07:00:00.0000000",
            "timeZone": "Pacific Standard Time",
        }
        changed = me.run(
            "update_event", {**scope, "event_id": event["id"], "event": {"subject": "Moved"}}
        )
        assert changed["subject"] == "Moved"
        listed = me.run(
            "list_events", {**scope, "filter": "subject eq 'Moved'", "select": ["subject"]}
        )
        assert [e["id"] for e in listed["value"]] == [event["id"]]
        assert me.run("delete_event", {**scope, "event_id": event["id"]}) == {"deleted": True}
        with pytest.raises(mscal.GraphError):
            me.run("get_event", {**scope, "event_id": event["id"]})
    me.run("delete_calendar", {"calendar_id": calendar["id"]})


def test_paging_across_pages(me: Session) -> None:
    calendar = me.run("create_calendar", {"calendar": {"name": "E2E paging"}})
    for i in range(23):
        me.run(
            "create_event",
            {"calendar_id": calendar["id"], "event": _event(f"Item {i:02d}", hour=i % 24)},
        )
    first = me.run("list_events", {"calendar_id": calendar["id"]})
    assert len(first["value"]) == 10 and first["next_link"]
    second = me.run("list_events", {"calendar_id": calendar["id"], "next_link": first["next_link"]})
    assert len(second["value"]) == 10
    everything = me.run(
        "list_events", {"calendar_id": calendar["id"], "all_pages": True, "orderby": ["subject"]}
    )
    subjects = [e["subject"] for e in everything["value"]]
    assert subjects == [f"Item {i:02d}" for i in range(23)] and everything["next_link"] is None
    some = me.run("list_events", {"calendar_id": calendar["id"], "max_items": 15, "top": 4})
    assert len(some["value"]) == 15 and some["next_link"]
    me.run("delete_calendar", {"calendar_id": calendar["id"]})


def test_search_and_count(me: Session) -> None:
    made = [
        me.run("create_event", {"event": _may_event(subject)})
        for subject in ("Budget review", "Design review", "Lunch")
    ]
    found = me.run(
        "list_events",
        {
            "search": '"review"',
            "count": True,
            "top": 1,
            "all_pages": True,
            "filter": "start/dateTime ge '2027-05-11T00:00:00'",
        },
    )
    assert sorted(e["subject"] for e in found["value"]) == ["Budget review", "Design review"]
    assert found["count"] == 2
    assert "count" not in me.run("list_events", {"search": '"lunch"'})
    for event in made:
        me.run("delete_event", {"event_id": event["id"]})


def test_time_zones_windows_and_iana(me: Session) -> None:
    event = me.run("create_event", {"event": _event("Zones", tz="Tokyo Standard Time", hour=18)})
    for zone, local in [
        ("UTC", "09:00"),
        ("Eastern Standard Time", "04:00"),
        ("America/New_York", "04:00"),
        ("India Standard Time", "14:30"),
    ]:
        got = me.run("get_event", {"event_id": event["id"], "time_zone": zone})
        assert got["start"]["dateTime"][11:16] == local and got["start"]["timeZone"] == zone
    assert got["originalStartTimeZone"] == "Tokyo Standard Time"
    with pytest.raises(mscal.GraphError) as caught:
        me.run("get_event", {"event_id": event["id"], "time_zone": "Mars/Olympus"})
    assert caught.value.status_code == 400
    me.run("delete_event", {"event_id": event["id"]})


def test_body_content_type_preference(me: Session) -> None:
    event = me.run(
        "create_event",
        {
            "event": _march_event(
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


def test_raw_http_request_live(me: Session) -> None:
    raw = me.run("raw_http_request", {"endpoint": "/me/calendars", "query": {"$top": 1}})
    assert raw["status_code"] == 200 and len(raw["body"]["value"]) == 1
    assert raw["headers"]["request-id"]
    created = me.run(
        "raw_http_request",
        {"method": "POST", "endpoint": "/me/events", "body_type": "json", "body": _event("Raw")},
    )
    assert created["status_code"] == 201 and created["headers"]["location"].endswith(
        f"events('{created['body']['id']}')"
    )
    with pytest.raises(mscal.GraphError) as caught:
        me.run("raw_http_request", {"endpoint": "/me/nonsense"})
    assert caught.value.code == "BadRequest"
    me.run("delete_event", {"event_id": created["body"]["id"]})


def test_transaction_id_deduplicates_event_creation(me: Session) -> None:
    event = _event("Once", transactionId="7E163156-7762-4BEB-A1C6-729EA81755A7")
    first = me.run("create_event", {"event": event})
    second = me.run("create_event", {"event": event})
    assert first["id"] == second["id"]
    me.run("delete_event", {"event_id": first["id"]})
