"""A trigger bound to its inputs and a connection: `poll(state)` is one step that returns the
changes and the new state; the builder (or `watch`) emits the changes and saves the state.

One step: a delta round from the saved link (a full round over a new window on a first run,
when the window has moved on, or when the link expired); the items change the mirror (see
mirror.py), which says what changed; `starting_soon` is read from the mirror and the clock.
Nothing is saved here, so a step that fails leaves the saved state as it was and the next step
sees the same changes again: nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mscal.triggers.delta import DeltaRound, Window, iso
from mscal.triggers.mirror import EventFields, Mirror, dig, parse_time, soon_key
from mscal.triggers.state import check_owner, load_owned
from mscal.triggers.webhook import NotificationReceiver

if TYPE_CHECKING:
    from mscal.io.session import Session
    from mscal.spec.triggers import TriggerDefinition
    from mscal.triggers.state import StateStore

STATE_FORMAT = 1
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Change:
    """One change as emitted: `{"trigger", "change", "event_id", "dedupe_key", "event"}`."""

    trigger: str
    change: str
    event_id: str
    dedupe_key: str
    event: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "change": self.change,
            "event_id": self.event_id,
            "dedupe_key": self.dedupe_key,
            "event": self.event,
        }


@dataclass(frozen=True)
class PollResult:
    changes: list[Change]
    state: dict[str, Any]
    # The round read nothing and changed nothing but the delta link: the state saved before it
    # is as good a start for the next round (its link lists the same changes: none, then what
    # comes), so a caller may skip saving it.
    quiet: bool = False


class _Saved:
    """The default of `poll(state)`: start from the trigger's own state."""

    def __repr__(self) -> str:
        return "SAVED"


SAVED = _Saved()


