"""An event's stored document: Graph JSON plus a few private fields (prefixed `_`).

The private fields are its calendar and owner, start and end in UTC, a series' exceptions, and
the links between a meeting and its attendees' copies. This module builds a new document from a
request body, applies a change to one, and stamps it when saved.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.domain.recurrence import full_shape, occurrences
from mscal.sandbox.domain.timezones import graph_timestamp, to_utc, zone
from mscal.sandbox.errors import bad_request
from mscal.sandbox.ids import new_change_key, new_id
from mscal.sandbox.store import Store

READ_ONLY = {
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "iCalUId",
    "type",
    "seriesMasterId",
    "isOrganizer",
    "responseStatus",
    "webLink",
    "bodyPreview",
    "hasAttachments",
    "originalStart",
    "@odata.etag",
    "@odata.context",
    "@odata.type",
}
NEVER = "0001-01-01T00:00:00Z"


def utc(value: str) -> dt.datetime:
    """A stored `_start`/`_end` (naive UTC, ISO) as a datetime."""
    return dt.datetime.fromisoformat(value)


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def new_event(owner: Owner, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A single event (or series master) built from a request body, not yet saved."""
    if not isinstance(body.get("start"), dict) or not isinstance(body.get("end"), dict):
        raise bad_request("An event needs a start and an end.", "ErrorPropertyValidationFailure")
    now = graph_timestamp()
    event: dict[str, Any] = {
        "id": new_id(),
        "createdDateTime": now,
        "lastModifiedDateTime": now,
        "changeKey": new_change_key(),
        "categories": [],
        "transactionId": None,
        "originalStartTimeZone": body["start"].get("timeZone", "UTC"),
        "originalEndTimeZone": body["end"].get("timeZone", "UTC"),
        "iCalUId": "040000008200E00074C5B7101A82E008" + uuid.uuid4().hex.upper(),
        "reminderMinutesBeforeStart": 15,
        "isReminderOn": True,
        "hasAttachments": False,
        "subject": "",
        "bodyPreview": "",
        "importance": "normal",
        "sensitivity": "normal",
        "isAllDay": False,
        "isCancelled": False,
        "isOrganizer": True,
        "responseRequested": True,
        "seriesMasterId": None,
        "showAs": "busy",
        "type": "singleInstance",
        "webLink": "",
        "onlineMeetingUrl": None,
        "isOnlineMeeting": False,
        "onlineMeetingProvider": "unknown",
        "allowNewTimeProposals": True,
        "isDraft": False,
        "hideAttendees": False,
        "responseStatus": {"response": "organizer", "time": NEVER},
        "body": {"contentType": "html", "content": ""},
        "location": {"displayName": ""},
        "locations": [],
        "recurrence": None,
        "attendees": [],
        "organizer": {"emailAddress": {"name": owner.name, "address": owner.address}},
        "onlineMeeting": None,
        "_calendar": calendar_id,
        "_owner": owner.key,
    }
    apply(event, body)
    event["webLink"] = (
        f"https://outlook.office365.com/owa/?itemid={event['id']}&exvsurl=1&path=/calendar/item"
    )
    return event


def apply(event: dict[str, Any], body: dict[str, Any]) -> None:
    """Apply a create or update body: read-only fields refused, times kept in UTC."""
    for key, value in body.items():
        if key in {"start", "end", "@odata.type"}:
            continue
        if key in READ_ONLY:
            raise bad_request(
                f"The property '{key}' is read-only and cannot be set.",
                "ErrorInvalidPropertyForOperation",
            )
        event[key] = value
    for key in ("start", "end"):
        if key in body:
            value = body[key]
            if not isinstance(value, dict) or not value.get("dateTime"):
                raise bad_request(
                    f"The '{key}' property needs a dateTime.", "ErrorPropertyValidationFailure"
                )
            event[f"_{key}"] = to_utc(str(value["dateTime"]), value.get("timeZone")).isoformat()
            event["originalStartTimeZone" if key == "start" else "originalEndTimeZone"] = value.get(
                "timeZone", "UTC"
            )
    if event["_end"] < event["_start"]:
        raise bad_request(
            "The end of the event must not be before its start.",
            "ErrorPropertyValidationFailure",
        )
    if isinstance(event.get("body"), dict):
        content = str(event["body"].get("content", ""))
        event["bodyPreview"] = (
            text_of_html(content)[:255]
            if event["body"].get("contentType", "html") == "html"
            else content[:255]
        )
    if event.get("recurrence"):
        event["type"] = "seriesMaster"
        # Expanding once validates the pattern now, as Graph does, instead of at read time.
        next(
            occurrences(
                event["recurrence"],
                utc(event["_start"]),
                utc(event["_end"]),
                event["originalStartTimeZone"],
            ),
            None,
        )
        local = (
            utc(event["_start"])
            .replace(tzinfo=dt.UTC)
            .astimezone(zone(event["originalStartTimeZone"]))
        )
        event["recurrence"] = full_shape(
            event["recurrence"], event["originalStartTimeZone"], local.date()
        )
    elif event.get("type") == "seriesMaster":
        event["type"] = "singleInstance"
    for attendee in event.get("attendees") or []:
        if isinstance(attendee, dict):
            attendee.setdefault("type", "required")
            attendee.setdefault("status", {"response": "none", "time": NEVER})


def save(store: Store, owner: Owner, event: dict[str, Any]) -> None:
    """Store an event as changed now (a new change key, so etags and delta notice)."""
    event["lastModifiedDateTime"] = graph_timestamp()
    event["changeKey"] = new_change_key()
    store.put("event", event, owner=owner.key, parent=event["_calendar"])
