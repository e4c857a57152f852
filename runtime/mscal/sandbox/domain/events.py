"""Events: single events, series masters and their occurrences; created, changed, deleted,
and listed by calendar or by time window (with series expanded)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mscal.sandbox.domain.calendars import Calendars
from mscal.sandbox.domain.documents import NEVER, apply, new_event, save, utc
from mscal.sandbox.domain.invitations import Invitations, attendee_addresses
from mscal.sandbox.domain.occurrences import Occurrences, overlaps
from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.errors import bad_request, malformed_id, not_found
from mscal.sandbox.ids import decode_compound
from mscal.sandbox.store import Store


class Events:
    def __init__(
        self,
        store: Store,
        calendars: Calendars,
        occurrences: Occurrences,
        invitations: Invitations,
    ) -> None:
        self.store = store
        self.calendars = calendars
        self.occurrences = occurrences
        self.invitations = invitations

    def events(self, owner: Owner, calendar_id: str | None) -> list[dict[str, Any]]:
        """Single events and series masters (not exceptions) of a calendar; by default the
        default calendar, which is what /me/events and /me/calendarView cover at Graph."""
        docs = self.store.find(
            "event", owner=owner.key, parent=self.calendars.calendar(owner, calendar_id)["id"]
        )
        return [d for d in docs if d.get("type") in {"singleInstance", "seriesMaster"}]

    def event(self, owner: Owner, event_id: str) -> dict[str, Any]:
        """A stored event, an exception, or a computed occurrence of a series."""
        stored = self.store.get("event", event_id)
        if stored is not None:
            if str(stored.get("_owner", "")) != owner.key:
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
        return self.occurrences.occurrence(master, utc(parts[1]))

    def create_event(
        self,
        owner: Owner,
        calendar_id: str | None,
        body: dict[str, Any],
        organizer_ref: tuple[str, str] | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """(event, created): a repeated transactionId returns the first event, not a duplicate."""
        calendar = self.calendars.calendar(owner, calendar_id)
        transaction_id = body.get("transactionId")
        if transaction_id:
            existing = self.store.find_event_by_transaction(owner.key, str(transaction_id))
            if existing is not None:
                return existing, False
        event = new_event(owner, calendar["id"], body)
        if organizer_ref is not None:
            event["_organizer_ref"] = list(organizer_ref)
            event["isOrganizer"] = False
            event["responseStatus"] = {"response": "notResponded", "time": NEVER}
        with self.store.transaction():
            save(self.store, owner, event)
            if organizer_ref is None:
                self.invitations.invite(owner, event)
        return event, True

    def update_event(self, owner: Owner, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        # One transaction from the first read: an occurrence's first edit marks its series and
        # stores the occurrence, and no reader sees one without the other.
        with self.store.transaction():
            current = self.event(owner, event_id)
            if current.get("type") == "occurrence":
                current = self._make_exception(owner, current)
            invited = attendee_addresses(current)
            apply(current, body)
            if current.get("type") == "exception":
                # One occurrence changed: the attendees' copies of the series get the same
                # exception; the copies themselves stay series.
                current.pop("_copies", None)
                save(self.store, owner, current)
                master = self.event(owner, current["seriesMasterId"])
                self.invitations.sync_exception(master, current)
                return current
            removed = invited - attendee_addresses(current)
            if removed and "_organizer_ref" not in current:
                # Attendees taken off the meeting get its cancellation, as Outlook sends one.
                self.invitations.uninvite(current, removed)
            save(self.store, owner, current)
            self.invitations.sync_copies(current)
            added = attendee_addresses(current) - invited
            if added and "_organizer_ref" not in current:
                # Attendees added by an update get the meeting, as Outlook sends them one.
                self.invitations.invite(owner, current, only=added)
        return current

    def _make_exception(self, owner: Owner, occurrence: dict[str, Any]) -> dict[str, Any]:
        master = self.event(owner, occurrence["seriesMasterId"])
        master.setdefault("_exceptions", {})[occurrence["_original"]] = "modified"
        save(self.store, owner, master)
        occurrence["type"] = "exception"
        return occurrence

    def delete_event(self, owner: Owner, event_id: str) -> None:
        with self.store.transaction():
            event = self.event(owner, event_id)
            if event.get("type") in {"occurrence", "exception"}:
                master = self.event(owner, event["seriesMasterId"])
                master.setdefault("_exceptions", {})[event["_original"]] = "cancelled"
                master["cancelledOccurrences"] = sorted(
                    [
                        *master.get("cancelledOccurrences", []),
                        f"OID.{master['id']}.{event['_original'][:10]}",
                    ]
                )
                save(self.store, owner, master)
                self.store.delete("event", event["id"])
                return
            self.invitations.cancel_copies(event)
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

    # -- by time window ----------------------------------------------------------------------

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
                found.extend(
                    o for o in self.occurrences.expand(event, window) if overlaps(o, window)
                )
            elif overlaps(event, window):
                found.append(event)
        return sorted(found, key=lambda e: (e["_start"], e["_end"]))

    def instances(
        self, owner: Owner, event_id: str, start: dt.datetime, end: dt.datetime
    ) -> list[dict[str, Any]]:
        master = self.event(owner, event_id)
        if master.get("type") != "seriesMaster":
            return []
        window = (start, end)
        return [o for o in self.occurrences.expand(master, window) if overlaps(o, window)]
