"""getSchedule, findMeetingTimes, reminderView, forward and calendar permissions, computed from
the stored events, driven through the connector's raw request."""

from __future__ import annotations

from typing import Any

import pytest

import mscal
from mscal.io.session import Session
from tests.e2e.conftest import ADELE, ALEX, MEGAN, q, raw

DAY = "2027-01-12"  # a Tuesday


def _event(subject: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": f"{DAY}T{start}:00", "timeZone": "UTC"},
        "end": {"dateTime": f"{DAY}T{end}:00", "timeZone": "UTC"},
        **extra,
    }


@pytest.fixture
def busy_day(connector: mscal.Connector, me: Session, alex: mscal.Authentication) -> Any:
    made = [
        me.run("create_event", {"event": _event("Focus", "09:00", "10:00")}),
        me.run("create_event", {"event": _event("Maybe", "11:00", "11:30", showAs="tentative")}),
        me.run(
            "create_event", {"event": _event("Secret", "13:00", "14:00", sensitivity="private")}
        ),
    ]
    with connector.session(alex) as them:
        theirs = them.run(
            "create_event", {"event": _event("Alex away", "10:00", "12:00", showAs="oof")}
        )
    yield
    for event in made:
        me.run("delete_event", {"event_id": event["id"]})
    with connector.session(alex) as them:
        them.run("delete_event", {"event_id": theirs["id"]})


def test_get_schedule_from_stored_events(me: Session, busy_day: Any) -> None:
    answer = raw(
        me,
        "POST",
        "/me/calendar/getSchedule",
        {
            "schedules": [ADELE, ALEX, "stranger@fabrikam.com"],
            "startTime": {"dateTime": f"{DAY}T08:00:00", "timeZone": "UTC"},
            "endTime": {"dateTime": f"{DAY}T14:00:00", "timeZone": "UTC"},
            "availabilityViewInterval": 60,
        },
    )["body"]["value"]
    adele, alex, stranger = answer
    assert (
        adele["availabilityView"] == "020102"
    )  # 8 free, 9 busy, 10 free, 11 tentative, 12 free, 13 busy
    assert alex["availabilityView"] == "003300"
    assert [i.get("subject") for i in adele["scheduleItems"]] == ["Focus", "Maybe", None]
    assert adele["scheduleItems"][2]["isPrivate"] is True
    assert stranger["error"]["responseCode"] == "ErrorMailRecipientNotFound"


def test_find_meeting_times_prefers_times_everyone_is_free(me: Session, busy_day: Any) -> None:
    answer = raw(
        me,
        "POST",
        "/me/findMeetingTimes",
        {
            "attendees": [{"type": "required", "emailAddress": {"address": ALEX}}],
            "timeConstraint": {
                "activityDomain": "unrestricted",
                "timeSlots": [
                    {
                        "start": {"dateTime": f"{DAY}T09:00:00", "timeZone": "UTC"},
                        "end": {"dateTime": f"{DAY}T13:00:00", "timeZone": "UTC"},
                    }
                ],
            },
            "meetingDuration": "PT1H",
            "maxCandidates": 3,
            "locationConstraint": {"locations": [{"displayName": "Room 1"}]},
        },
    )["body"]
    suggestions = answer["meetingTimeSuggestions"]
    assert answer["emptySuggestionsReason"] == ""
    assert [s["meetingTimeSlot"]["start"]["dateTime"][11:16] for s in suggestions] == ["12:00"]
    assert suggestions[0]["confidence"] == 100.0 and suggestions[0]["locations"] == [
        {"displayName": "Room 1"}
    ]
    nothing = raw(
        me,
        "POST",
        "/me/findMeetingTimes",
        {
            "attendees": [{"emailAddress": {"address": ALEX}}],
            "meetingDuration": "PT2H",
            "timeConstraint": {
                "activityDomain": "unrestricted",
                "timeSlots": [
                    {
                        "start": {"dateTime": f"{DAY}T10:00:00", "timeZone": "UTC"},
                        "end": {"dateTime": f"{DAY}T12:00:00", "timeZone": "UTC"},
                    }
                ],
            },
        },
    )["body"]
    assert nothing["meetingTimeSuggestions"] == [] and nothing["emptySuggestionsReason"]


def test_reminder_view_dismiss_and_snooze(me: Session, busy_day: Any) -> None:
    view = f"/me/reminderView(StartDateTime='{DAY}T00:00:00',EndDateTime='{DAY}T23:59:00')"
    reminders = raw(me, "GET", view)["body"]["value"]
    by_subject = {r["eventSubject"]: r for r in reminders}
    assert by_subject["Focus"]["reminderFireTime"]["dateTime"].startswith(f"{DAY}T08:45")
    raw(me, "POST", f"/me/events/{q(by_subject['Focus']['eventId'])}/dismissReminder")
    raw(
        me,
        "POST",
        f"/me/events/{q(by_subject['Maybe']['eventId'])}/snoozeReminder",
        {"newReminderTime": {"dateTime": f"{DAY}T11:05:00", "timeZone": "UTC"}},
    )
    after = {r["eventSubject"]: r for r in raw(me, "GET", view)["body"]["value"]}
    assert "Focus" not in after
    assert after["Maybe"]["reminderFireTime"]["dateTime"].startswith(f"{DAY}T11:05")


