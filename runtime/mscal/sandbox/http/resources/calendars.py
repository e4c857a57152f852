"""Calendar groups, calendars and a calendar's permissions (sharing)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from mscal.sandbox.http.call import Call
from mscal.sandbox.http.responses import collection, created, empty, entity
from mscal.sandbox.http.routing import Route

# -- calendar groups -----------------------------------------------------------------------


def list_calendar_groups(call: Call) -> Response:
    groups = call.tenant.calendars.calendar_groups(call.owner)
    return collection(call, "calendarGroups", groups)


def create_calendar_group(call: Call) -> Response:
    group = call.tenant.calendars.create_calendar_group(
        call.owner, call.json(entity="calendarGroup")
    )
    return created(call, "calendarGroups", group)


def get_calendar_group(call: Call) -> Response:
    group = call.tenant.calendars.calendar_group(call.owner, call.params["group"])
    return entity(call, "calendarGroups", group)


def update_calendar_group(call: Call) -> Response:
    group = call.tenant.calendars.update_calendar_group(
        call.owner, call.params["group"], call.json(entity="calendarGroup")
    )
    return entity(call, "calendarGroups", group)


def delete_calendar_group(call: Call) -> Response:
    call.tenant.calendars.delete_calendar_group(call.owner, call.params["group"])
    return empty(204)


# -- calendars -----------------------------------------------------------------------------


def list_calendars(call: Call) -> Response:
    calendars = call.tenant.calendars.calendars(call.owner, call.params.get("group"))
    return collection(call, "calendars", calendars)


def create_calendar(call: Call) -> Response:
    calendar = call.tenant.calendars.create_calendar(
        call.owner, call.json(entity="calendar"), call.params.get("group")
    )
    return created(call, "calendars", calendar)


def get_calendar(call: Call) -> Response:
    return entity(call, "calendars", call.calendar())


def update_calendar(call: Call) -> Response:
    calendar_id = call.calendar_id
    calendar = call.tenant.calendars.update_calendar(
        call.owner, calendar_id, call.json(entity="calendar")
    )
    return entity(call, "calendars", calendar)


def delete_calendar(call: Call) -> Response:
    call.tenant.calendars.delete_calendar(call.owner, str(call.calendar_id))
    return empty(204)


# -- permissions ---------------------------------------------------------------------------


def list_permissions(call: Call) -> Response:
    calendar = call.calendar()
    permissions = call.tenant.sharing.permissions(call.owner, calendar)
    return collection(call, "calendarPermissions", permissions, raw=True)


def create_permission(call: Call) -> Response:
    calendar = call.calendar()
    return JSONResponse(
        call.tenant.sharing.create(call.owner, calendar, call.json(entity="calendarPermission")),
        status_code=201,
    )


def get_permission(call: Call) -> Response:
    calendar = call.calendar()
    return JSONResponse(
        call.tenant.sharing.permission(call.owner, calendar, call.params["permission"])
    )


def update_permission(call: Call) -> Response:
    calendar = call.calendar()
    permission = call.tenant.sharing.update(
        call.owner, calendar, call.params["permission"], call.json(entity="calendarPermission")
    )
    return JSONResponse(permission)


def delete_permission(call: Call) -> Response:
    calendar = call.calendar()
    call.tenant.sharing.delete(call.owner, calendar, call.params["permission"])
    return empty(204)


def allowed_sharing_roles(call: Call) -> Response:
    return JSONResponse({"value": call.tenant.sharing.allowed_roles(call.arg("User") or "")})


GROUP_ROUTES = [
    Route("GET", "calendarGroups", list_calendar_groups),
    Route("POST", "calendarGroups", create_calendar_group),
    Route("GET", "calendarGroups/{group}", get_calendar_group),
    Route("PATCH", "calendarGroups/{group}", update_calendar_group),
    Route("DELETE", "calendarGroups/{group}", delete_calendar_group),
    Route("GET", "calendarGroups/{group}/calendars", list_calendars),
    Route("POST", "calendarGroups/{group}/calendars", create_calendar),
]
# A mailbox's calendars: a group has one calendar, reached as /calendar only.
CALENDARS_ROUTES = [
    Route("GET", "calendars", list_calendars, owners=frozenset({"user"})),
    Route("POST", "calendars", create_calendar, owners=frozenset({"user"})),
]
# The calendar itself: the default one (/calendar) or one named by id.
CALENDAR_ROUTES = [
    Route("GET", "", get_calendar),
    Route("PATCH", "", update_calendar),
]
# Only a calendar named by id can be deleted (the default one cannot).
NAMED_CALENDAR_ROUTES = [Route("DELETE", "", delete_calendar)]
# Under a calendar: its permissions and the roles it may grant.
PERMISSION_ROUTES = [
    Route("GET", "calendarPermissions", list_permissions),
    Route("POST", "calendarPermissions", create_permission),
    Route("GET", "calendarPermissions/{permission}", get_permission),
    Route("PATCH", "calendarPermissions/{permission}", update_permission),
    Route("DELETE", "calendarPermissions/{permission}", delete_permission),
    Route("GET", "allowedCalendarSharingRoles(...)", allowed_sharing_roles, unknown_otherwise=0),
]
# Under a calendar named by id.
PERMANENT_DELETE_ROUTES = [
    Route("POST", "permanentDelete", delete_calendar, unknown_otherwise=0),
]
