"""The route table of Graph's resources: each aggregate's routes, mounted where Graph serves
them. Event routes appear under the owner (`/me/events`: the default calendar) and under each
way of naming a calendar; calendar routes under each way of naming a calendar."""

from __future__ import annotations

from mscal.sandbox.http.resources import attachments, calendars, directory, events, meetings
from mscal.sandbox.http.routing import Route, RouteTable, mount

USERS = frozenset({"user"})
# The default calendar, and calendars named by id (a user's) or within a calendar group.
DEFAULT_CALENDAR = "calendar"
NAMED_CALENDARS = [
    ("calendars/{calendar}", USERS),
    ("calendarGroups/{group}/calendars/{calendar}", None),
]
EVENT_ROUTES = [*events.ROUTES, *meetings.EVENT_ROUTES, *attachments.ROUTES]
CALENDAR_ROUTES = [*calendars.CALENDAR_ROUTES, *meetings.CALENDAR_ROUTES, *EVENT_ROUTES]


def graph_routes() -> list[Route]:
    routes = [
        *directory.ROUTES,
        *calendars.GROUP_ROUTES,
        *calendars.CALENDARS_ROUTES,
        *meetings.OWNER_ROUTES,
        *EVENT_ROUTES,
        *mount(DEFAULT_CALENDAR, CALENDAR_ROUTES),
    ]
    for prefix, owners in NAMED_CALENDARS:
        routes += mount(prefix, [*CALENDAR_ROUTES, *calendars.NAMED_CALENDAR_ROUTES], owners)
    return routes


def graph_table() -> RouteTable:
    return RouteTable(graph_routes())