def test_forward_adds_the_recipient_to_the_meeting(
    connector: mscal.Connector, me: Session, alex: mscal.Authentication
) -> None:
    meeting = me.run(
        "create_event",
        {
            "event": _event(
                "Forwarded", "15:00", "16:00", attendees=[{"emailAddress": {"address": ALEX}}]
            )
        },
    )
    with connector.session(alex) as them:
        invite = them.run("list_events", {"filter": "subject eq 'Forwarded'"})["value"][0]
        forwarded = them.run(
            "raw_http_request",
            {
                "method": "POST",
                "endpoint": f"/me/events/{q(invite['id'])}/forward",
                "body_type": "json",
                "body": {"toRecipients": [{"emailAddress": {"address": MEGAN}}], "comment": "FYI"},
            },
        )
    assert forwarded["status_code"] == 202
    attendees = [
        a["emailAddress"]["address"]
        for a in me.run("get_event", {"event_id": meeting["id"]})["attendees"]
    ]
    assert attendees == [ALEX, MEGAN]
    me.run("delete_event", {"event_id": meeting["id"]})


def test_calendar_permissions_lifecycle(me: Session) -> None:
    listed = raw(me, "GET", "/me/calendar/calendarPermissions")["body"]["value"]
    assert [(p["emailAddress"]["name"], p["role"], p["isRemovable"]) for p in listed] == [
        ("My Organization", "freeBusyRead", False)
    ]
    roles = raw(me, "GET", f"/me/calendar/allowedCalendarSharingRoles(User='{ALEX}')")["body"][
        "value"
    ]
    assert "delegateWithPrivateEventAccess" in roles
    external = raw(me, "GET", "/me/calendar/allowedCalendarSharingRoles(User='x@fabrikam.com')")[
        "body"
    ]["value"]
    assert external == ["none", "freeBusyRead", "limitedRead", "read"]
    created = raw(
        me,
        "POST",
        "/me/calendar/calendarPermissions",
        {"emailAddress": {"address": ALEX, "name": "Alex"}, "role": "read"},
    )
    assert created["status_code"] == 201
    permission = created["body"]
    changed = raw(
        me,
        "PATCH",
        f"/me/calendar/calendarPermissions/{q(permission['id'])}",
        {"role": "write"},
    )
    assert changed["body"]["role"] == "write"
    with pytest.raises(mscal.GraphError) as caught:
        raw(
            me,
            "POST",
            "/me/calendar/calendarPermissions",
            {"emailAddress": {"address": "x@fabrikam.com"}, "role": "write"},
        )
    assert caught.value.code == "ErrorInvalidParameter"
    assert (
        raw(me, "DELETE", f"/me/calendar/calendarPermissions/{q(permission['id'])}")["status_code"]
        == 204
    )
    with pytest.raises(mscal.GraphError) as caught:
        raw(me, "DELETE", f"/me/calendar/calendarPermissions/{q(listed[0]['id'])}")
    assert caught.value.status_code == 403


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


def test_scheduling_operations(me: Session) -> None:
    busy = me.run("create_event", {"event": _may_event("Ops busy", "09:00", "10:00")})
    schedule = me.run(
        "get_schedule",
        {
            "schedules": [ADELE, "nobody@fabrikam.com"],
            "availability_view_interval": 60,
            "start_time": {"dateTime": f"{MAY_DAY}T08:00:00", "timeZone": "UTC"},
            "end_time": {"dateTime": f"{MAY_DAY}T11:00:00", "timeZone": "UTC"},
        },
    )["value"]
    assert schedule[0]["availabilityView"] == "020"
    assert "error" in schedule[1]
    found = me.run(
        "find_meeting_times",
        {
            "attendees": [{"emailAddress": {"address": ALEX}}],
            "meeting_duration": "PT1H",
            "max_candidates": 2,
            "time_constraint": {
                "activityDomain": "unrestricted",
                "timeSlots": [
                    {
                        "start": {"dateTime": f"{MAY_DAY}T09:00:00", "timeZone": "UTC"},
                        "end": {"dateTime": f"{MAY_DAY}T12:00:00", "timeZone": "UTC"},
                    }
                ],
            },
        },
    )
    starts = [
        s["meetingTimeSlot"]["start"]["dateTime"][11:16] for s in found["meetingTimeSuggestions"]
    ]
    assert starts == ["10:00", "10:30"]
    me.run("delete_event", {"event_id": busy["id"]})


def test_sharing_operations(me: Session) -> None:
    roles = me.run("list_allowed_calendar_sharing_roles", {"user": ALEX})["value"]
    assert "write" in roles
    made = me.run(
        "create_calendar_permission",
        {"calendar_permission": {"emailAddress": {"address": MEGAN}, "role": "read"}},
    )
    assert me.run("get_calendar_permission", {"permission_id": made["id"]})["role"] == "read"
    changed = me.run(
        "update_calendar_permission",
        {"permission_id": made["id"], "calendar_permission": {"role": "write"}},
    )
    assert changed["role"] == "write"
    listed = me.run("list_calendar_permissions", {"all_pages": True})["value"]
    assert {p.get("emailAddress", {}).get("address") for p in listed} >= {MEGAN}
    assert me.run("delete_calendar_permission", {"permission_id": made["id"]}) == {"deleted": True}
