"""Calendars and calendar groups through the connector: create, read, change, delete, and
what Graph refuses (the default calendar, a group that is not empty)."""

from __future__ import annotations

import re
from typing import Any

import pytest

import mscal
from mscal.io.session import Session
from tests.e2e.conftest import q, raw


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


def test_calendar_lifecycle(me: Session) -> None:
    created = me.run(
        "create_calendar", {"calendar": {"name": "E2E lifecycle", "color": "lightBlue"}}
    )
    assert created["name"] == "E2E lifecycle" and created["color"] == "lightBlue"
    assert created["@odata.etag"].startswith('W/"')
    # Graph's ids: the URL-safe base64 alphabet, a padding '=' at the end.
    assert re.fullmatch(r"AAMk[A-Za-z0-9_-]+=", created["id"]), created["id"]

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
        _march_event("In a group calendar"),
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
    event = me.run("create_event", {**scope, "event": _may_event("In group")})
    assert me.run("get_event", {**scope, "event_id": event["id"]})["subject"] == "In group"
    assert (
        me.run("update_calendar", {**scope, "calendar": {"color": "lightRed"}})["color"]
        == "lightRed"
    )
    assert me.run("permanently_delete_calendar", scope) == {"deleted": True}
    assert me.run("delete_calendar_group", {"calendar_group_id": group["id"]}) == {"deleted": True}
