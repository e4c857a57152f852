"""The route table of Graph's resources: each aggregate's routes, mounted where Graph serves
them. Event routes appear under the owner (`/me/events`: the default calendar) and under each
way of naming a calendar; calendar routes under each way of naming a calendar. A calendar named
in the path is checked by the route's guard before anything else (in its group, if the path
names one; existing, for what lies under it)."""

from __future__ import annotations

from mscal.sandbox.http.call import Call
from mscal.sandbox.http.resources import (
    attachments,
    calendars,
    directory,
    events,
    meetings,
    subscriptions,
)
from mscal.sandbox.http.routing import Route, RouteTable, mount

USERS = frozenset({"user"})
# The default calendar, and calendars named by id (a user's) or within a calendar group.
DEFAULT_CALENDAR = "calendar"
NAMED_CALENDARS = [
    ("calendars/{calendar}", USERS),
    ("calendarGroups/{group}/calendars/{calendar}", None),
]
EVENT_ROUTES = [
    *events.ROUTES,
    *meetings.EVENT_ROUTES,
    *attachments.ROUTES,
    events.ACTION_FALLBACK,
]
# What lies under a calendar: its permissions, its schedule, its events.
UNDER_A_CALENDAR = [*calendars.PERMISSION_ROUTES, *meetings.CALENDAR_ROUTES, *EVENT_ROUTES]


def in_its_group(call: Call) -> None:
    """A calendar named within a calendar group must be in that group."""
    if "group" in call.params and call.calendar_id is not None:
        call.tenant.calendars.calendar(call.owner, call.calendar_id, call.params["group"])


def existing(call: Call) -> None:
    """A calendar whose permissions, schedule or events are asked for must exist."""
    in_its_group(call)
    if call.calendar_id is not None:
        call.tenant.calendars.calendar(call.owner, call.calendar_id)


def graph_routes() -> list[Route]:
    routes = [
        *directory.ROUTES,
        *subscriptions.ROUTES,
        *calendars.GROUP_ROUTES,
        *calendars.CALENDARS_ROUTES,
        *meetings.OWNER_ROUTES,
        *EVENT_ROUTES,
        *mount(DEFAULT_CALENDAR, [*calendars.CALENDAR_ROUTES, *UNDER_A_CALENDAR]),
    ]
    for prefix, owners in NAMED_CALENDARS:
        itself = [*calendars.CALENDAR_ROUTES, *calendars.NAMED_CALENDAR_ROUTES]
        under = [*UNDER_A_CALENDAR, *calendars.PERMANENT_DELETE_ROUTES]
        routes += mount(prefix, itself, owners, in_its_group)
        routes += mount(prefix, under, owners, existing)
    return routes


def graph_table() -> RouteTable:
    return RouteTable(graph_routes())
