"""Every operation sends exactly the request it should, and returns what Graph answered."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpx2 import HTTPXMock

from tests.conftest import CANARY_TOKEN, GRAPH

EVENT = {
    "subject": "Quarterly review",
    "start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "Europe/Berlin"},
    "end": {"dateTime": "2026-12-01T11:00:00", "timeZone": "Europe/Berlin"},
    "attendees": [{"emailAddress": {"address": "adele@contoso.com"}, "type": "required"}],
}
CALENDAR = {"id": "AAMkCal=", "name": "Project Apollo", "color": "lightBlue"}


@dataclass
class Case:
    operation: str
    inputs: dict[str, Any]
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    status: int = 200
    response: Any = None
    result: Any = None


def _list(items: list[Any]) -> dict[str, Any]:
    return {"@odata.context": "ctx", "value": items}


CASES = {
    # --- calendars ---------------------------------------------------------------------------
    "list_calendars/me": Case(
        "list_calendars",
        {},
        "GET",
        f"{GRAPH}/me/calendars",
        response=_list([CALENDAR]),
        result={"value": [CALENDAR], "next_link": None},
    ),
    "list_calendars/user+odata": Case(
        "list_calendars",
        {
            "user_id": "adele@contoso.com",
            "select": ["name", "color"],
            "filter": "name eq 'A'",
            "orderby": ["name desc"],
            "top": 5,
            "skip": 10,
        },
        "GET",
        f"{GRAPH}/users/adele%40contoso.com/calendars?%24select=name%2Ccolor"
        "&%24filter=name+eq+%27A%27&%24orderby=name+desc&%24top=5&%24skip=10",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "get_calendar/default": Case(
        "get_calendar", {}, "GET", f"{GRAPH}/me/calendar", response=CALENDAR, result=CALENDAR
    ),
    "get_calendar/by-id": Case(
        "get_calendar",
        {"calendar_id": "AAMkCal=", "select": ["name"]},
        "GET",
        f"{GRAPH}/me/calendars/AAMkCal%3D?%24select=name",
        response=CALENDAR,
        result=CALENDAR,
    ),
    "get_calendar/user": Case(
        "get_calendar",
        {"user_id": "u1", "calendar_id": "c1"},
        "GET",
        f"{GRAPH}/users/u1/calendars/c1",
        response=CALENDAR,
        result=CALENDAR,
    ),
    "get_calendar/group": Case(
        "get_calendar",
        {"group_id": "g1"},
        "GET",
        f"{GRAPH}/groups/g1/calendar",
        response=CALENDAR,
        result=CALENDAR,
    ),
    "create_calendar/me": Case(
        "create_calendar",
        {"calendar": {"name": "Project Apollo", "color": "lightBlue"}},
        "POST",
        f"{GRAPH}/me/calendars",
        {"Content-Type": "application/json"},
        body={"name": "Project Apollo", "color": "lightBlue"},
        status=201,
        response=CALENDAR,
        result=CALENDAR,
    ),
    "create_calendar/user": Case(
        "create_calendar",
        {"user_id": "u1", "calendar": {"name": "X"}},
        "POST",
        f"{GRAPH}/users/u1/calendars",
        body={"name": "X"},
        status=201,
        response=CALENDAR,
        result=CALENDAR,
    ),
    "update_calendar/by-id": Case(
        "update_calendar",
        {"calendar_id": "c1", "calendar": {"color": "lightGreen"}},
        "PATCH",
        f"{GRAPH}/me/calendars/c1",
        body={"color": "lightGreen"},
        response=CALENDAR,
        result=CALENDAR,
    ),
    "update_calendar/default+user": Case(
        "update_calendar",
        {"user_id": "u1", "calendar": {"name": "Main"}},
        "PATCH",
        f"{GRAPH}/users/u1/calendar",
        body={"name": "Main"},
        response=CALENDAR,
        result=CALENDAR,
    ),
    "delete_calendar/me": Case(
        "delete_calendar",
        {"calendar_id": "c1"},
        "DELETE",
        f"{GRAPH}/me/calendars/c1",
        status=204,
        result={"deleted": True},
    ),
    "delete_calendar/user": Case(
        "delete_calendar",
        {"user_id": "u1", "calendar_id": "c1"},
        "DELETE",
        f"{GRAPH}/users/u1/calendars/c1",
        status=204,
        result={"deleted": True},
    ),
    # --- events ------------------------------------------------------------------------------
    "list_events/me": Case(
        "list_events",
        {},
        "GET",
        f"{GRAPH}/me/events",
        response=_list([EVENT]),
        result={"value": [EVENT], "next_link": None},
    ),
    "list_events/calendar": Case(
        "list_events",
        {"calendar_id": "c1", "top": 3},
        "GET",
        f"{GRAPH}/me/calendars/c1/events?%24top=3",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "list_events/user-calendar": Case(
        "list_events",
        {"user_id": "u1", "calendar_id": "c1"},
        "GET",
        f"{GRAPH}/users/u1/calendars/c1/events",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "list_events/group+expand": Case(
        "list_events",
        {"group_id": "g1", "expand": "attachments"},
        "GET",
        f"{GRAPH}/groups/g1/events?%24expand=attachments",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "list_events/time_zone": Case(
        "list_events",
        {"time_zone": "Pacific Standard Time"},
        "GET",
        f"{GRAPH}/me/events",
        {"Prefer": 'outlook.timezone="Pacific Standard Time"'},
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "list_events/body_content_type": Case(
        "list_events",
        {"body_content_type": "text"},
        "GET",
        f"{GRAPH}/me/events",
        {"Prefer": 'outlook.body-content-type="text"'},
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "list_events/immutable_ids": Case(
        "list_events",
        {"immutable_ids": True},
        "GET",
        f"{GRAPH}/me/events",
        {"Prefer": 'IdType="ImmutableId"'},
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "list_events/all-preferences": Case(
        "list_events",
        {"time_zone": "Europe/Berlin", "body_content_type": "html", "immutable_ids": True},
        "GET",
        f"{GRAPH}/me/events",
        {
            "Prefer": 'outlook.timezone="Europe/Berlin", outlook.body-content-type="html", '
            'IdType="ImmutableId"'
        },
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "get_event/me": Case(
        "get_event",
        {"event_id": "e1"},
        "GET",
        f"{GRAPH}/me/events/e1",
        response=EVENT,
        result=EVENT,
    ),
    "get_event/calendar+user+tz": Case(
        "get_event",
        {"user_id": "u1", "calendar_id": "c1", "event_id": "e1", "time_zone": "UTC"},
        "GET",
        f"{GRAPH}/users/u1/calendars/c1/events/e1",
        {"Prefer": 'outlook.timezone="UTC"'},
        response=EVENT,
        result=EVENT,
    ),
    "get_event/group": Case(
        "get_event",
        {"group_id": "g1", "event_id": "e1", "select": ["subject"]},
        "GET",
        f"{GRAPH}/groups/g1/events/e1?%24select=subject",
        response=EVENT,
        result=EVENT,
    ),
    "create_event/me": Case(
        "create_event",
        {"event": EVENT},
        "POST",
        f"{GRAPH}/me/events",
        {"Content-Type": "application/json"},
        body=EVENT,
        status=201,
        response={**EVENT, "id": "e1"},
        result={**EVENT, "id": "e1"},
    ),
    "create_event/user-calendar": Case(
        "create_event",
        {"user_id": "u1", "calendar_id": "c1", "event": {"subject": "S"}},
        "POST",
        f"{GRAPH}/users/u1/calendars/c1/events",
        body={"subject": "S"},
        status=201,
        response={"id": "e1"},
        result={"id": "e1"},
    ),
    "create_event/group": Case(
        "create_event",
        {"group_id": "g1", "event": {"subject": "S"}},
        "POST",
        f"{GRAPH}/groups/g1/events",
        body={"subject": "S"},
        status=201,
        response={"id": "e1"},
        result={"id": "e1"},
    ),
    "update_event/me": Case(
        "update_event",
        {"event_id": "e1", "event": {"subject": "Moved"}},
        "PATCH",
        f"{GRAPH}/me/events/e1",
        body={"subject": "Moved"},
        response={"id": "e1"},
        result={"id": "e1"},
    ),
    "update_event/user-calendar": Case(
        "update_event",
        {"user_id": "u1", "calendar_id": "c1", "event_id": "e1", "event": {"showAs": "free"}},
        "PATCH",
        f"{GRAPH}/users/u1/calendars/c1/events/e1",
        body={"showAs": "free"},
        response={"id": "e1"},
        result={"id": "e1"},
    ),
    "delete_event/me": Case(
        "delete_event",
        {"event_id": "e1"},
        "DELETE",
        f"{GRAPH}/me/events/e1",
        status=204,
        result={"deleted": True},
    ),
    "delete_event/group": Case(
        "delete_event",
        {"group_id": "g1", "event_id": "e1"},
        "DELETE",
        f"{GRAPH}/groups/g1/events/e1",
        status=204,
        result={"deleted": True},
    ),
    "list_calendar_view/me": Case(
        "list_calendar_view",
        {"start_date_time": "2026-11-23T00:00:00Z", "end_date_time": "2026-11-30T00:00:00Z"},
        "GET",
        f"{GRAPH}/me/calendarView?startDateTime=2026-11-23T00%3A00%3A00Z"
        "&endDateTime=2026-11-30T00%3A00%3A00Z",
        response=_list([EVENT]),
        result={"value": [EVENT], "next_link": None},
    ),
    "list_calendar_view/user-calendar+tz": Case(
        "list_calendar_view",
        {
            "user_id": "u1",
            "calendar_id": "c1",
            "start_date_time": "2026-11-23T00:00:00",
            "end_date_time": "2026-11-24T00:00:00+01:00",
            "time_zone": "Europe/Berlin",
            "select": ["subject"],
            "orderby": ["start/dateTime"],
        },
        "GET",
        f"{GRAPH}/users/u1/calendars/c1/calendarView?%24select=subject"
        "&%24orderby=start%2FdateTime&startDateTime=2026-11-23T00%3A00%3A00"
        "&endDateTime=2026-11-24T00%3A00%3A00%2B01%3A00",
        {"Prefer": 'outlook.timezone="Europe/Berlin"'},
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "list_calendar_view/group": Case(
        "list_calendar_view",
        {
            "group_id": "g1",
            "start_date_time": "2026-11-23T00:00:00Z",
            "end_date_time": "2026-11-24T00:00:00Z",
        },
        "GET",
        f"{GRAPH}/groups/g1/calendarView?startDateTime=2026-11-23T00%3A00%3A00Z"
        "&endDateTime=2026-11-24T00%3A00%3A00Z",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "accept_event/me": Case(
        "accept_event",
        {"event_id": "e1", "comment": "See you there"},
        "POST",
        f"{GRAPH}/me/events/e1/accept",
        body={"comment": "See you there", "sendResponse": True},
        status=202,
        result={"accepted": True},
    ),
    "accept_event/user-calendar-silent": Case(
        "accept_event",
        {"user_id": "u1", "calendar_id": "c1", "event_id": "e1", "send_response": False},
        "POST",
        f"{GRAPH}/users/u1/calendars/c1/events/e1/accept",
        body={"sendResponse": False},
        status=202,
        result={"accepted": True},
    ),
    "tentatively_accept_event/group": Case(
        "tentatively_accept_event",
        {"group_id": "g1", "event_id": "e1"},
        "POST",
        f"{GRAPH}/groups/g1/events/e1/tentativelyAccept",
        body={"sendResponse": True},
        status=202,
        result={"tentatively_accepted": True},
    ),
    "decline_event/proposal": Case(
        "decline_event",
        {
            "event_id": "e1",
            "comment": "Clash",
            "proposed_new_time": {
                "start": {"dateTime": "2026-12-02T10:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2026-12-02T11:00:00", "timeZone": "UTC"},
            },
        },
        "POST",
        f"{GRAPH}/me/events/e1/decline",
        body={
            "comment": "Clash",
            "sendResponse": True,
            "proposedNewTime": {
                "start": {"dateTime": "2026-12-02T10:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2026-12-02T11:00:00", "timeZone": "UTC"},
            },
        },
        status=202,
        result={"declined": True},
    ),
    "sync_calendar_view/first-round": Case(
        "sync_calendar_view",
        {
            "start_date_time": "2026-12-01T00:00:00Z",
            "end_date_time": "2027-01-01T00:00:00Z",
            "page_size": 50,
            "time_zone": "UTC",
        },
        "GET",
        f"{GRAPH}/me/calendarView/delta?startDateTime=2026-12-01T00%3A00%3A00Z"
        "&endDateTime=2027-01-01T00%3A00%3A00Z",
        {"Prefer": 'outlook.timezone="UTC", odata.maxpagesize=50'},
        response={
            "value": [EVENT],
            "@odata.deltaLink": f"{GRAPH}/me/calendarView/delta?$deltatoken=d1",
        },
        result={
            "value": [EVENT],
            "next_link": None,
            "delta_link": f"{GRAPH}/me/calendarView/delta?$deltatoken=d1",
        },
    ),
    "sync_calendar_view/next-round-group": Case(
        "sync_calendar_view",
        {"group_id": "g1", "delta_link": f"{GRAPH}/groups/g1/calendarView/delta?%24deltatoken=d1"},
        "GET",
        f"{GRAPH}/groups/g1/calendarView/delta?%24deltatoken=d1",
        response={
            "value": [{"id": "e9", "@removed": {"reason": "deleted"}}],
            "@odata.deltaLink": f"{GRAPH}/groups/g1/calendarView/delta?$deltatoken=d2",
        },
        result={
            "value": [{"id": "e9", "@removed": {"reason": "deleted"}}],
            "next_link": None,
            "delta_link": f"{GRAPH}/groups/g1/calendarView/delta?$deltatoken=d2",
        },
    ),
    # --- issue 4: calendar groups, more event actions, attachments, scheduling, sharing ---
    "list_calendars/in-group": Case(
        "list_calendars",
        {"user_id": "u1", "calendar_group_id": "G/1"},
        "GET",
        f"{GRAPH}/users/u1/calendarGroups/G%2F1/calendars",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "create_calendar/in-group": Case(
        "create_calendar",
        {"calendar_group_id": "G1", "calendar": {"name": "X"}},
        "POST",
        f"{GRAPH}/me/calendarGroups/G1/calendars",
        body={"name": "X"},
        status=201,
        response=CALENDAR,
        result=CALENDAR,
    ),
    "get_calendar/in-group": Case(
        "get_calendar",
        {"user_id": "u1", "calendar_group_id": "G1", "calendar_id": "c1"},
        "GET",
        f"{GRAPH}/users/u1/calendarGroups/G1/calendars/c1",
        response=CALENDAR,
        result=CALENDAR,
    ),
    "permanently_delete_calendar/user": Case(
        "permanently_delete_calendar",
        {"user_id": "u1", "calendar_id": "c1"},
        "POST",
        f"{GRAPH}/users/u1/calendars/c1/permanentDelete",
        status=204,
        result={"deleted": True},
    ),
    "list_calendar_groups/user": Case(
        "list_calendar_groups",
        {"user_id": "u1", "top": 5},
        "GET",
        f"{GRAPH}/users/u1/calendarGroups?%24top=5",
        response=_list([{"id": "G1"}]),
        result={"value": [{"id": "G1"}], "next_link": None},
    ),
    "get_calendar_group/user": Case(
        "get_calendar_group",
        {"user_id": "u1", "calendar_group_id": "G1", "select": ["name"]},
        "GET",
        f"{GRAPH}/users/u1/calendarGroups/G1?%24select=name",
        response={"id": "G1"},
        result={"id": "G1"},
    ),
    "create_calendar_group/user": Case(
        "create_calendar_group",
        {"user_id": "u1", "calendar_group": {"name": "P"}},
        "POST",
        f"{GRAPH}/users/u1/calendarGroups",
        body={"name": "P"},
        status=201,
        response={"id": "G2"},
        result={"id": "G2"},
    ),
    "update_calendar_group/me": Case(
        "update_calendar_group",
        {"calendar_group_id": "G2", "calendar_group": {"name": "Q"}},
        "PATCH",
        f"{GRAPH}/me/calendarGroups/G2",
        body={"name": "Q"},
        response={"id": "G2"},
        result={"id": "G2"},
    ),
    "delete_calendar_group/user": Case(
        "delete_calendar_group",
        {"user_id": "u1", "calendar_group_id": "G2"},
        "DELETE",
        f"{GRAPH}/users/u1/calendarGroups/G2",
        status=204,
        result={"deleted": True},
    ),
    "list_events/calendar-group": Case(
        "list_events",
        {"calendar_group_id": "G1", "calendar_id": "c1"},
        "GET",
        f"{GRAPH}/me/calendarGroups/G1/calendars/c1/events",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "permanently_delete_event/group": Case(
        "permanently_delete_event",
        {"group_id": "g1", "event_id": "e1"},
        "POST",
        f"{GRAPH}/groups/g1/events/e1/permanentDelete",
        status=204,
        result={"deleted": True},
    ),
    "list_event_instances/user-calendar": Case(
        "list_event_instances",
        {
            "user_id": "u1",
            "calendar_id": "c1",
            "event_id": "s1",
            "top": 50,
            "start_date_time": "2026-12-01T00:00:00Z",
            "end_date_time": "2027-01-01T00:00:00Z",
        },
        "GET",
        f"{GRAPH}/users/u1/calendars/c1/events/s1/instances?%24top=50"
        "&startDateTime=2026-12-01T00%3A00%3A00Z&endDateTime=2027-01-01T00%3A00%3A00Z",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "cancel_event/user": Case(
        "cancel_event",
        {"user_id": "u1", "event_id": "e1", "comment": "Off"},
        "POST",
        f"{GRAPH}/users/u1/events/e1/cancel",
        body={"comment": "Off"},
        status=202,
        result={"cancelled": True},
    ),
    "forward_event/group": Case(
        "forward_event",
        {
            "group_id": "g1",
            "event_id": "e1",
            "to_recipients": [{"emailAddress": {"address": "m@contoso.com"}}],
        },
        "POST",
        f"{GRAPH}/groups/g1/events/e1/forward",
        body={"toRecipients": [{"emailAddress": {"address": "m@contoso.com"}}]},
        status=202,
        result={"forwarded": True},
    ),
    "dismiss_event_reminder/user": Case(
        "dismiss_event_reminder",
        {"user_id": "u1", "event_id": "e1"},
        "POST",
        f"{GRAPH}/users/u1/events/e1/dismissReminder",
        status=200,
        result={"dismissed": True},
    ),
    "snooze_event_reminder/calendar": Case(
        "snooze_event_reminder",
        {
            "calendar_id": "c1",
            "event_id": "e1",
            "new_reminder_time": {"dateTime": "2026-12-01T09:50:00", "timeZone": "UTC"},
        },
        "POST",
        f"{GRAPH}/me/calendars/c1/events/e1/snoozeReminder",
        body={"newReminderTime": {"dateTime": "2026-12-01T09:50:00", "timeZone": "UTC"}},
        status=200,
        result={"snoozed": True},
    ),
    "list_event_attachments/user": Case(
        "list_event_attachments",
        {"user_id": "u1", "event_id": "e1"},
        "GET",
        f"{GRAPH}/users/u1/events/e1/attachments",
        response=_list([{"id": "a1"}]),
        result={"value": [{"id": "a1"}], "next_link": None},
    ),
    "get_event_attachment/group": Case(
        "get_event_attachment",
        {"group_id": "g1", "event_id": "e1", "attachment_id": "a/1"},
        "GET",
        f"{GRAPH}/groups/g1/events/e1/attachments/a%2F1",
        response={"id": "a/1"},
        result={"id": "a/1"},
    ),
    "add_event_attachment/calendar": Case(
        "add_event_attachment",
        {
            "calendar_id": "c1",
            "event_id": "e1",
            "attachment": {"@odata.type": "#microsoft.graph.referenceAttachment", "name": "Spec"},
        },
        "POST",
        f"{GRAPH}/me/calendars/c1/events/e1/attachments",
        body={"@odata.type": "#microsoft.graph.referenceAttachment", "name": "Spec"},
        status=201,
        response={"id": "a2"},
        result={"id": "a2"},
    ),
    "delete_event_attachment/user": Case(
        "delete_event_attachment",
        {"user_id": "u1", "event_id": "e1", "attachment_id": "a2"},
        "DELETE",
        f"{GRAPH}/users/u1/events/e1/attachments/a2",
        status=204,
        result={"deleted": True},
    ),
    "find_meeting_times/user": Case(
        "find_meeting_times",
        {
            "user_id": "u1",
            "attendees": [{"emailAddress": {"address": "a@contoso.com"}}],
            "time_constraint": {"activityDomain": "work", "timeSlots": []},
            "is_organizer_optional": False,
            "minimum_attendee_percentage": 100,
        },
        "POST",
        f"{GRAPH}/users/u1/findMeetingTimes",
        body={
            "attendees": [{"emailAddress": {"address": "a@contoso.com"}}],
            "timeConstraint": {"activityDomain": "work", "timeSlots": []},
            "isOrganizerOptional": False,
            "minimumAttendeePercentage": 100,
        },
        response={"emptySuggestionsReason": "AttendeesUnavailable", "meetingTimeSuggestions": []},
        result={"emptySuggestionsReason": "AttendeesUnavailable", "meetingTimeSuggestions": []},
    ),
    "get_schedule/group": Case(
        "get_schedule",
        {
            "group_id": "g1",
            "schedules": ["a@contoso.com"],
            "availability_view_interval": 60,
            "start_time": {"dateTime": "2026-12-01T08:00:00", "timeZone": "UTC"},
            "end_time": {"dateTime": "2026-12-01T12:00:00", "timeZone": "UTC"},
        },
        "POST",
        f"{GRAPH}/groups/g1/calendar/getSchedule",
        body={
            "schedules": ["a@contoso.com"],
            "availabilityViewInterval": 60,
            "startTime": {"dateTime": "2026-12-01T08:00:00", "timeZone": "UTC"},
            "endTime": {"dateTime": "2026-12-01T12:00:00", "timeZone": "UTC"},
        },
        response={"value": [{"scheduleId": "a@contoso.com"}]},
        result={"value": [{"scheduleId": "a@contoso.com"}]},
    ),
    "list_reminders/user": Case(
        "list_reminders",
        {
            "user_id": "u1",
            "start_date_time": "2026-12-01T00:00:00Z",
            "end_date_time": "2026-12-02T00:00:00Z",
            "top": 20,
        },
        "GET",
        f"{GRAPH}/users/u1/reminderView(StartDateTime='2026-12-01T00%3A00%3A00Z',"
        "EndDateTime='2026-12-02T00%3A00%3A00Z')?%24top=20",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "list_calendar_permissions/group": Case(
        "list_calendar_permissions",
        {"group_id": "g1"},
        "GET",
        f"{GRAPH}/groups/g1/calendar/calendarPermissions",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "get_calendar_permission/user-calendar": Case(
        "get_calendar_permission",
        {"user_id": "u1", "calendar_id": "c1", "permission_id": "p1"},
        "GET",
        f"{GRAPH}/users/u1/calendars/c1/calendarPermissions/p1",
        response={"id": "p1"},
        result={"id": "p1"},
    ),
    "create_calendar_permission/calendar": Case(
        "create_calendar_permission",
        {
            "calendar_id": "c1",
            "calendar_permission": {"emailAddress": {"address": "a@contoso.com"}, "role": "write"},
        },
        "POST",
        f"{GRAPH}/me/calendars/c1/calendarPermissions",
        body={"emailAddress": {"address": "a@contoso.com"}, "role": "write"},
        status=201,
        response={"id": "p2"},
        result={"id": "p2"},
    ),
    "update_calendar_permission/user": Case(
        "update_calendar_permission",
        {"user_id": "u1", "permission_id": "p2", "calendar_permission": {"role": "read"}},
        "PATCH",
        f"{GRAPH}/users/u1/calendar/calendarPermissions/p2",
        body={"role": "read"},
        response={"id": "p2"},
        result={"id": "p2"},
    ),
    "delete_calendar_permission/group": Case(
        "delete_calendar_permission",
        {"group_id": "g1", "permission_id": "p2"},
        "DELETE",
        f"{GRAPH}/groups/g1/calendar/calendarPermissions/p2",
        status=204,
        result={"deleted": True},
    ),
    "list_allowed_calendar_sharing_roles/user": Case(
        "list_allowed_calendar_sharing_roles",
        {"user_id": "u1", "user": "o'neil@contoso.com"},
        "GET",
        f"{GRAPH}/users/u1/calendar/allowedCalendarSharingRoles(User='o%27neil%40contoso.com')",
        response={"value": ["none", "read"]},
        result={"value": ["none", "read"]},
    ),
    "list_rooms/in-list": Case(
        "list_rooms",
        {"room_list": "bldg1@contoso.com", "top": 100},
        "GET",
        f"{GRAPH}/places/bldg1%40contoso.com/graph.roomList/rooms?%24top=100",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "list_room_lists/filter": Case(
        "list_room_lists",
        {"filter": "startswith(displayName,'B')"},
        "GET",
        f"{GRAPH}/places/graph.roomList?%24filter=startswith%28displayName%2C%27B%27%29",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "list_supported_time_zones/windows": Case(
        "list_supported_time_zones",
        {"user_id": "u1"},
        "GET",
        f"{GRAPH}/users/u1/outlook/supportedTimeZones()",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "list_categories/user": Case(
        "list_categories",
        {"user_id": "u1"},
        "GET",
        f"{GRAPH}/users/u1/outlook/masterCategories",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    "list_events/search-and-count": Case(
        "list_events",
        {"search": '"review"', "count": True},
        "GET",
        f"{GRAPH}/me/events?%24search=%22review%22&%24count=true",
        response={"@odata.count": 42, "value": [EVENT]},
        result={"value": [EVENT], "next_link": None, "count": 42},
    ),
    "list_reminders/count": Case(
        "list_reminders",
        {
            "start_date_time": "2026-12-01T00:00:00Z",
            "end_date_time": "2026-12-02T00:00:00Z",
            "count": False,
        },
        "GET",
        f"{GRAPH}/me/reminderView(StartDateTime='2026-12-01T00%3A00%3A00Z',"
        "EndDateTime='2026-12-02T00%3A00%3A00Z')?%24count=false",
        response=_list([]),
        result={"value": [], "next_link": None},
    ),
    # --- raw ---------------------------------------------------------------------------------
    "raw_http_request/get": Case(
        "raw_http_request",
        {"endpoint": "/me/calendars", "query": {"$top": 5}},
        "GET",
        f"{GRAPH}/me/calendars?%24top=5",
        response=_list([]),
        result={
            "status_code": 200,
            "headers": {"content-type": "application/json", "content-length": "35"},
            "body": _list([]),
        },
    ),
    "raw_http_request/post-json": Case(
        "raw_http_request",
        {
            "method": "POST",
            "endpoint": "/me/events",
            "body_type": "json",
            "body": {"subject": "S"},
            "headers": {"Prefer": 'outlook.timezone="UTC"'},
        },
        "POST",
        f"{GRAPH}/me/events",
        {"Prefer": 'outlook.timezone="UTC"', "Content-Type": "application/json"},
        body={"subject": "S"},
        status=201,
        response={"id": "e1"},
        result={
            "status_code": 201,
            "headers": {"content-type": "application/json", "content-length": "11"},
            "body": {"id": "e1"},
        },
    ),
    "raw_http_request/delete": Case(
        "raw_http_request",
        {"method": "DELETE", "endpoint": "/me/events/e1"},
        "DELETE",
        f"{GRAPH}/me/events/e1",
        status=204,
        result={"status_code": 204, "headers": {}, "body": None},
    ),
}


def sent_body(case: Case, content: bytes) -> Any:
    """The JSON body sent; create_event's generated transactionId is checked, then set aside."""
    body = json.loads(content)
    given = (
        ((case.inputs.get("event") or {}).get("transactionId"))
        if case.operation == "create_event"
        else None
    )
    if case.operation == "create_event" and given is None:
        assert uuid.UUID(body.pop("transactionId"))  # the runtime chose one
    return body


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_operation_sends_exact_request_and_returns_result(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], case: Case
) -> None:
    if case.response is None:
        httpx2_mock.add_response(status_code=case.status)
    else:
        httpx2_mock.add_response(status_code=case.status, json=case.response)

    result = run(case.operation, case.inputs)

    request = httpx2_mock.get_request()
    assert request is not None
    assert request.method == case.method
    assert str(request.url) == case.url
    assert request.headers["Authorization"] == f"Bearer {CANARY_TOKEN}"
    assert request.headers["Accept"] == "application/json"
    assert len(request.headers["client-request-id"]) == 36
    for name, value in case.headers.items():
        assert request.headers.get(name) == value
    if "Prefer" not in case.headers:
        assert "Prefer" not in request.headers
    if case.body is None:
        assert request.content == b""
        assert "Content-Type" not in request.headers
    else:
        assert sent_body(case, request.content) == case.body
    assert result == case.result


