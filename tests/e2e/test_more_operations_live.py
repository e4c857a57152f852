"""The issue-4 operations against the local Graph service, through the connector."""

from __future__ import annotations

import base64
from typing import Any

import pytest

import mscal
from mscal.io.session import Session
from tests.e2e.conftest import ADELE, ALEX, MEGAN

DAY = "2027-05-11"  # a Tuesday


def _event(subject: str, start: str = "10:00", end: str = "11:00", **extra: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": f"{DAY}T{start}:00", "timeZone": "UTC"},
        "end": {"dateTime": f"{DAY}T{end}:00", "timeZone": "UTC"},
        **extra,
    }


def test_calendar_groups_operations(me: Session) -> None:
    group = me.run("create_calendar_group", {"calendar_group": {"name": "Ops group"}})
    assert me.run("get_calendar_group", {"calendar_group_id": group["id"]})["name"] == "Ops group"
    renamed = me.run(
        "update_calendar_group",
        {"calendar_group_id": group["id"], "calendar_group": {"name": "Ops 2"}},
    )
    assert renamed["name"] == "Ops 2"
    names = [g["name"] for g in me.run("list_calendar_groups", {"all_pages": True})["value"]]
    assert "My Calendars" in names and "Ops 2" in names
    calendar = me.run(
        "create_calendar", {"calendar_group_id": group["id"], "calendar": {"name": "Grouped"}}
    )
    inside = me.run("list_calendars", {"calendar_group_id": group["id"]})["value"]
    assert [c["name"] for c in inside] == ["Grouped"]
    scope = {"calendar_group_id": group["id"], "calendar_id": calendar["id"]}
    event = me.run("create_event", {**scope, "event": _event("In group")})
    assert me.run("get_event", {**scope, "event_id": event["id"]})["subject"] == "In group"
    assert (
        me.run("update_calendar", {**scope, "calendar": {"color": "lightRed"}})["color"]
        == "lightRed"
    )
    assert me.run("permanently_delete_calendar", scope) == {"deleted": True}
    assert me.run("delete_calendar_group", {"calendar_group_id": group["id"]}) == {"deleted": True}


