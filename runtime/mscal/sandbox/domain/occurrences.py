"""Occurrences of a recurring series: computed for the window asked for, never stored.

An occurrence's id carries its series and original start; an edited occurrence (an exception)
is stored under that same id, a cancelled one is marked in the master's `_exceptions`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mscal.sandbox.domain.documents import utc
from mscal.sandbox.domain.recurrence import occurrences
from mscal.sandbox.errors import GraphHTTPError
from mscal.sandbox.ids import encode_compound
from mscal.sandbox.store import Store

Window = tuple[dt.datetime, dt.datetime]
# What belongs to the series alone: an occurrence never carries its master's exceptions, nor
# the links to the attendees' copies of the series (an edited occurrence must not overwrite
# those copies with its own, recurrence-less, fields).
SERIES_ONLY = frozenset({"_exceptions", "cancelledOccurrences", "_copies"})


def overlaps(event: dict[str, Any], window: Window) -> bool:
    start, end = utc(event["_start"]), utc(event["_end"])
    if start == end:
        return window[0] <= start < window[1]
    return start < window[1] and end > window[0]


class Occurrences:
    def __init__(self, store: Store) -> None:
        self.store = store

    def occurrence(self, master: dict[str, Any], original: dt.datetime) -> dict[str, Any]:
        """The occurrence of a series that starts (started) at `original`, edited or not."""
        key = original.isoformat()
        if master.get("_exceptions", {}).get(key) == "modified":
            stored = self.store.get("event", encode_compound(master["id"], key))
            if stored is not None:
                return stored
        duration = utc(master["_end"]) - utc(master["_start"])
        occurrence = {k: v for k, v in master.items() if k not in SERIES_ONLY}
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

    def expand(self, master: dict[str, Any], window: Window) -> list[dict[str, Any]]:
        """The series' occurrences that begin in or reach into `window`, cancelled ones left
        out, and edited ones wherever they were moved (callers keep those in the window)."""
        found = []
        try:
            for begin, _end in occurrences(
                master["recurrence"],
                utc(master["_start"]),
                utc(master["_end"]),
                master.get("originalStartTimeZone"),
                window,
            ):
                if master.get("_exceptions", {}).get(begin.isoformat()) == "cancelled":
                    continue
                found.append(self.occurrence(master, begin))
        except (GraphHTTPError, ValueError, TypeError, KeyError, OverflowError):
            # A series stored before its pattern was checked on write (interval -1, say): it
            # shows no occurrences, rather than failing every view of its mailbox.
            return found
        # An edited occurrence may have moved into the window from outside it.
        seen = {o["_original"] for o in found}
        for original, state in master.get("_exceptions", {}).items():
            if state == "modified" and original not in seen:
                moved = self.store.get("event", encode_compound(master["id"], original))
                if moved is not None:
                    found.append(moved)
        return found