def test_every_operation_has_a_request_case(connector: Any) -> None:
    covered = {case.operation for case in CASES.values()}
    # The two-step upload has its own request tests in test_upload.py.
    assert covered | {"upload_event_attachment"} == set(connector.spec.operations)


def test_form_body(httpx2_mock: HTTPXMock, run: Callable[..., Any]) -> None:
    httpx2_mock.add_response(text="ok", headers={"content-type": "text/plain"})
    result = run(
        "raw_http_request",
        {"method": "POST", "endpoint": "/x", "body_type": "form", "body": {"a": "1 2", "b": True}},
    )
    request = httpx2_mock.get_request()
    assert request is not None
    assert request.content == b"a=1+2&b=true"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert result["body"] == "ok"


def test_raw_text_body_and_query_in_endpoint(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(json={})
    run(
        "raw_http_request",
        {
            "method": "PUT",
            "endpoint": "/me/x?$top=3",
            "query": {"$skip": 1},
            "body_type": "raw",
            "body": "hello",
        },
    )
    request = httpx2_mock.get_request()
    assert request is not None
    assert str(request.url) == f"{GRAPH}/me/x?%24top=3&%24skip=1"
    assert request.content == b"hello"
    assert request.headers["Content-Type"] == "text/plain; charset=utf-8"
