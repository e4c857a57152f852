"""Reminders: reminderView over a window, and dismissing or snoozing an event's reminder."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mscal.sandbox.domain.events import Events
from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.domain.timezones import from_utc
from mscal.sandbox.store import Store


class Reminders:
    def __init__(self, store: Store, events: Events) -> None:
        self.store = store
        self.events = events

    def set_reminder(
        self, owner: Owner, event_id: str, *, snooze_until: dt.datetime | None
    ) -> None:
        """Dismiss an event's reminder, or snooze it to a new time."""
        self.events.event(owner, event_id)
        state: dict[str, Any] = {"id": event_id}
        if snooze_until is None:
            state["dismissed"] = True
        else:
            state["snoozed_until"] = snooze_until.isoformat()
        self.store.put("reminder", state, owner=owner.key, track=False)

    def reminders(self, owner: Owner, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
        found = []
        for event in self.events.calendar_view(owner, None, start, end):
            if not event.get("isReminderOn", True) or event.get("isCancelled"):
                continue
            state = self.store.get("reminder", event["id"]) or {}
            if state.get("dismissed"):
                continue
            event_start = dt.datetime.fromisoformat(event["_start"])
            fire = (
                dt.datetime.fromisoformat(state["snoozed_until"])
                if state.get("snoozed_until")
                else event_start
                - dt.timedelta(minutes=int(event.get("reminderMinutesBeforeStart", 15)))
            )
            found.append(
                {
                    "eventId": event["id"],
                    "changeKey": event.get("changeKey"),
                    "eventSubject": event.get("subject", ""),
                    "eventLocation": event.get("location") or {"displayName": ""},
                    "eventWebLink": event.get("webLink", ""),
                    "eventStartTime": from_utc(event_start, "UTC"),
                    "eventEndTime": from_utc(dt.datetime.fromisoformat(event["_end"]), "UTC"),
                    "reminderFireTime": from_utc(fire, "UTC"),
                }
            )
        return found