def test_event_actions(connector: mscal.Connector, me: Session, alex: mscal.Authentication) -> None:
    series = me.run(
        "create_event",
        {
            "event": _event(
                "Ops series",
                recurrence={
                    "pattern": {"type": "daily", "interval": 1},
                    "range": {"type": "numbered", "startDate": DAY, "numberOfOccurrences": 3},
                },
            )
        },
    )
    instances = me.run(
        "list_event_instances",
        {
            "event_id": series["id"],
            "start_date_time": f"{DAY}T00:00:00Z",
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
        {"event": _event("Ops meeting", attendees=[{"emailAddress": {"address": ALEX}}])},
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

    window = {"start_date_time": f"{DAY}T00:00:00Z", "end_date_time": f"{DAY}T23:59:00Z"}
    subjects = [r["eventSubject"] for r in me.run("list_reminders", window)["value"]]
    assert "Ops meeting" in subjects
    assert me.run(
        "snooze_event_reminder",
        {
            "event_id": meeting["id"],
            "new_reminder_time": {"dateTime": f"{DAY}T09:55:00", "timeZone": "UTC"},
        },
    ) == {"snoozed": True}
    fire = {
        r["eventSubject"]: r["reminderFireTime"]["dateTime"]
        for r in me.run("list_reminders", window)["value"]
    }
    assert fire["Ops meeting"].startswith(f"{DAY}T09:55")
    assert me.run("dismiss_event_reminder", {"event_id": meeting["id"]}) == {"dismissed": True}
    assert "Ops meeting" not in [
        r["eventSubject"] for r in me.run("list_reminders", window)["value"]
    ]

    assert me.run("cancel_event", {"event_id": meeting["id"], "comment": "Off"}) == {
        "cancelled": True
    }
    with pytest.raises(mscal.GraphError):
        me.run("get_event", {"event_id": meeting["id"]})


def test_attachment_operations(me: Session) -> None:
    event = me.run("create_event", {"event": _event("Ops files")})
    added = me.run(
        "add_event_attachment",
        {
            "event_id": event["id"],
            "attachment": {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": "notes.txt",
                "contentType": "text/plain",
                "contentBytes": base64.b64encode(b"notes").decode(),
            },
        },
    )
    assert added["size"] == 5
    listed = me.run("list_event_attachments", {"event_id": event["id"], "select": ["name"]})[
        "value"
    ]
    assert [a["name"] for a in listed] == ["notes.txt"]
    got = me.run("get_event_attachment", {"event_id": event["id"], "attachment_id": added["id"]})
    assert base64.b64decode(got["contentBytes"]) == b"notes"
    assert me.run(
        "delete_event_attachment", {"event_id": event["id"], "attachment_id": added["id"]}
    ) == {"deleted": True}
    me.run("delete_event", {"event_id": event["id"]})


def test_scheduling_operations(me: Session) -> None:
    busy = me.run("create_event", {"event": _event("Ops busy", "09:00", "10:00")})
    schedule = me.run(
        "get_schedule",
        {
            "schedules": [ADELE, "nobody@fabrikam.com"],
            "availability_view_interval": 60,
            "start_time": {"dateTime": f"{DAY}T08:00:00", "timeZone": "UTC"},
            "end_time": {"dateTime": f"{DAY}T11:00:00", "timeZone": "UTC"},
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
                        "start": {"dateTime": f"{DAY}T09:00:00", "timeZone": "UTC"},
                        "end": {"dateTime": f"{DAY}T12:00:00", "timeZone": "UTC"},
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


def test_places_and_lookups(me: Session) -> None:
    rooms = me.run("list_rooms", {"all_pages": True})["value"]
    assert sorted(r["displayName"] for r in rooms) == [
        "Conf Room Adams",
        "Conf Room Baker",
        "Conf Room Rainier",
    ]
    lists = me.run("list_room_lists", {})["value"]
    assert [r["displayName"] for r in lists] == ["Building 1", "Building 2"]
    in_one = me.run("list_rooms", {"room_list": lists[0]["emailAddress"]})["value"]
    assert [r["displayName"] for r in in_one] == ["Conf Room Rainier", "Conf Room Baker"]
    windows = me.run("list_supported_time_zones", {"all_pages": True})["value"]
    assert {"alias": "Pacific Standard Time", "displayName": "Pacific Standard Time"} in windows
    iana = me.run("list_supported_time_zones", {"time_zone_standard": "Iana", "all_pages": True})[
        "value"
    ]
    assert "Europe/Berlin" in {z["alias"] for z in iana}
    categories = [c["displayName"] for c in me.run("list_categories", {"all_pages": True})["value"]]
    assert categories[0] == "Red category" and len(categories) == 6


def test_upload_event_attachment_through_a_session(me: Session) -> None:
    event = me.run("create_event", {"event": _event("Ops big file")})
    data = bytes(range(256)) * 20_480 + b"tail"  # 5 MB and a bit: two ranges
    result = me.run(
        "upload_event_attachment",
        {
            "event_id": event["id"],
            "name": "big.bin",
            "content_type": "application/x-demo",
            "content_bytes": base64.b64encode(data).decode(),
        },
    )
    assert result["uploaded"] is True and result["size"] == len(data)
    assert "/attachments('" in result["location"]
    listed = me.run("list_event_attachments", {"event_id": event["id"]})["value"]
    assert [(a["name"], a["size"], a["contentType"]) for a in listed] == [
        ("big.bin", len(data), "application/x-demo")
    ]
    assert base64.b64decode(listed[0]["contentBytes"]) == data
    me.run("delete_event", {"event_id": event["id"]})


def test_search_and_count(me: Session) -> None:
    made = [
        me.run("create_event", {"event": _event(subject)})
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
