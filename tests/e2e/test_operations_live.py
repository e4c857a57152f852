"""Every connector operation against the local Graph service, over real sockets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import mscal
from mscal.io.session import Session
from tests.e2e.conftest import ALEX, MEGAN

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


def test_calendar_lifecycle(me: Session) -> None:
    created = me.run(
        "create_calendar", {"calendar": {"name": "E2E lifecycle", "color": "lightBlue"}}
    )
    assert created["name"] == "E2E lifecycle" and created["color"] == "lightBlue"
    assert created["@odata.etag"].startswith('W/"')
    assert "/" in created["id"] or "+" in created["id"] or created["id"].endswith("=")

    fetched = me.run("get_calendar", {"calendar_id": created["id"], "select": ["name"]})
    assert fetched["name"] == "E2E lifecycle" and "color" not in fetched

    updated = me.run(
        "update_calendar", {"calendar_id": created["id"], "calendar": {"color": "lightRed"}}
    )
    assert updated["color"] == "lightRed" and updated["changeKey"] != created["changeKey"]

    names = [c["name"] for c in me.run("list_calendars", {"all_pages": True})["value"]]
    assert "E2E lifecycle" in names and "Calendar" in names

    assert me.run("delete_calendar", {"calendar_id": created["id"]}) == {"deleted": True}
    with pytest.raises(mscal.GraphError) as caught:
        me.run("get_calendar", {"calendar_id": created["id"]})
    assert (caught.value.status_code, caught.value.code) == (404, "ErrorItemNotFound")
    assert caught.value.request_id and caught.value.client_request_id


def test_default_calendar_and_update(me: Session) -> None:
    default = me.run("get_calendar")
    assert default["isDefaultCalendar"] is True
    with pytest.raises(mscal.GraphError) as caught:
        me.run("delete_calendar", {"calendar_id": default["id"]})
    assert caught.value.code == "ErrorCannotDeleteObject"


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


def test_recurrence_with_an_edited_and_a_cancelled_occurrence(me: Session) -> None:
    calendar = me.run("create_calendar", {"calendar": {"name": "E2E series"}})
    series = me.run(
        "create_event",
        {
            "calendar_id": calendar["id"],
            "event": _event(
                "Weekly",
                tz="Europe/Berlin",
                hour=9,
                recurrence={
                    "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                    "range": {
                        "type": "numbered",
                        "startDate": str(MONDAY),
                        "numberOfOccurrences": 5,
                    },
                },
            ),
        },
    )
    window = {
        "calendar_id": calendar["id"],
        "start_date_time": f"{MONDAY}T00:00:00Z",
        "end_date_time": f"{MONDAY + dt.timedelta(days=42)}T00:00:00Z",
        "all_pages": True,
    }
    occurrences = me.run("list_calendar_view", window)["value"]
    assert [o["start"]["dateTime"][:16] for o in occurrences] == [
        f"{MONDAY + dt.timedelta(weeks=w)}T08:00" for w in range(5)
    ]  # 09:00 Berlin is 08:00 UTC
    assert {o["type"] for o in occurrences} == {"occurrence"}
    assert {o["seriesMasterId"] for o in occurrences} == {series["id"]}

    me.run(
        "update_event",
        {
            "event_id": occurrences[1]["id"],
            "event": {
                "subject": "Weekly (moved)",
                "start": {
                    "dateTime": f"{MONDAY + dt.timedelta(days=8)}T13:00:00",
                    "timeZone": "UTC",
                },
                "end": {"dateTime": f"{MONDAY + dt.timedelta(days=8)}T14:00:00", "timeZone": "UTC"},
            },
        },
    )
    me.run("delete_event", {"event_id": occurrences[3]["id"]})

    after = me.run("list_calendar_view", {**window, "time_zone": "Europe/Berlin"})["value"]
    assert [(o["subject"], o["start"]["dateTime"][:16], o["type"]) for o in after] == [
        ("Weekly", f"{MONDAY}T09:00", "occurrence"),
        ("Weekly (moved)", f"{MONDAY + dt.timedelta(days=8)}T14:00", "exception"),
        ("Weekly", f"{MONDAY + dt.timedelta(weeks=2)}T09:00", "occurrence"),
        ("Weekly", f"{MONDAY + dt.timedelta(weeks=4)}T09:00", "occurrence"),
    ]
    masters = me.run("list_events", {"calendar_id": calendar["id"]})["value"]
    assert [(m["type"], m["subject"]) for m in masters] == [("seriesMaster", "Weekly")]
    me.run("delete_calendar", {"calendar_id": calendar["id"]})


@pytest.mark.parametrize(
    ("pattern", "range_", "expected"),
    [
        (
            {"type": "daily", "interval": 3},
            {"type": "endDate", "endDate": "2026-12-01"},
            ["2026-11-23", "2026-11-26", "2026-11-29"],
        ),
        (
            {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 23},
            {"type": "numbered", "numberOfOccurrences": 3},
            ["2026-11-23", "2026-12-23", "2027-01-23"],
        ),
        (
            {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["monday"], "index": "last"},
            {"type": "numbered", "numberOfOccurrences": 3},
            ["2026-11-30", "2026-12-28", "2027-01-25"],
        ),
        (
            {"type": "absoluteYearly", "interval": 1, "month": 11, "dayOfMonth": 23},
            {"type": "noEnd"},
            ["2026-11-23", "2027-11-23"],
        ),
        (
            {
                "type": "relativeYearly",
                "interval": 1,
                "month": 11,
                "daysOfWeek": ["thursday"],
                "index": "fourth",
            },
            {"type": "noEnd"},
            ["2026-11-26", "2027-11-25"],
        ),
    ],
)
def test_recurrence_patterns(
    me: Session, pattern: dict[str, Any], range_: dict[str, Any], expected: list[str]
) -> None:
    calendar = me.run("create_calendar", {"calendar": {"name": f"E2E {pattern['type']}"}})
    me.run(
        "create_event",
        {
            "calendar_id": calendar["id"],
            "event": _event(
                "Series",
                recurrence={"pattern": pattern, "range": {"startDate": str(MONDAY), **range_}},
            ),
        },
    )
    view = me.run(
        "list_calendar_view",
        {
            "calendar_id": calendar["id"],
            "start_date_time": f"{MONDAY}T00:00:00Z",
            "end_date_time": "2027-12-31T00:00:00Z",
            "all_pages": True,
        },
    )["value"]
    assert [o["start"]["dateTime"][:10] for o in view] == expected
    me.run("delete_calendar", {"calendar_id": calendar["id"]})


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


def test_meeting_responses_reach_the_organizer(
    connector: mscal.Connector, me: Session, alex: mscal.Authentication
) -> None:
    meeting = me.run(
        "create_event",
        {
            "event": _event(
                "E2E invite",
                attendees=[
                    {"emailAddress": {"address": ALEX}},
                    {"emailAddress": {"address": MEGAN}},
                ],
            )
        },
    )
    with connector.session(alex) as them:
        invite = them.run("list_events", {"filter": "subject eq 'E2E invite'"})["value"][0]
        assert invite["isOrganizer"] is False
        assert them.run("tentatively_accept_event", {"event_id": invite["id"]}) == {
            "tentatively_accepted": True
        }
        statuses = {
            a["emailAddress"]["address"]: a["status"]["response"]
            for a in me.run("get_event", {"event_id": meeting["id"]})["attendees"]
        }
        assert statuses == {ALEX: "tentativelyAccepted", MEGAN: "none"}
        assert them.run("decline_event", {"event_id": invite["id"], "comment": "Clash"}) == {
            "declined": True
        }
        assert them.run("accept_event", {"event_id": invite["id"], "send_response": False}) == {
            "accepted": True
        }
        assert (
            them.run("get_event", {"event_id": invite["id"]})["responseStatus"]["response"]
            == "accepted"
        )
    with pytest.raises(mscal.GraphError) as caught:
        me.run("accept_event", {"event_id": meeting["id"]})
    assert caught.value.status_code == 400
    me.run("delete_event", {"event_id": meeting["id"]})


def test_other_users_and_group_calendars_with_an_app_token(
    connector: mscal.Connector, app_auth: mscal.Authentication
) -> None:
    with connector.session(app_auth) as app:
        calendars = app.run("list_calendars", {"user_id": ALEX})["value"]
        assert [c["name"] for c in calendars] == ["Calendar"]
        group = "02bd9fd6-8f93-4758-87c3-1fb73740a315"
        assert app.run("get_calendar", {"group_id": group})["name"] == "Calendar"
        assert [e["subject"] for e in app.run("list_events", {"group_id": group})["value"]] == [
            "Apollo launch review"
        ]
        with pytest.raises(mscal.GraphError) as caught:
            app.run("list_calendars")
        assert (caught.value.status_code, caught.value.code) == (400, "BadRequest")
        assert "delegated" in caught.value.message


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
