"""Changes made while delta rounds are being read: each page of a round is made at one moment
of the local service, so an occurrence edited twice and then deleted is emitted as exactly those
changes, whatever way the rounds and the writes interleave. (Before, a round could read a series,
then find its edited occurrence deleted and show it as the plain occurrence again: an `updated`
back to the series' subject, and the deletion carrying that copy.)"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from typing import Any

import mscal
from mscal.sandbox.service import Sandbox
from mscal.triggers.state import MemoryStateStore
from mscal.triggers.watch import Watch
from tests.e2e.trigger_scenario import ALEX

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def test_occurrences_edited_during_rounds_are_each_emitted_once(
    connector: mscal.Connector, sandbox: Sandbox, alex: mscal.Authentication
) -> None:
    tenant = sandbox.tenant
    owner = tenant.user_owner(ALEX)
    window = (NOW.replace(tzinfo=None), (NOW + dt.timedelta(days=29)).replace(tzinfo=None))
    occurrences: list[str] = []
    for number in range(12):  # an occurrence's first edit makes it an exception: the hard one
        first = (NOW + dt.timedelta(days=1)).strftime("%Y-%m-%d")
        master, _ = tenant.create_event(
            owner,
            None,
            {
                "subject": f"Daily {number}",
                "start": {"dateTime": f"{first}T{number + 6:02}:00:00", "timeZone": "UTC"},
                "end": {"dateTime": f"{first}T{number + 6:02}:30:00", "timeZone": "UTC"},
                "recurrence": {
                    "pattern": {"type": "daily", "interval": 1},
                    "range": {"type": "numbered", "numberOfOccurrences": 25, "startDate": first},
                },
            },
        )
        occurrences += [o["id"] for o in tenant.events.instances(owner, master["id"], *window)]
    assert len(occurrences) == 300

    out: list[dict[str, Any]] = []
    trigger = connector.trigger("event_changed", {}, auth=alex, clock=lambda: NOW)
    watch = Watch(
        trigger, MemoryStateStore(), lambda cs: out.extend(c.to_dict() for c in cs), interval=0
    )
    watch.round()  # the baseline
    stop = threading.Event()

    rounds_run = [0]

    def rounds() -> None:
        while not stop.is_set():
            watch.round()
            rounds_run[0] += 1

    reader = threading.Thread(target=rounds)
    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads take turns often: rounds fall between the edits' steps
    reader.start()
    try:
        for turn in range(2):  # the first edit makes an exception, the second changes it
            for occurrence in occurrences:
                tenant.events.update_event(owner, occurrence, {"subject": f"Edit {turn}"})
                time.sleep(0.001)  # rounds run in between
        for occurrence in occurrences[::2]:  # a round may read a series, then its occurrence
            tenant.events.delete_event(owner, occurrence)
            time.sleep(0.001)
    finally:
        stop.set()
        reader.join()
        sys.setswitchinterval(switching)
    watch.round()  # whatever the last round missed
    # Updates to "Edit" subjects that only move forward, then one deletion where there was
    # one: a round that saw an edit half-made, or a series without the occurrence it names,
    # would show the occurrence back at the series' subject, or gone, in between.
    seen: dict[str, list[str]] = {}
    for change in out:
        subject = change["event"]["subject"]
        seen.setdefault(change["event_id"], []).append(f"{change['change']} {subject}")
    assert set(seen) == set(occurrences)
    for number, occurrence in enumerate(occurrences):
        changes = seen[occurrence]
        deleted = changes[-1:] == ["deleted Edit 1"]
        assert deleted == (number % 2 == 0), changes
        updates = changes[:-1] if deleted else changes
        assert updates in (["updated Edit 0", "updated Edit 1"], ["updated Edit 1"]), changes
    assert rounds_run[0] >= 20, rounds_run  # the rounds did run among the edits
