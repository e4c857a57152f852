"""The Triggers tab's watches: a trigger started from the page polls in a thread of the studio
and keeps what it finds, numbered, for the page to fetch as it arrives.

Each watch is the runtime's own trigger (`connector.trigger(...)`, `Trigger.poll`): its first
round records a baseline, later rounds give the changes since. Its state lives in memory only:
a studio watch is for trying a trigger, not for running one (that is `mscal watch`).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any

from mscal.connector import Connector
from mscal.errors import ConnectorError
from mscal.studio.connections import Connections

# A studio keeps a few watches at most; starting one more stops and forgets the oldest.
MAX_WATCHES = 4
# The shortest pause between rounds a page may ask for, and the longest.
MIN_INTERVAL, MAX_INTERVAL = 0.5, 3600.0
# Changes a watch keeps for the page (the oldest go first).
KEPT_CHANGES = 500


class Watching:
    """One trigger polling on its own thread until stopped."""

    def __init__(self, trigger: Any, interval: float) -> None:
        self.id = secrets.token_urlsafe(9)
        self.trigger = trigger
        self.interval = interval
        self.changes: list[dict[str, Any]] = []
        self.first = 0  # the number of the first change still kept
        self.rounds = 0
        self.error: str | None = None
        self.last_round: float | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"studio-{self.id}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def _run(self) -> None:
        state: Mapping[str, Any] | None = None
        while not self._stop.is_set():
            began = time.perf_counter()
            try:
                result = self.trigger.poll(state)
            except ConnectorError as exc:
                with self._lock:
                    self.error = str(exc)  # shown on the page; the next round tries again
            else:
                state = result.state
                with self._lock:
                    self.error = None
                    self.rounds += 1
                    self.last_round = round((time.perf_counter() - began) * 1000, 1)
                    self.changes.extend(change.to_dict() for change in result.changes)
                    extra = len(self.changes) - KEPT_CHANGES
                    if extra > 0:
                        del self.changes[:extra]
                        self.first += extra
            self._stop.wait(self.interval)

    def view(self, after: int) -> dict[str, Any]:
        """What the page has not seen: the changes numbered `after` and later."""
        with self._lock:
            start = max(after - self.first, 0)
            return {
                "id": self.id,
                "trigger": self.trigger.name,
                "running": self.running,
                "rounds": self.rounds,
                "last_round_ms": self.last_round,
                "error": self.error,
                "next": self.first + len(self.changes),
                "changes": self.changes[start:],
            }


class Watches:
    def __init__(self, connections: Connections) -> None:
        self.connections = connections
        self._watches: dict[str, Watching] = {}
        self._lock = threading.Lock()

    def start(
        self,
        connector: Connector,
        name: str,
        inputs: Mapping[str, Any],
        auth: str,
        interval: float,
    ) -> Watching:
        """Start a trigger (bad inputs raise InputError here, before anything is sent)."""
        tokens, base_url = self.connections.tokens(connector, auth)
        trigger = connector.trigger(name, dict(inputs), auth=tokens, base_url=base_url)
        watching = Watching(trigger, min(max(interval, MIN_INTERVAL), MAX_INTERVAL))
        with self._lock:
            while len(self._watches) >= MAX_WATCHES:
                oldest = next(iter(self._watches))
                self._watches.pop(oldest).stop()
            self._watches[watching.id] = watching
        watching.start()
        return watching

    def get(self, watch_id: str) -> Watching | None:
        with self._lock:
            return self._watches.get(watch_id)

    def stop(self, watch_id: str) -> None:
        """Stop a watch; what it found stays readable until newer watches push it out."""
        with self._lock:
            watching = self._watches.get(watch_id)
        if watching is not None:
            watching.stop()

    def stop_all(self) -> None:
        with self._lock:
            watches, self._watches = list(self._watches.values()), {}
        for watching in watches:
            watching.stop()
