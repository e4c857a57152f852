"""calendarView delta: a first round lists the window, later rounds list what changed.

The state travels in the links themselves ($skiptoken within a round, $deltatoken between
rounds): the window, the calendar, and the change-log position the round started from. Each
changed item appears once per round, either in full or as `{"id": ..., "@removed": ...}`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from typing import Any

from mscal.sandbox.domain.calendars import Calendars
from mscal.sandbox.domain.events import Events
from mscal.sandbox.domain.occurrences import Occurrences, overlaps
from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.errors import GraphHTTPError, bad_request
from mscal.sandbox.ids import encode_compound
from mscal.sandbox.store import Store

_FIRST_ROUNDS_KEPT = 4


@dataclass(frozen=True)
class DeltaState:
    owner: str
    calendar: str | None
    start: str
    end: str
    since: int  # change-log position the previous round ended at
    upto: int  # change-log position this round reads up to
    initial: bool = True  # the first round lists the whole window
    skip: int = 0

    def encode(self) -> str:
        return base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> DeltaState:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            return cls(**json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise bad_request(
                f"The delta or skip token is not valid: {type(exc).__name__}.",
                "ErrorInvalidUrlQuery",
            ) from None

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime]:
        return dt.datetime.fromisoformat(self.start), dt.datetime.fromisoformat(self.end)


class Delta:
    def __init__(
        self, store: Store, calendars: Calendars, events: Events, occurrences: Occurrences
    ) -> None:
        self.store = store
        self.calendars = calendars
        self.events = events
        self.occurrences = occurrences
        self.oldest_kept = 0  # delta tokens from before this change-log position are expired
        self._first_rounds: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()

    def expire_tokens(self) -> None:
        """Expire every delta token issued so far (a later round gets 410: sync again)."""
        self.oldest_kept = self.store.latest_change() + 1

    def start(
        self, owner: Owner, calendar_id: str | None, start: dt.datetime, end: dt.datetime
    ) -> DeltaState:
        return DeltaState(
            owner.key,
            calendar_id,
            start.isoformat(),
            end.isoformat(),
            since=0,
            upto=self.store.latest_change(),
        )

    def resume(self, owner: Owner, token: str, *, delta: bool) -> DeltaState:
        state = DeltaState.decode(token)
        if state.owner != owner.key:
            raise bad_request("The token belongs to another mailbox.", "ErrorInvalidUrlQuery")
        if delta:
            if state.upto < self.oldest_kept:
                raise GraphHTTPError(
                    410,
                    "SyncStateNotFound",
                    "The sync state generation is not found. "
                    "The delta token has expired; do a full synchronization.",
                )
            # A new round: everything after where the last one stopped, up to now.
            state = DeltaState(
                state.owner,
                state.calendar,
                state.start,
                state.end,
                since=state.upto,
                upto=self.store.latest_change(),
                initial=False,
            )
        return state

    def items(self, owner: Owner, state: DeltaState) -> list[dict[str, Any]]:
        """Every item of the round, in a stable order (pages are slices of it)."""
        window = state.window
        if state.initial:
            # A first round's pages are slices of one listing, made at its first page and kept
            # for its next pages (a big calendar would otherwise be listed again for each page).
            key = replace(state, skip=0).encode()
            listed = self._first_rounds.pop(key, None)
            if listed is None:
                view = self.events.calendar_view(owner, state.calendar, *window)
                listed = [{"doc": doc} for doc in view]
            self._first_rounds[key] = listed
            while len(self._first_rounds) > _FIRST_ROUNDS_KEPT:
                self._first_rounds.popitem(last=False)
            return listed
        calendar = self.calendars.calendar(owner, state.calendar)["id"]
        found: list[dict[str, Any]] = []
        for event_id, removed in self.store.changes_since(
            "event", owner.key, state.since, state.upto
        ):
            doc = None if removed else self.store.get("event", event_id)
            if doc is None:
                doc = self.store.get("tombstone", event_id)
                found.extend({"removed": i} for i in self._ids_in_window(doc, window, calendar))
                continue
            if doc.get("_calendar") != calendar:
                if doc.get("type") != "exception":
                    found.append({"removed": doc["id"]})
                continue
            if doc.get("type") == "exception":
                # An occurrence edited again: its series master did not change this time.
                found.append({"doc": doc} if overlaps(doc, window) else {"removed": doc["id"]})
                continue
            if doc.get("type") == "seriesMaster":
                current = [o for o in self.occurrences.expand(doc, window) if overlaps(o, window)]
                current_ids = {o["id"] for o in current}
                found.extend({"doc": o} for o in current)
                found.extend(
                    {"removed": i}
                    for i in self._ids_in_window(doc, window, calendar)
                    if i not in current_ids
                )
            elif overlaps(doc, window):
                found.append({"doc": doc})
            else:
                found.append({"removed": doc["id"]})
        # Each item once a round, as it stands at the end (an edited occurrence may come from
        # its series and from itself).
        last = {item.get("doc", {}).get("id") or item.get("removed"): item for item in found}
        return list(last.values())

    def _ids_in_window(
        self, doc: dict[str, Any] | None, window: tuple[dt.datetime, dt.datetime], calendar: str
    ) -> list[str]:
        """The ids a (possibly deleted) event showed in the window, cancelled occurrences too."""
        if doc is None or doc.get("_calendar") != calendar:
            return []
        if doc.get("type") != "seriesMaster":
            return [doc["id"]] if overlaps(doc, window) else []
        stripped = {**doc, "_exceptions": {}}
        return [
            encode_compound(doc["id"], o["_original"])
            for o in self.occurrences.expand(stripped, window)
            if overlaps(o, window)
        ]
