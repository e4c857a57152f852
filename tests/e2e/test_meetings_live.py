"""Meetings across mailboxes: invitations, responses reaching the organizer, forwarding,
reminders, and cancellation reaching the attendees."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import mscal
from mscal.io.session import Session
from tests.e2e.conftest import ALEX, MEGAN, q, raw

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


def test_event_actions(connector: mscal.Connector, me: Session, alex: mscal.Authentication) -> None:
    series = me.run(
        "create_event",
        {
            "event": _may_event(
                "Ops series",
                recurrence={
                    "pattern": {"type": "daily", "interval": 1},
                    "range": {"type": "numbered", "startDate": MAY_DAY, "numberOfOccurrences": 3},
                },
            )
        },
    )
    instances = me.run(
        "list_event_instances",
        {
            "event_id": series["id"],
            "start_date_time": f"{MAY_DAY}T00:00:00Z",
            "end_date_time": "2027-05-20T00:00:00Z",
        },
    )["value"]
    assert [i["start"]["dateTime"][:10] for i in instances] == [
        "2027-05-11",
        "2027-05-12",
        "2027-05-13",
    ]
    assert me.run("permanently_delete_event", {"event_id": series["id"]}) == {"deleted": True}

    meeting = me.run(
        "create_event",
        {"event": _may_event("Ops meeting", attendees=[{"emailAddress": {"address": ALEX}}])},
    )
    with connector.session(alex) as them:
        invite = them.run("list_events", {"filter": "subject eq 'Ops meeting'"})["value"][0]
        assert them.run(
            "forward_event",
            {
                "event_id": invite["id"],
                "comment": "FYI",
                "to_recipients": [{"emailAddress": {"address": MEGAN}}],
            },
        ) == {"forwarded": True}
    attendees = [
        a["emailAddress"]["address"]
        for a in me.run("get_event", {"event_id": meeting["id"]})["attendees"]
    ]
    assert attendees == [ALEX, MEGAN]

    window = {"start_date_time": f"{MAY_DAY}T00:00:00Z", "end_date_time": f"{MAY_DAY}T23:59:00Z"}
    subjects = [r["eventSubject"] for r in me.run("list_reminders", window)["value"]]
    assert "Ops meeting" in subjects
    assert me.run(
        "snooze_event_reminder",
        {
            "event_id": meeting["id"],
            "new_reminder_time": {"dateTime": f"{MAY_DAY}T09:55:00", "timeZone": "UTC"},
        },
    ) == {"snoozed": True}
    fire = {
        r["eventSubject"]: r["reminderFireTime"]["dateTime"]
        for r in me.run("list_reminders", window)["value"]
    }
    assert fire["Ops meeting"].startswith(f"{MAY_DAY}T09:55")
    assert me.run("dismiss_event_reminder", {"event_id": meeting["id"]}) == {"dismissed": True}
    assert "Ops meeting" not in [
        r["eventSubject"] for r in me.run("list_reminders", window)["value"]
    ]

    assert me.run("cancel_event", {"event_id": meeting["id"], "comment": "Off"}) == {
        "cancelled": True
    }
    with pytest.raises(mscal.GraphError):
        me.run("get_event", {"event_id": meeting["id"]})


def test_cancel_reaches_the_attendees(
    connector: mscal.Connector, me: Session, alex: mscal.Authentication
) -> None:
    meeting = me.run(
        "create_event",
        {"event": _march_event("To cancel", attendees=[{"emailAddress": {"address": ALEX}}])},
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


def test_an_attendee_taken_off_a_meeting_gets_its_cancellation(
    connector: mscal.Connector, me: Session, alex: mscal.Authentication
) -> None:
    both = [{"emailAddress": {"address": ALEX}}, {"emailAddress": {"address": MEGAN}}]
    meeting = me.run("create_event", {"event": _march_event("Trimmed", attendees=both)})
    me.run(
        "update_event",
        {"event_id": meeting["id"], "event": {"attendees": both[1:], "subject": "Trimmed, moved"}},
    )
    with connector.session(alex) as them:
        copies = them.run("list_events", {"filter": "endswith(subject,'Trimmed')"})["value"]
        assert [(c["subject"], c["isCancelled"]) for c in copies] == [("Canceled: Trimmed", True)]
        them.run("delete_event", {"event_id": copies[0]["id"]})
    me.run("delete_event", {"event_id": meeting["id"]})
