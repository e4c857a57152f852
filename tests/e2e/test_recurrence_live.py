"""Recurring series through the connector: each pattern expanded in the series' time zone, an
edited and a cancelled occurrence, and a series' instances."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

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


def test_instances_of_a_series(me: Session) -> None:
    series = me.run(
        "create_event",
        {
            "event": _march_event(
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
