"""Events of a calendar: list, create, read, change, delete; the calendar view over a window,
a series' instances, and calendarView delta rounds."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.responses import JSONResponse, Response

from mscal.sandbox.http.call import Call
from mscal.sandbox.http.envelope import unknown_segment
from mscal.sandbox.http.responses import (
    DEFAULT_PAGE_SIZE,
    collection,
    created,
    empty,
    entity,
    presented,
)
from mscal.sandbox.http.routing import Route


def list_events(call: Call) -> Response:
    calendar_id = call.calendar_id
    return collection(call, "events", call.tenant.events.events(call.owner, calendar_id))


def create_event(call: Call) -> Response:
    calendar_id = call.calendar_id
    # A repeated transactionId answers with the event it first created.
    event, _created = call.tenant.events.create_event(
        call.owner, calendar_id, call.json(entity="event")
    )
    return created(call, "events", event)


def get_event(call: Call) -> Response:
    return entity(call, "events", call.tenant.events.event(call.owner, call.params["event"]))


def update_event(call: Call) -> Response:
    event = call.tenant.events.update_event(
        call.owner, call.params["event"], call.json(entity="event")
    )
    return entity(call, "events", event)


def delete_event(call: Call) -> Response:
    call.tenant.events.delete_event(call.owner, call.params["event"])
    return empty(204)


def permanently_delete_event(call: Call) -> Response:
    call.json(action="permanentDelete")
    call.tenant.events.delete_event(call.owner, call.params["event"])
    return empty(204)


def calendar_view(call: Call) -> Response:
    calendar_id = call.calendar_id
    start, end = call.time_range()
    view = call.tenant.events.calendar_view(call.owner, calendar_id, start, end)
    return collection(call, "calendarView", view)


def instances(call: Call) -> Response:
    start, end = call.time_range()
    found = call.tenant.events.instances(call.owner, call.params["event"], start, end)
    return collection(call, "instances", found)


def calendar_view_delta(call: Call) -> Response:
    """One page of a delta round: a first round lists the window, later ones what changed."""
    calendar_id = call.calendar_id
    delta = call.tenant.delta
    if "$deltatoken" in call.query:
        state = delta.resume(call.owner, call.query["$deltatoken"], delta=True)
    elif "$skiptoken" in call.query:
        state = delta.resume(call.owner, call.query["$skiptoken"], delta=False)
    else:
        start, end = call.time_range()
        call.tenant.calendars.calendar(call.owner, calendar_id)
        state = delta.start(call.owner, calendar_id, start, end)
    items = delta.items(call.owner, state)
    size = call.page_size or DEFAULT_PAGE_SIZE
    value = [
        presented(call, item["doc"])
        if "doc" in item
        else {
            "@odata.type": "#microsoft.graph.event",
            "id": item["removed"],
            "@removed": {"reason": "deleted"},
        }
        for item in items[state.skip : state.skip + size]
    ]
    body: dict[str, Any] = {
        "@odata.context": f"{call.base}/$metadata#Collection(event)",
        "value": value,
    }
    link = f"{call.base}{call.path()}"
    if state.skip + size < len(items):
        body["@odata.nextLink"] = (
            f"{link}?$skiptoken={replace(state, skip=state.skip + size).encode()}"
        )
    else:
        body["@odata.deltaLink"] = f"{link}?$deltatoken={replace(state, skip=0).encode()}"
    return JSONResponse(body)


def unknown_action(call: Call) -> Response:
    """POST to an event with an action no route knows (the routes before this one)."""
    raise unknown_segment(call.params["action"])


# Under the owner (/me/events: the default calendar) and under any calendar.
ROUTES = [
    Route("GET", "calendarView/delta", calendar_view_delta, unknown_otherwise=0),
    Route("GET", "calendarView/delta()", calendar_view_delta, unknown_otherwise=0),
    Route("GET", "calendarView", calendar_view, unknown_otherwise=0),
    Route("GET", "events", list_events),
    Route("POST", "events", create_event),
    Route("GET", "events/{event}", get_event),
    Route("PATCH", "events/{event}", update_event),
    Route("DELETE", "events/{event}", delete_event),
    Route("GET", "events/{event}/instances", instances),
    Route("POST", "events/{event}/permanentDelete", permanently_delete_event),
]
# After every other event route: any other action posted to an event is an unknown segment.
ACTION_FALLBACK = Route("POST", "events/{event}/{action}", unknown_action)
