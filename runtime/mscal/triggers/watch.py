"""Running a trigger: a round now, then one every `interval` seconds or as soon as something
wakes it (a notification: "look now"), each round's changes emitted and its state saved.

Exactly once given the saved state: a round starts from the saved state and its new state is
saved right after its changes are emitted, so a round that fails or is killed before emitting
is run again from the same state and its changes come again, once. With a store that can
prepare a write (the file store), the new state is on disk before the changes are emitted and
only renamed into place after: a crash between emitting and saving is a window of one rename,
and a change that was emitted twice then carries the same `dedupe_key`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from mscal.errors import ConnectorError, InputError
from mscal.triggers.state import StateStore, load_owned
from mscal.triggers.trigger import Change, Trigger

if TYPE_CHECKING:
    from mscal.io.session import Session

log = logging.getLogger("mscal.triggers")
# A quiet round saves nothing, unless the saved delta link is older than this: a link kept for
# days would expire at Graph, and the resync after it reads the whole window again.
RESAVE_SECONDS = 3600.0
Emit = Callable[[list[Change]], None]


class Watch:
    def __init__(
        self,
        trigger: Trigger,
        store: StateStore,
        emit: Emit,
        *,
        interval: float,
        session: Session | None = None,
        lease_seconds: float = 300.0,
    ) -> None:
        self.trigger = trigger
        # With a store that has leases (mscal.state), a round holds the trigger's lease, so
        # workers that watch the same trigger never run its rounds at once.
        self.lease_seconds = lease_seconds
        self.store = store
        self.emit = emit
        self.interval = interval
        self.session = session
        self._own_session = False
        self.lock = threading.RLock()  # one round or state update at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.rounds = 0
        # The state this watch saved last, with the store's mark of it: while the store still
        # holds that save (nobody else wrote since), the next round starts from it instead of
        # reading and parsing the file again (a big mailbox's state is tens of MB).
        self._kept: tuple[object, dict[str, Any]] | None = None
        self._saved_at = 0.0  # time.monotonic() of the last save
        self._due: dt.datetime | None = None  # when a round is next needed on time
        # Called before each round's wait (the webhook mode keeps its subscription here).
        self.between_rounds: Callable[[], None] | None = None

    # -- control, from any thread ------------------------------------------------------------

    def wake(self) -> None:
        """Run a round as soon as possible (a notification arrived)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    # -- state -------------------------------------------------------------------------------

    def load(self) -> dict[str, Any] | None:
        trigger = self.trigger
        state = load_owned(self.store, trigger.key, trigger.name, trigger.inputs)
        if state is not None:
            self._saved_at = time.monotonic()  # when it was saved is unknown: at most this
        return state

    def update(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Change the saved state outside a round (the subscription), under the round lock."""
        with self.lock:
            state = self.load() or self.trigger.fresh_state()
            change(state)
            self.store.save(self.trigger.key, state)

    # -- rounds ------------------------------------------------------------------------------

    def round(self) -> list[Change]:
        """One round: poll from the saved state, emit the changes, save the new state."""
        with self.lock, self._leased() as held:
            if not held.held:
                log.info("round skipped: another worker runs %s now", self.trigger.name)
                return []
            state = self._reuse() or self.load()
            # A private copy (just loaded, or kept from the last save): changed in place.
            result = self.trigger.poll(state, session=self.open_session(), copy=False)
            self._due = self.trigger.next_due(result.state)
            if not held.renew():
                # The lease ended mid-round and another worker may have started from the same
                # state: emitting now could emit twice. Its round emits these changes instead.
                log.warning("round dropped: the lease of %s ended first", self.trigger.name)
                return []
            if result.quiet and time.monotonic() - self._saved_at < RESAVE_SECONDS:
                # Nothing but the delta link changed: the saved state starts the next round as
                # well (its link lists nothing new up to now), so a quiet round writes nothing.
                self._keep(result.state)
                self.rounds += 1
                return []
            prepare = getattr(self.store, "prepare", None)
            if callable(prepare):
                commit = prepare(self.trigger.key, result.state)
                if result.changes:
                    self.emit(result.changes)
                commit()
            else:
                if result.changes:
                    self.emit(result.changes)
                self.store.save(self.trigger.key, result.state)
            self._saved_at = time.monotonic()
            self._keep(result.state)
            self.rounds += 1
            return result.changes

    def wait_seconds(self) -> float:
        """Until the next round: the interval, or less when the trigger needs a round on time
        sooner (an event coming within a starting-soon trigger's look-ahead)."""
        if self._due is None:
            return self.interval
        until = (self._due - self.trigger.clock()).total_seconds()
        return max(0.0, min(self.interval, until + 0.05))

    def _reuse(self) -> dict[str, Any] | None:
        """The state kept from the last round, if the store still holds what it saved then;
        taken, so a round that fails midway (its state half changed) leaves nothing kept."""
        kept, self._kept = self._kept, None
        mark = getattr(self.store, "mark", None)
        if kept is None or not callable(mark) or mark(self.trigger.key) != kept[0]:
            return None
        return kept[1]

    def _keep(self, state: dict[str, Any]) -> None:
        mark = getattr(self.store, "mark", None)
        if callable(mark):
            saved = mark(self.trigger.key)
            if saved is not None:
                self._kept = (saved, state)

    @contextlib.contextmanager
    def _leased(self) -> Iterator[Any]:
        lease = getattr(self.store, "lease", None)
        if not callable(lease):
            yield _Alone()  # one process: the round lock is enough
            return
        with lease(self.trigger.key, self.lease_seconds) as held:
            yield held

    def open_session(self) -> Session:
        """The session rounds use: the one given, else one opened at the first round and kept
        (a pooled connection, not a new client and TLS context each round)."""
        if self.session is None:
            self.session = self.trigger.session()
            self._own_session = True
        return self.session

    def close(self) -> None:
        """Close the session the watch opened itself (not one it was given)."""
        if self._own_session and self.session is not None:
            self.session.close()
            self.session = None
            self._own_session = False

    def run(self, *, once: bool = False) -> None:
        """Rounds until `stop()`; a failed round is reported and tried again at the next one
        (nothing was saved, so nothing is lost). With `once`, one round, and its error raised."""
        while not self.stopped:
            self._wake.clear()
            if once:
                self.round()
                return
            try:
                self.round()
            except InputError:
                raise
            except ConnectorError as exc:
                log.warning("round failed, tried again in %s s: %s", self.interval, exc)
            if self.between_rounds is not None and not self.stopped:
                try:
                    self.between_rounds()
                except ConnectorError as exc:
                    log.warning("keeping the subscription failed: %s", exc)
            self._wake.wait(self.wait_seconds())


class _Alone:
    """The lease of a store without leases: always held."""

    held = True

    def renew(self) -> bool:
        return True
