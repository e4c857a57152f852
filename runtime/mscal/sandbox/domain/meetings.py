"""What attendees and organizers do with a meeting: respond to it (the answer reaches the
organizer's event), forward it (the recipients are invited), or cancel it."""

from __future__ import annotations

from typing import Any

from mscal.sandbox.domain.directory import Directory
from mscal.sandbox.domain.documents import NEVER, save
from mscal.sandbox.domain.events import Events
from mscal.sandbox.domain.invitations import Invitations
from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.domain.timezones import graph_timestamp
from mscal.sandbox.errors import bad_request, not_found
from mscal.sandbox.ids import new_change_key
from mscal.sandbox.store import Store

# The action in the path, and the response it records.
RESPONSES = {
    "accept": "accepted",
    "decline": "declined",
    "tentativelyAccept": "tentativelyAccepted",
}


class Meetings:
    def __init__(
        self, store: Store, directory: Directory, events: Events, invitations: Invitations
    ) -> None:
        self.store = store
        self.directory = directory
        self.events = events
        self.invitations = invitations

    def respond(self, owner: Owner, event_id: str, response: str, body: dict[str, Any]) -> None:
        """An attendee's accept / decline / tentativelyAccept, copied to the organizer's event."""
        event = self.events.event(owner, event_id)
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
        stamp = graph_timestamp()
        status = {"response": response, "time": stamp}
        with self.store.transaction():
            event["responseStatus"] = status
            save(self.store, owner, event)
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
        event = self.events.event(owner, event_id)
        organizer_key, organizer_id = event.get("_organizer_ref") or [owner.key, event["id"]]
        meeting = self.store.get("event", organizer_id)
        if meeting is None:
            raise not_found()
        organizer = self.directory.owner_from_key(organizer_key)
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
            save(self.store, organizer, meeting)
            self.invitations.invite(organizer, meeting, only=new)

    def cancel(self, owner: Owner, event_id: str) -> None:
        event = self.events.event(owner, event_id)
        if not event.get("isOrganizer", True) or event.get("_organizer_ref"):
            raise bad_request(
                "Your request can't be completed. Only the meeting organizer can cancel "
                "the meeting.",
                "ErrorAccessDenied",
            )
        self.events.delete_event(owner, event_id)
