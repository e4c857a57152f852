"""Meeting invitations: a copy of the organizer's event in each invitee's calendar (invitees
with a mailbox here), kept in step when the meeting changes and marked when it is cancelled."""

from __future__ import annotations

from typing import Any

from mscal.sandbox.domain.calendars import Calendars
from mscal.sandbox.domain.directory import Directory
from mscal.sandbox.domain.documents import NEVER, READ_ONLY, new_event, save
from mscal.sandbox.domain.occurrences import SERIES_ONLY
from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.domain.timezones import graph_timestamp
from mscal.sandbox.ids import encode_compound, new_change_key
from mscal.sandbox.store import Store

SHARED_WITH_ATTENDEES = (
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


def attendee_addresses(event: dict[str, Any]) -> set[str]:
    """The attendees' addresses, lowercase."""
    found = set()
    for attendee in event.get("attendees") or []:
        email = attendee.get("emailAddress") if isinstance(attendee, dict) else None
        address = email.get("address") if isinstance(email, dict) else None
        if isinstance(address, str) and address:
            found.add(address.lower())
    return found


class Invitations:
    def __init__(self, store: Store, directory: Directory, calendars: Calendars) -> None:
        self.store = store
        self.directory = directory
        self.calendars = calendars

    def invite(self, organizer: Owner, event: dict[str, Any], only: set[str] | None = None) -> None:
        """Put a copy of the meeting in each invitee's calendar (`only` those addresses)."""
        copies = list(event.get("_copies", []))
        for address in sorted(attendee_addresses(event)):
            if only is not None and address not in only:
                continue
            invitee = self.directory.mailbox_of(address)
            if invitee is None or invitee.id == organizer.id:
                continue
            body = {
                k: v
                for k, v in event.items()
                if k in SHARED_WITH_ATTENDEES and not k.startswith("_") and k not in READ_ONLY
            }
            body["start"] = {"dateTime": event["_start"], "timeZone": "UTC"}
            body["end"] = {"dateTime": event["_end"], "timeZone": "UTC"}
            copy = new_event(invitee, self.calendars.default_calendar(invitee)["id"], body)
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
            save(self.store, invitee, copy)
            copies.append([invitee.key, copy["id"]])
        if copies:
            event["_copies"] = copies
            save(self.store, organizer, event)

    def sync_copies(self, event: dict[str, Any]) -> None:
        """Bring the attendees' copies in step with the organizer's changed event."""
        for _owner_key, copy_id in event.get("_copies", []):
            copy = self.store.get("event", copy_id)
            if copy is None:
                continue
            for key in SHARED_WITH_ATTENDEES:
                if key in event:
                    copy[key] = event[key]
            copy["lastModifiedDateTime"] = graph_timestamp()
            copy["changeKey"] = new_change_key()
            self.store.put("event", copy, owner=copy["_owner"], parent=copy["_calendar"])

    def sync_exception(self, master: dict[str, Any], exception: dict[str, Any]) -> None:
        """An edited occurrence of the organizer's series, made the same exception in each
        attendee's copy of the series."""
        key = exception["_original"]
        for _owner_key, series_id in master.get("_copies", []):
            series = self.store.get("event", series_id)
            if series is None or not series.get("recurrence"):
                continue
            series.setdefault("_exceptions", {})[key] = "modified"
            series["changeKey"] = new_change_key()
            self.store.put("event", series, owner=series["_owner"], parent=series["_calendar"])
            copy = {k: v for k, v in series.items() if k not in SERIES_ONLY}
            copy.update({k: exception[k] for k in SHARED_WITH_ATTENDEES if k in exception})
            copy.update(
                {
                    "id": encode_compound(series["id"], key),
                    "type": "exception",
                    "seriesMasterId": series["id"],
                    "recurrence": None,
                    "_original": key,
                    "originalStart": exception.get("originalStart"),
                    "lastModifiedDateTime": graph_timestamp(),
                    "changeKey": new_change_key(),
                }
            )
            self.store.put("event", copy, owner=copy["_owner"], parent=copy["_calendar"])

    def cancel_copies(self, event: dict[str, Any]) -> None:
        """Mark the attendees' copies cancelled, as Outlook does with a cancellation."""
        for _owner_key, copy_id in event.get("_copies", []):
            self._cancel(copy_id)

    def uninvite(self, event: dict[str, Any], addresses: set[str]) -> None:
        """Attendees taken off a meeting get its cancellation, as Outlook sends one: their
        copies are marked cancelled and no longer kept in step."""
        owners = {o.key for a in addresses if (o := self.directory.mailbox_of(a)) is not None}
        kept = []
        for owner_key, copy_id in event.get("_copies", []):
            if owner_key in owners:
                self._cancel(copy_id)
            else:
                kept.append([owner_key, copy_id])
        event["_copies"] = kept

    def _cancel(self, copy_id: str) -> None:
        copy = self.store.get("event", copy_id)
        if copy is not None and not copy.get("isCancelled"):
            copy["isCancelled"] = True
            copy["subject"] = "Canceled: " + str(copy.get("subject", ""))
            copy["lastModifiedDateTime"] = graph_timestamp()
            copy["changeKey"] = new_change_key()
            self.store.put("event", copy, owner=copy["_owner"], parent=copy["_calendar"])