class Trigger:
    """A trigger bound to validated inputs and a connection; built by `connector.trigger(name,
    inputs, auth=..., state=...)`. `session` opens a session on the connection.

    `state` is where a poll without an explicit state starts: a state saved earlier (the dict a
    poll returned), or a `StateStore` that holds it under the trigger's key; `save` records the
    new one after the builder has emitted its changes.
    """

    def __init__(
        self,
        definition: TriggerDefinition,
        inputs: Mapping[str, Any],
        session: Callable[[], Session],
        *,
        state: StateStore | Mapping[str, Any] | None = None,
        key: str | None = None,
        clock: Clock = utc_now,
        emit_existing: bool = False,
    ) -> None:
        self.definition = definition
        self.inputs = inputs
        self.session = session
        self.key = key or state_key(definition.name, inputs)
        self.store: StateStore | None = None
        self.saved: dict[str, Any] | None = None
        if isinstance(state, Mapping):
            self.saved = json.loads(json.dumps(state))  # the builder's dict stays theirs
        elif state is not None:
            self.store = state
        self.clock = clock
        self.emit_existing = emit_existing
        self.delta = DeltaRound.from_spec(definition.source["delta"])
        self.fields = EventFields.from_spec(definition.source["event"])

    @property
    def name(self) -> str:
        return self.definition.name

    # -- one step ------------------------------------------------------------------------------

    def poll(
        self,
        state: Mapping[str, Any] | _Saved | None = SAVED,
        *,
        session: Session | None = None,
        copy: bool = True,
    ) -> PollResult:
        """One delta round from `state` (None: a first run; not given: the state this trigger
        was given or last saved, or its store's): the changes, and the new state. `state` is
        left as it was (`copy=False`: it is changed in place, for a caller whose state is a
        private copy anyway, such as one just loaded)."""
        if isinstance(state, _Saved):
            state, copy = self.load(), False  # a private copy already
        if session is None:
            with self.session() as own:
                return self.poll(state, session=own, copy=copy)
        if not state:
            new = self.fresh_state()
        elif copy:
            new = json.loads(json.dumps(state))  # several times faster than deepcopy
        else:
            new = state  # type: ignore[assignment]
        mirror = Mirror(self.fields, new["events"])
        now = self.clock()
        before = (new.get("window"), new.get("high_water"))
        found = self._round(session, new, mirror, now)
        quiet = not found and not mirror.changed and (new["window"], new["high_water"]) == before
        if "starting_soon" in self.definition.changes:
            announced = len(new["announced"])
            checked = parse_time(new.get("soon_checked"))
            soon = mirror.starting_soon(now, self.look_ahead, new["announced"], checked)
            # When this round looked (not worth a save by itself: a late look is still
            # bounded by `look_ahead`, and what was announced is saved when it changes).
            new["soon_checked"] = now.isoformat()
            quiet = quiet and not soon and len(new["announced"]) == announced
            found += soon
        wanted = set(self.definition.changes)
        changes = [self._change(kind, event) for kind, event in found if kind in wanted]
        return PollResult(changes, new, quiet)

    @property
    def look_ahead(self) -> dt.timedelta:
        return dt.timedelta(minutes=int(self.inputs.get("look_ahead_minutes") or 15))

    def next_due(self, state: Mapping[str, Any]) -> dt.datetime | None:
        """When a round is next needed on time by itself (a `starting_soon` trigger: when the
        next event comes within its look-ahead), whatever the polling interval; None: only
        when the calendar changes."""
        if "starting_soon" not in self.definition.changes:
            return None
        mirror = Mirror(self.fields, state.get("events") or {})
        return mirror.next_soon(self.clock(), self.look_ahead, state.get("announced") or {})

    def load(self) -> dict[str, Any] | None:
        """A copy of the state a poll without one starts from (None: a first run)."""
        if self.store is not None:
            return load_owned(self.store, self.key, self.name, self.inputs)
        if self.saved is None:
            return None
        check_owner(self.saved, self.name, self.inputs)
        copied: dict[str, Any] = json.loads(json.dumps(self.saved))
        return copied

    def save(self, result: PollResult | Mapping[str, Any]) -> None:
        """Record a poll's new state once its changes are emitted: in the store, or as the
        state the next poll starts from. (Not saved, the next poll sees the same changes.)"""
        state = result.state if isinstance(result, PollResult) else result
        if self.store is not None:
            self.store.save(self.key, dict(state))
        else:
            self.saved = json.loads(json.dumps(state))

    def webhook_handler(
        self,
        client_state: str | Callable[[], str | None],
        on_change: Callable[[], None],
        on_lifecycle: Callable[[str], None] | None = None,
    ) -> NotificationReceiver:
        """The endpoint Graph notifies, for a builder that runs its own polls: an ASGI app, or
        `handle(method, query_string, body)` from any framework. It answers the validation
        handshake and, for each notification carrying `client_state` (the subscription's,
        `state["subscription"]["client_state"]`), calls `on_change` (poll now) or
        `on_lifecycle(event)`; a notification without it is answered 202 and dropped.
        (`WebhookMode` does all of this, with the subscription, for a `Watch`.)"""
        source = self.definition.source.get("subscription")
        if not source:
            raise ValueError(f"trigger {self.name!r} has no subscription: poll it instead")

        def current() -> str | None:
            return client_state() if callable(client_state) else client_state

        return NotificationReceiver(
            source["notification"], current, on_change, on_lifecycle or (lambda event: None)
        )

    def fresh_state(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "trigger": self.name,
            "inputs": dict(self.inputs),
            "delta_link": None,
            "window": None,
            "high_water": None,
            "baselined": False,
            "events": {},
            "announced": {},
            "subscription": None,
        }

    def _round(
        self, session: Session, state: dict[str, Any], mirror: Mirror, now: dt.datetime
    ) -> list[tuple[str, dict[str, Any]]]:
        link = state.get("delta_link")
        window = _window(state)
        if link and window and not self._window_moved_on(window, now):
            try:
                pages = self.delta.next(session, self.inputs, link)
            except self.delta.resync_error:
                pass  # the link expired: a full round below, emitting only what differs
            else:
                high_water = HighWater(self.fields, state.get("high_water"))
                found = mirror.apply(high_water.track(pages), self.delta.removed)
                return self._finish(state, pages.link, window, high_water, found)
        window = self.delta.window(now, self.inputs)
        pages = self.delta.first(session, self.inputs, window)
        baselined = bool(state.get("baselined"))
        since = self._since(state) if baselined else None
        high_water = HighWater(self.fields, state.get("high_water"))
        found = mirror.reconcile(
            high_water.track(pages), window, since, emit_new=self.emit_existing
        )
        state["baselined"] = True
        return self._finish(state, pages.link, window, high_water, found)

    def _since(self, state: Mapping[str, Any]) -> dt.datetime:
        """What the last round saw up to (server time); the dawn of time if it saw nothing."""
        return parse_time(state.get("high_water")) or dt.datetime.min.replace(tzinfo=dt.UTC)

    def _finish(
        self,
        state: dict[str, Any],
        link: str | None,
        window: Window,
        high_water: HighWater,
        found: list[tuple[str, dict[str, Any]]],
    ) -> list[tuple[str, dict[str, Any]]]:
        state["delta_link"] = link
        state["window"] = [iso(window[0]), iso(window[1])]
        state["high_water"] = high_water.saved()
        return found

    def _window_moved_on(self, window: Window, now: dt.datetime) -> bool:
        """Less than half of the window lies ahead: start a new one (a quiet resync)."""
        return now + (window[1] - window[0]) / 2 > window[1] or now < window[0]

    def _change(self, kind: str, event: dict[str, Any]) -> Change:
        event_id = str(event.get(self.fields.id))
        start = parse_time(dig(event, self.fields.start))
        if kind == "starting_soon" and start is not None:
            dedupe = soon_key(event_id, start)
        else:
            dedupe = f"{event_id}:{kind}:{Mirror(self.fields, {}).version(event)}"
        return Change(self.name, kind, event_id, dedupe, event)


class HighWater:
    """The latest creation or change time among the items a round read (server time): a later
    full round takes an unknown event created after it as `created`."""

    def __init__(self, fields: EventFields, saved: Any) -> None:
        self.names = [name for name in (fields.created, fields.modified) if name]
        self.high = parse_time(saved)

    def track(self, items: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The items, unchanged, each seen on its way through."""
        for item in items:
            for name in self.names:
                moment = parse_time(item.get(name))
                if moment is not None and (self.high is None or moment > self.high):
                    self.high = moment
            yield item

    def saved(self) -> str | None:
        return self.high.isoformat() if self.high else None


def _window(state: Mapping[str, Any]) -> Window | None:
    raw = state.get("window")
    if not isinstance(raw, list) or len(raw) != 2:
        return None
    start, end = parse_time(raw[0]), parse_time(raw[1])
    return (start, end) if start and end else None


def state_key(trigger: str, inputs: Mapping[str, Any]) -> str:
    """A trigger and its inputs name one state (the same trigger on two calendars, two)."""
    return f"{trigger}:{json.dumps(dict(inputs), sort_keys=True, separators=(',', ':'))}"
