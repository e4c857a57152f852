"""A webhook trigger against the local service: its endpoint served on a loopback socket, its
watch running on a thread, what it emits collected with the time it was emitted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import mscal
from mscal.sandbox.server import BackgroundServer
from mscal.triggers.state import MemoryStateStore
from mscal.triggers.trigger import Change, Clock, utc_now
from mscal.triggers.watch import Watch
from mscal.triggers.webhook_mode import WebhookMode
from tests.e2e.trigger_scenario import Expected, emitted


@dataclass
class Running:
    watch: Watch
    mode: WebhookMode
    url: str
    out: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def emit(self, changes: list[Change]) -> None:
        now = time.monotonic()
        self.out.extend(c.to_dict() for c in changes)
        self.times.extend(now for _ in changes)

    def wait_for(self, expected: Expected, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if emitted(self.out) >= expected:
                return
            time.sleep(0.01)
        missing = expected - emitted(self.out)
        raise AssertionError(f"not emitted in {timeout} s: {list(missing)[:5]}")


@contextmanager
def webhook_trigger(
    connector: mscal.Connector,
    auth: mscal.Authentication,
    *,
    safety_seconds: float,
    clock: Clock = utc_now,
    name: str = "event_changed",
) -> Iterator[Running]:
    trigger = connector.trigger(name, {}, auth=auth, clock=clock)
    running: Running

    def emit(changes: list[Change]) -> None:
        running.emit(changes)

    watch = Watch(trigger, MemoryStateStore(), emit, interval=safety_seconds)
    watch.round()  # the baseline
    mode = WebhookMode(watch)
    with BackgroundServer(mode.app) as base:  # type: ignore[arg-type]  # any ASGI app
        url = f"{base}/notify"
        running = Running(watch, mode, url)
        mode.start(url)
        thread = threading.Thread(target=watch.run, daemon=True)
        thread.start()
        try:
            yield running
        finally:
            mode.stop(delete=True)  # so the service notifies no endpoint that is gone
            thread.join(timeout=10)
