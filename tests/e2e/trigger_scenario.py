"""Mixed changes to a watched mailbox, made through the local service's domain (fast; the
trigger under test reads them back over HTTP), each with the change a trigger must emit once.

The watched mailbox is Alex's: his own single events and series (created, updated, deleted; one
occurrence edited or deleted), and meetings Adele invites him to and cancels. Within one batch
no event is touched twice, so each operation is exactly one emitted change (a series' creation is
one per occurrence in the window).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mscal.sandbox.domain.tenant import Tenant

ADELE = "adele@contoso.onmicrosoft.com"
ALEX = "alex@contoso.onmicrosoft.com"
KINDS = [
    ("create", 24),
    ("update", 20),
    ("delete", 10),
    ("invite", 10),
    ("cancel", 8),
    ("series", 4),
    ("edit_occurrence", 12),
    ("delete_occurrence", 12),
]
Expected = Counter[tuple[str, str]]  # (event id, change) -> how many times


def _slot(now: dt.datetime, rng: random.Random, days: int) -> dict[str, Any]:
    start = now + dt.timedelta(hours=rng.randint(2, days * 24), minutes=rng.choice([0, 30]))
    end = start + dt.timedelta(minutes=30)
    return {
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
    }


@dataclass
class Scenario:
    tenant: Tenant
    now: dt.datetime
    seed: int = 16
    horizon_days: int = 20  # events start at most this far ahead (inside a trigger's window)
    rng: random.Random = field(init=False)
    singles: list[str] = field(default_factory=list)
    meetings: dict[str, str] = field(default_factory=dict)  # Adele's event -> Alex's copy
    series: list[str] = field(default_factory=list)
    occurrences: list[str] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)
    starts: dict[str, str] = field(default_factory=dict)  # event id -> its start (naive UTC)
    number: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.alex = self.tenant.user_owner(ALEX)
        self.adele = self.tenant.user_owner(ADELE)

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime]:
        return self.now - dt.timedelta(days=1), self.now + dt.timedelta(days=30)

    def batch(self, size: int) -> Expected:
        """Apply `size` changes (no event touched twice); what a trigger must emit for them."""
        expected: Expected = Counter()
        touched: set[str] = set()
        done = 0
        while done < size:
            kind = self.rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
            if getattr(self, f"_{kind}")(expected, touched):
                self.applied[kind] += 1
                done += 1
        return expected

    def _body(self, **extra: Any) -> dict[str, Any]:
        self.number += 1
        return {
            "subject": f"Change {self.number}",
            **_slot(self.now, self.rng, self.horizon_days),
            **extra,
        }

    def _pick(self, pool: list[str], touched: set[str]) -> str | None:
        """An event not touched in this batch and still ahead (in a moving window)."""
        ahead = (self.now + dt.timedelta(hours=1)).replace(tzinfo=None).isoformat()
        free = [i for i in pool if i not in touched and self.starts.get(i, ahead) >= ahead]
        return self.rng.choice(free) if free else None

    def _create(self, expected: Expected, touched: set[str]) -> bool:
        event, _ = self.tenant.create_event(self.alex, None, self._body())
        self.singles.append(event["id"])
        self.starts[event["id"]] = event["_start"]
        touched.add(event["id"])
        expected[(event["id"], "created")] += 1
        return True

    def _update(self, expected: Expected, touched: set[str]) -> bool:
        event_id = self._pick(self.singles, touched)
        if event_id is None:
            return False
        self.number += 1
        self.tenant.events.update_event(self.alex, event_id, {"subject": f"Moved {self.number}"})
        touched.add(event_id)
        expected[(event_id, "updated")] += 1
        return True

    def _delete(self, expected: Expected, touched: set[str]) -> bool:
        event_id = self._pick(self.singles, touched)
        if event_id is None:
            return False
        self.tenant.events.delete_event(self.alex, event_id)
        self.singles.remove(event_id)
        touched.add(event_id)
        expected[(event_id, "deleted")] += 1
        return True

    def _invite(self, expected: Expected, touched: set[str]) -> bool:
        attendee = {"emailAddress": {"address": ALEX, "name": "Alex"}, "type": "required"}
        event, _ = self.tenant.create_event(self.adele, None, self._body(attendees=[attendee]))
        stored = self.tenant.store.get("event", event["id"]) or {}
        copy_id = next(c for owner, c in stored["_copies"] if owner == self.alex.key)
        self.meetings[event["id"]] = copy_id
        self.starts[copy_id] = stored["_start"]
        touched.add(copy_id)
        expected[(copy_id, "created")] += 1
        return True

    def _cancel(self, expected: Expected, touched: set[str]) -> bool:
        ahead = (self.now + dt.timedelta(hours=1)).replace(tzinfo=None).isoformat()
        free = [m for m, c in self.meetings.items() if c not in touched and self.starts[c] >= ahead]
        if not free:
            return False
        meeting = self.rng.choice(free)
        copy_id = self.meetings.pop(meeting)
        self.tenant.meetings.cancel(self.adele, meeting)
        touched.add(copy_id)
        expected[(copy_id, "cancelled")] += 1
        return True

    def _series(self, expected: Expected, touched: set[str]) -> bool:
        recurrence = {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "numberOfOccurrences": 4, "startDate": ""},
        }
        body = self._body()
        recurrence["range"]["startDate"] = body["start"]["dateTime"][:10]
        body["start"]["dateTime"] = body["start"]["dateTime"][:10] + "T09:00:00"
        body["end"]["dateTime"] = body["start"]["dateTime"][:10] + "T09:30:00"
        master, _ = self.tenant.create_event(self.alex, None, {**body, "recurrence": recurrence})
        for occurrence in self.tenant.events.instances(self.alex, master["id"], *self._naive()):
            self.occurrences.append(occurrence["id"])
            self.starts[occurrence["id"]] = occurrence["_start"]
            touched.add(occurrence["id"])
            expected[(occurrence["id"], "created")] += 1
        self.series.append(master["id"])
        return True

    def _naive(self) -> tuple[dt.datetime, dt.datetime]:
        start, end = self.window
        return start.replace(tzinfo=None), end.replace(tzinfo=None)

    def _edit_occurrence(self, expected: Expected, touched: set[str]) -> bool:
        occurrence = self._pick(self.occurrences, touched)
        if occurrence is None:
            return False
        self.number += 1
        self.tenant.events.update_event(self.alex, occurrence, {"subject": f"Once {self.number}"})
        touched.add(occurrence)
        expected[(occurrence, "updated")] += 1
        return True

    def _delete_occurrence(self, expected: Expected, touched: set[str]) -> bool:
        occurrence = self._pick(self.occurrences, touched)
        if occurrence is None:
            return False
        self.tenant.events.delete_event(self.alex, occurrence)
        self.occurrences.remove(occurrence)
        touched.add(occurrence)
        expected[(occurrence, "deleted")] += 1
        return True


def timed_event(subject: str, start: dt.datetime, minutes: int = 60) -> dict[str, Any]:
    """An event body from `start` (UTC) for `minutes`."""
    end = start + dt.timedelta(minutes=minutes)
    return {
        "subject": subject,
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
    }


def emitted(changes: list[dict[str, Any]]) -> Expected:
    return Counter((c["event_id"], c["change"]) for c in changes)
