"""Mailboxes, calendar groups, calendars and events: the service's domain, free of HTTP.

Events are stored as Graph JSON plus a few private fields (prefixed `_`): their calendar, start
and end in UTC, a series' exceptions, and the links between a meeting and its attendees' copies.
Occurrences of a series are not stored; they are computed for the window asked for.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from mscal.sandbox.errors import GraphHTTPError, bad_request, malformed_id, not_found
from mscal.sandbox.ids import decode_compound, encode_compound, new_change_key, new_id
from mscal.sandbox.recurrence import occurrences
from mscal.sandbox.store import Store
from mscal.sandbox.timezones import from_utc, graph_timestamp, to_utc

_READ_ONLY_EVENT = {
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
_SHARED_WITH_ATTENDEES = (
    "subject",
    "body",
    "bodyPreview",
    "location",
    "locations",
    "recurrence",
    "attendees",
    "isAllDay",
    "importance",
    "sensitivity",
    "categories",
    "isOnlineMeeting",
    "onlineMeeting",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "_start",
    "_end",
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NEVER = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class Owner:
    """A mailbox (a user's) or a group's calendar owner."""

    kind: str  # "user" | "group"
    id: str
    address: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def path(self) -> str:
        return f"{self.kind}s('{self.id}')"


def _now() -> str:
    return graph_timestamp()


def _utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


class Calendars:
    def __init__(
        self, store: Store, *, strict: bool = False, domain: str = "contoso.onmicrosoft.com"
    ) -> None:
        self.store = store
        self.strict = strict
        self.domain = domain

    # -- mailboxes ---------------------------------------------------------------------------

    def ensure_user(self, upn: str, display_name: str | None = None) -> str:
        """The user id for a sign-in name, creating the mailbox on first use."""
        existing = self.find_user(upn)
        if existing is not None:
            return str(existing["id"])
        user_id = str(uuid.uuid4())
        name = display_name or upn.split("@", maxsplit=1)[0].replace(".", " ").title()
        user = {"id": user_id, "userPrincipalName": upn, "mail": upn, "displayName": name}
        with self.store.transaction():
            self.store.put("user", user, track=False)
            owner = Owner("user", user_id, upn, name)
            group = self._new_calendar_group(owner, "My Calendars")
            self._new_calendar(
                owner, {"name": "Calendar", "color": "auto"}, group["id"], default=True
            )
        return user_id

    def find_user(self, id_or_upn: str) -> dict[str, Any] | None:
        user = self.store.get("user", id_or_upn)
        if user is not None:
            return user
        wanted = id_or_upn.lower()
        return next(
            (u for u in self.store.find("user") if u["userPrincipalName"].lower() == wanted), None
        )

    def user_owner(self, id_or_upn: str) -> Owner:
        user = self.find_user(id_or_upn)
        if user is None and not self.strict and "@" in id_or_upn:
            user = self.store.get("user", self.ensure_user(id_or_upn))
        if user is None:
            raise GraphHTTPError(
                404, "ErrorInvalidUser", f"The requested user '{id_or_upn}' is invalid."
            )
        return Owner("user", user["id"], user["userPrincipalName"], user["displayName"])

    def group_owner(self, group_id: str) -> Owner:
        group = self.store.get("group", group_id)
        if group is None and not self.strict and _GUID.match(group_id):
            group = self.ensure_group(group_id, f"Group {group_id[:8]}")
        if group is None:
            raise GraphHTTPError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{group_id}' does not exist or one of its queried reference-property "
                "objects are not present.",
            )
        return Owner("group", group["id"], group["mail"], group["displayName"])

    def ensure_group(self, group_id: str, name: str) -> dict[str, Any]:
        group = self.store.get("group", group_id)
        if group is None:
            mail = re.sub(r"[^a-z0-9]+", "", name.lower()) + "@" + self.domain
            group = {"id": group_id, "displayName": name, "mail": mail}
            owner = Owner("group", group_id, mail, name)
            with self.store.transaction():
                self.store.put("group", group, track=False)
                self._new_calendar(owner, {"name": "Calendar", "color": "auto"}, None, default=True)
        return group

    # -- calendar groups ---------------------------------------------------------------------

    def _new_calendar_group(self, owner: Owner, name: str) -> dict[str, Any]:
        group = {
            "id": new_id("AAMkAG"),
            "name": name,
            "classId": str(uuid.uuid4()),
            "changeKey": new_change_key(),
        }
        self.store.put("calendar_group", group, owner=owner.key)
        return group

    def calendar_groups(self, owner: Owner) -> list[dict[str, Any]]:
        return self.store.find("calendar_group", owner=owner.key)

    def calendar_group(self, owner: Owner, group_id: str) -> dict[str, Any]:
        group = self.store.get("calendar_group", group_id)
        if group is None or group not in self.calendar_groups(owner):
            raise not_found()
        return group

    def create_calendar_group(self, owner: Owner, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("name"):
            raise bad_request("The calendar group needs a name.", "ErrorInvalidRequest")
        return self._new_calendar_group(owner, str(body["name"]))

    def update_calendar_group(
        self, owner: Owner, group_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        group = self.calendar_group(owner, group_id)
        if "name" in body:
            group["name"] = str(body["name"])
        group["changeKey"] = new_change_key()
        self.store.put("calendar_group", group, owner=owner.key)
        return group

    def delete_calendar_group(self, owner: Owner, group_id: str) -> None:
        self.calendar_group(owner, group_id)
        if self.store.find("calendar", owner=owner.key, parent=group_id):
            raise bad_request("The calendar group is not empty.", "ErrorCannotDeleteObject")
        self.store.delete("calendar_group", group_id)

    # -- calendars ---------------------------------------------------------------------------

    def _new_calendar(
        self, owner: Owner, body: dict[str, Any], group_id: str | None, *, default: bool = False
    ) -> dict[str, Any]:
        calendar = {
            "id": new_id("AAMkAGC"),
            "name": str(body.get("name", "Calendar")),
            "color": body.get("color", "auto"),
            "hexColor": body.get("hexColor", ""),
            "isDefaultCalendar": default,
            "changeKey": new_change_key(),
            "canShare": owner.kind == "user",
            "canViewPrivateItems": True,
            "canEdit": True,
            "isRemovable": not default,
            "isTallyingResponses": True,
            "allowedOnlineMeetingProviders": ["teamsForBusiness"],
            "defaultOnlineMeetingProvider": "teamsForBusiness",
            "owner": {"name": owner.name, "address": owner.address},
            "_group": group_id,
        }
        self.store.put("calendar", calendar, owner=owner.key, parent=group_id)
        return calendar

    def calendars(self, owner: Owner, group_id: str | None = None) -> list[dict[str, Any]]:
        if group_id is not None:
            self.calendar_group(owner, group_id)
        return self.store.find("calendar", owner=owner.key, parent=group_id)

    def default_calendar(self, owner: Owner) -> dict[str, Any]:
        for calendar in self.store.find("calendar", owner=owner.key):
            if calendar["isDefaultCalendar"]:
                return calendar
        raise not_found()

    def calendar(
        self, owner: Owner, calendar_id: str | None, group_id: str | None = None
    ) -> dict[str, Any]:
        if calendar_id is None:
            return self.default_calendar(owner)
        if len(calendar_id) < 8:
            raise malformed_id()
        candidates = (
            self.calendars(owner, group_id)
            if group_id
            else self.store.find("calendar", owner=owner.key)
        )
        found = next((c for c in candidates if c["id"] == calendar_id), None)
        if found is None:
            raise not_found()
        return found

    def create_calendar(
        self, owner: Owner, body: dict[str, Any], group_id: str | None = None
    ) -> dict[str, Any]:
        if not body.get("name"):
            raise bad_request("The calendar needs a name.", "ErrorInvalidRequest")
        if any(c["name"] == body["name"] for c in self.store.find("calendar", owner=owner.key)):
            raise GraphHTTPError(
                409, "ErrorFolderExists", "A folder with the specified name already exists."
            )
        if group_id is None:
            group_id = self.calendar_groups(owner)[0]["id"] if self.calendar_groups(owner) else None
        else:
            self.calendar_group(owner, group_id)
        return self._new_calendar(owner, body, group_id)

    def update_calendar(
        self, owner: Owner, calendar_id: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        calendar = self.calendar(owner, calendar_id)
        for key in ("name", "color", "hexColor", "defaultOnlineMeetingProvider"):
            if key in body:
                calendar[key] = body[key]
        calendar["changeKey"] = new_change_key()
        self.store.put("calendar", calendar, owner=owner.key, parent=calendar.get("_group"))
        return calendar

    def delete_calendar(self, owner: Owner, calendar_id: str) -> None:
        calendar = self.calendar(owner, calendar_id)
        if calendar["isDefaultCalendar"]:
            raise GraphHTTPError(
                400, "ErrorCannotDeleteObject", "The default calendar cannot be deleted."
            )
        with self.store.transaction():
            for event in self.store.find("event", owner=owner.key, parent=calendar["id"]):
                self.store.delete("event", event["id"])
            self.store.delete("calendar", calendar["id"])

    # -- events ------------------------------------------------------------------------------

    def events(self, owner: Owner, calendar_id: str | None) -> list[dict[str, Any]]:
        """Single events and series masters (not exceptions) of a calendar; by default the
        default calendar, which is what /me/events and /me/calendarView cover at Graph."""
        docs = self.store.find(
            "event", owner=owner.key, parent=self.calendar(owner, calendar_id)["id"]
        )
        return [d for d in docs if d.get("type") in {"singleInstance", "seriesMaster"}]

    def event(self, owner: Owner, event_id: str) -> dict[str, Any]:
        """A stored event, an exception, or a computed occurrence of a series."""
        stored = self.store.get("event", event_id)
        if stored is not None:
            if self._owner_key(stored) != owner.key:
                raise not_found()
            return stored
        parts = decode_compound(event_id)
        if parts is None:
            if len(event_id) < 8:
                raise malformed_id()
            raise not_found()
        if len(parts) != 2:
            raise malformed_id()
        master = self.event(owner, parts[0])
        state = master.get("_exceptions", {}).get(parts[1])
        if state == "cancelled":
            raise not_found()
        return self._occurrence(master, _utc(parts[1]))

    def _owner_key(self, doc: dict[str, Any]) -> str:
        return str(doc.get("_owner", ""))

    def create_event(
        self,
        owner: Owner,
        calendar_id: str | None,
        body: dict[str, Any],
        organizer_ref: tuple[str, str] | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """(event, created): a repeated transactionId returns the first event, not a duplicate."""
        calendar = self.calendar(owner, calendar_id)
        transaction_id = body.get("transactionId")
        if transaction_id:
            existing = self.store.find_event_by_transaction(owner.key, str(transaction_id))
            if existing is not None:
                return existing, False
        event = self._new_event(owner, calendar["id"], body)
        if organizer_ref is not None:
            event["_organizer_ref"] = list(organizer_ref)
            event["isOrganizer"] = False
            event["responseStatus"] = {"response": "notResponded", "time": NEVER}
        with self.store.transaction():
            self._save(owner, event)
            if organizer_ref is None:
                self._invite(owner, event)
        return event, True

    def _new_event(self, owner: Owner, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body.get("start"), dict) or not isinstance(body.get("end"), dict):
            raise bad_request(
                "An event needs a start and an end.", "ErrorPropertyValidationFailure"
            )
        now = _now()
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
        self._apply(event, body)
        event["webLink"] = (
            f"https://outlook.office365.com/owa/?itemid={event['id']}&exvsurl=1&path=/calendar/item"
        )
        return event

    def _apply(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        for key, value in body.items():
            if key in {"start", "end", "@odata.type"}:
                continue
            if key in _READ_ONLY_EVENT:
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
                event["originalStartTimeZone" if key == "start" else "originalEndTimeZone"] = (
                    value.get("timeZone", "UTC")
                )
        if event["_end"] < event["_start"]:
            raise bad_request(
                "The end of the event must not be before its start.",
                "ErrorPropertyValidationFailure",
            )
        if isinstance(event.get("body"), dict):
            content = str(event["body"].get("content", ""))
            event["bodyPreview"] = (
                _text(content)[:255]
                if event["body"].get("contentType", "html") == "html"
                else content[:255]
            )
        if event.get("recurrence"):
            event["type"] = "seriesMaster"
            # Expanding once validates the pattern now, as Graph does, instead of at read time.
            next(
                occurrences(
                    event["recurrence"],
                    _utc(event["_start"]),
                    _utc(event["_end"]),
                    event["originalStartTimeZone"],
                ),
                None,
            )
        elif event.get("type") == "seriesMaster":
            event["type"] = "singleInstance"
        for attendee in event.get("attendees") or []:
            if isinstance(attendee, dict):
                attendee.setdefault("type", "required")
                attendee.setdefault("status", {"response": "none", "time": NEVER})

    def _save(self, owner: Owner, event: dict[str, Any]) -> None:
        event["lastModifiedDateTime"] = _now()
        event["changeKey"] = new_change_key()
        self.store.put("event", event, owner=owner.key, parent=event["_calendar"])

    def update_event(self, owner: Owner, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        current = self.event(owner, event_id)
        if current.get("type") == "occurrence":
            current = self._make_exception(owner, current)
        self._apply(current, body)
        with self.store.transaction():
            self._save(owner, current)
            self._sync_copies(current)
        return current

    def _make_exception(self, owner: Owner, occurrence: dict[str, Any]) -> dict[str, Any]:
        master = self.event(owner, occurrence["seriesMasterId"])
        master.setdefault("_exceptions", {})[occurrence["_original"]] = "modified"
        self._save(owner, master)
        occurrence["type"] = "exception"
        return occurrence

    def delete_event(self, owner: Owner, event_id: str) -> None:
        event = self.event(owner, event_id)
        with self.store.transaction():
            if event.get("type") in {"occurrence", "exception"}:
                master = self.event(owner, event["seriesMasterId"])
                master.setdefault("_exceptions", {})[event["_original"]] = "cancelled"
                master["cancelledOccurrences"] = sorted(
                    [
                        *master.get("cancelledOccurrences", []),
                        f"OID.{master['id']}.{event['_original'][:10]}",
                    ]
                )
                self._save(owner, master)
                self.store.delete("event", event["id"])
                return
            self._cancel_copies(event)
            self._tombstone(event)
            for exception in self.store.find("event", owner=owner.key, parent=event["_calendar"]):
                if exception.get("seriesMasterId") == event["id"]:
                    self.store.delete("event", exception["id"])
            self.store.delete("event", event["id"])

    def _tombstone(self, event: dict[str, Any]) -> None:
        """What a deleted event looked like, so a delta round can list what it removed."""
        self.store.put(
            "tombstone", event, owner=event["_owner"], parent=event["_calendar"], track=False
        )

    # -- occurrences -------------------------------------------------------------------------

    def _occurrence(self, master: dict[str, Any], original: dt.datetime) -> dict[str, Any]:
        key = original.isoformat()
        if master.get("_exceptions", {}).get(key) == "modified":
            stored = self.store.get("event", encode_compound(master["id"], key))
            if stored is not None:
                return stored
        duration = _utc(master["_end"]) - _utc(master["_start"])
        occurrence = {
            k: v for k, v in master.items() if k not in {"_exceptions", "cancelledOccurrences"}
        }
        occurrence.update(
            {
                "id": encode_compound(master["id"], key),
                "type": "occurrence",
                "seriesMasterId": master["id"],
                "recurrence": None,
                "_original": key,
                "originalStart": original.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "_start": key,
                "_end": (original + duration).isoformat(),
            }
        )
        return occurrence

    def expand(
        self, master: dict[str, Any], window: tuple[dt.datetime, dt.datetime]
    ) -> list[dict[str, Any]]:
        found = []
        for begin, _end in occurrences(
            master["recurrence"],
            _utc(master["_start"]),
            _utc(master["_end"]),
            master.get("originalStartTimeZone"),
            window,
        ):
            if master.get("_exceptions", {}).get(begin.isoformat()) == "cancelled":
                continue
            found.append(self._occurrence(master, begin))
        return found

    def calendar_view(
        self,
        owner: Owner,
        calendar_id: str | None,
        start: dt.datetime,
        end: dt.datetime,
    ) -> list[dict[str, Any]]:
        if end <= start:
            raise bad_request(
                "The end of the range must be after its start.", "ErrorInvalidParameter"
            )
        window = (start, end)
        found: list[dict[str, Any]] = []
        for event in self.events(owner, calendar_id):
            if event["type"] == "seriesMaster":
                found.extend(o for o in self.expand(event, window) if overlaps(o, window))
            elif overlaps(event, window):
                found.append(event)
        return sorted(found, key=lambda e: (e["_start"], e["_end"]))

    def instances(
        self, owner: Owner, event_id: str, start: dt.datetime, end: dt.datetime
    ) -> list[dict[str, Any]]:
        master = self.event(owner, event_id)
        if master.get("type") != "seriesMaster":
            return []
        return [o for o in self.expand(master, (start, end)) if overlaps(o, (start, end))]

    # -- meetings ----------------------------------------------------------------------------

    def _invite(
        self, organizer: Owner, event: dict[str, Any], only: set[str] | None = None
    ) -> None:
        """Put a copy of the meeting in each invitee's calendar (invitees with a mailbox here)."""
        copies = list(event.get("_copies", []))
        for attendee in event.get("attendees") or []:
            address = ((attendee or {}).get("emailAddress") or {}).get("address", "")
            if only is not None and address.lower() not in only:
                continue
            user = self.find_user(address) if address else None
            if user is None or user["id"] == organizer.id:
                continue
            invitee = Owner("user", user["id"], user["userPrincipalName"], user["displayName"])
            body = {
                k: v
                for k, v in event.items()
                if k in _SHARED_WITH_ATTENDEES
                and not k.startswith("_")
                and k not in _READ_ONLY_EVENT
            }
            body["start"] = {"dateTime": event["_start"], "timeZone": "UTC"}
            body["end"] = {"dateTime": event["_end"], "timeZone": "UTC"}
            copy = self._new_event(invitee, self.default_calendar(invitee)["id"], body)
            copy.update(
                {
                    "iCalUId": event["iCalUId"],
                    "organizer": event["organizer"],
                    "isOrganizer": False,
                    "responseStatus": {"response": "notResponded", "time": NEVER},
                    "_organizer_ref": [organizer.key, event["id"]],
                    "originalStartTimeZone": event["originalStartTimeZone"],
                    "originalEndTimeZone": event["originalEndTimeZone"],
                }
            )
            self._save(invitee, copy)
            copies.append([invitee.key, copy["id"]])
        if copies:
            event["_copies"] = copies
            self._save(organizer, event)

    def _sync_copies(self, event: dict[str, Any]) -> None:
        for _owner_key, copy_id in event.get("_copies", []):
            copy = self.store.get("event", copy_id)
            if copy is None:
                continue
            for key in _SHARED_WITH_ATTENDEES:
                if key in event:
                    copy[key] = event[key]
            copy["lastModifiedDateTime"] = _now()
            copy["changeKey"] = new_change_key()
            self.store.put("event", copy, owner=copy["_owner"], parent=copy["_calendar"])

    def _cancel_copies(self, event: dict[str, Any]) -> None:
        for _owner_key, copy_id in event.get("_copies", []):
            copy = self.store.get("event", copy_id)
            if copy is not None:
                copy["isCancelled"] = True
                copy["subject"] = "Canceled: " + str(copy.get("subject", ""))
                copy["changeKey"] = new_change_key()
                self.store.put("event", copy, owner=copy["_owner"], parent=copy["_calendar"])

    def respond(self, owner: Owner, event_id: str, response: str, body: dict[str, Any]) -> None:
        """An attendee's accept / decline / tentativelyAccept, copied to the organizer's event."""
        event = self.event(owner, event_id)
        if event.get("isOrganizer", True) and not event.get("_organizer_ref"):
            raise bad_request(
                "Your request can't be completed. You can't respond to this meeting because "
                "you're the meeting organizer.",
                "ErrorInvalidRequest",
            )
        if (
            response == "declined"
            and body.get("proposedNewTime")
            and not event.get("allowNewTimeProposals", True)
        ):
            raise bad_request(
                "The organizer does not accept new time proposals.", "ErrorInvalidRequest"
            )
        stamp = _now()
        status = {"response": response, "time": stamp}
        with self.store.transaction():
            event["responseStatus"] = status
            self._save(owner, event)
            organizer_key, organizer_event_id = event.get("_organizer_ref", [None, None])
            organizer_event = (
                self.store.get("event", organizer_event_id) if organizer_event_id else None
            )
            if organizer_event is not None:
                for attendee in organizer_event.get("attendees") or []:
                    address = ((attendee or {}).get("emailAddress") or {}).get("address", "")
                    if address.lower() == owner.address.lower():
                        attendee["status"] = status
                        if body.get("proposedNewTime"):
                            attendee["proposedNewTime"] = body["proposedNewTime"]
                organizer_event["lastModifiedDateTime"] = stamp
                organizer_event["changeKey"] = new_change_key()
                self.store.put(
                    "event",
                    organizer_event,
                    owner=organizer_key,
                    parent=organizer_event["_calendar"],
                )

    def forward(self, owner: Owner, event_id: str, body: dict[str, Any]) -> None:
        """Forward a meeting: the recipients join the organizer's attendee list and get a copy."""
        recipients = [r for r in body.get("toRecipients") or [] if isinstance(r, dict)]
        addresses = {
            str((r.get("emailAddress") or {}).get("address", "")).lower() for r in recipients
        }
        if not recipients or "" in addresses:
            raise bad_request(
                "At least one recipient with an address is required.", "ErrorInvalidRecipients"
            )
        event = self.event(owner, event_id)
        organizer_key, organizer_id = event.get("_organizer_ref") or [owner.key, event["id"]]
        meeting = self.store.get("event", organizer_id)
        if meeting is None:
            raise not_found()
        organizer = self.owner_from_key(organizer_key)
        known = {
            ((a or {}).get("emailAddress") or {}).get("address", "").lower()
            for a in meeting["attendees"]
        }
        new = addresses - known - {organizer.address.lower()}
        for recipient in recipients:
            if str(recipient["emailAddress"].get("address", "")).lower() in new:
                meeting["attendees"].append(
                    {
                        "emailAddress": recipient["emailAddress"],
                        "type": "required",
                        "status": {"response": "none", "time": NEVER},
                    }
                )
        with self.store.transaction():
            self._save(organizer, meeting)
            self._invite(organizer, meeting, only=new)

    def owner_from_key(self, key: str) -> Owner:
        kind, _, owner_id = key.partition(":")
        return self.user_owner(owner_id) if kind == "user" else self.group_owner(owner_id)

    def set_reminder(
        self, owner: Owner, event_id: str, *, snooze_until: dt.datetime | None
    ) -> None:
        """Dismiss an event's reminder, or snooze it to a new time."""
        self.event(owner, event_id)
        state: dict[str, Any] = {"id": event_id}
        if snooze_until is None:
            state["dismissed"] = True
        else:
            state["snoozed_until"] = snooze_until.isoformat()
        self.store.put("reminder", state, owner=owner.key, track=False)

    def cancel(self, owner: Owner, event_id: str) -> None:
        event = self.event(owner, event_id)
        if not event.get("isOrganizer", True) or event.get("_organizer_ref"):
            raise bad_request(
                "Your request can't be completed. Only the meeting organizer can cancel "
                "the meeting.",
                "ErrorAccessDenied",
            )
        self.delete_event(owner, event_id)

    # -- presenting --------------------------------------------------------------------------

    def present(
        self, doc: dict[str, Any], time_zone: str | None = None, body_type: str | None = None
    ) -> dict[str, Any]:
        out = {k: v for k, v in doc.items() if not k.startswith("_")}
        out["@odata.etag"] = f'W/"{doc.get("changeKey", "")}"'
        if "_start" in doc:
            out["start"] = from_utc(_utc(doc["_start"]), time_zone or "UTC")
            out["end"] = from_utc(_utc(doc["_end"]), time_zone or "UTC")
            out = {k: out[k] for k in _event_order(out)}
        body = out.get("body")
        if body_type and isinstance(body, dict) and body.get("contentType") != body_type:
            content = str(body.get("content", ""))
            if body_type == "text":
                out["body"] = {"contentType": "text", "content": _text(content)}
            else:
                out["body"] = {
                    "contentType": "html",
                    "content": f"<html><body>{content}</body></html>",
                }
        return out


def overlaps(event: dict[str, Any], window: tuple[dt.datetime, dt.datetime]) -> bool:
    start, end = _utc(event["_start"]), _utc(event["_end"])
    if start == end:
        return window[0] <= start < window[1]
    return start < window[1] and end > window[0]


def _event_order(out: dict[str, Any]) -> list[str]:
    # Graph lists start and end after body; keep that order so responses read like Graph's.
    keys = [k for k in out if k not in {"start", "end"}]
    position = keys.index("body") + 1 if "body" in keys else len(keys)
    return [*keys[:position], "start", "end", *keys[position:]]
