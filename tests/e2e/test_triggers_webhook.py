"""Webhook triggers against the local service: 1,000 mixed changes with 20% of notifications
dropped, 10% repeated and bursts reordered, each change emitted exactly once; a notification
becomes an emitted change in well under a second."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections import Counter

import mscal
from mscal.sandbox.notifications.delivery import NotificationFaults
from mscal.sandbox.service import Sandbox
from tests.e2e.trigger_scenario import Expected, Scenario, emitted
from tests.e2e.webhook_harness import webhook_trigger


def test_a_thousand_changes_through_lossy_notifications_are_each_emitted_once(
    connector: mscal.Connector, sandbox: Sandbox, alex: mscal.Authentication
) -> None:
    sandbox.notifier.faults = NotificationFaults(drop=0.2, repeat=0.1, reorder=True, seed=16)
    try:
        with webhook_trigger(connector, alex, safety_seconds=1.0) as running:
            scenario = Scenario(sandbox.tenant, dt.datetime.now(dt.UTC), seed=21)
            expected: Expected = Counter()
            for _ in range(20):
                expected += scenario.batch(50)
                running.wait_for(expected)
            time.sleep(0.3)  # late and repeated notifications still arriving change nothing
            assert sandbox.notifier.wait_idle()
            running.watch.wake()
            time.sleep(0.3)
    finally:
        sandbox.notifier.faults = NotificationFaults()
    stats = sandbox.notifier.stats
    assert stats["dropped"] >= 100 and stats["repeated"] >= 50
    assert sum(scenario.applied.values()) == 1000
    got = emitted(running.out)
    extra = [
        c
        for c in running.out
        if got[(c["event_id"], c["change"])] > expected[(c["event_id"], c["change"])]
    ]
    assert got == expected, f"lost {list(expected - got)}; extra {extra}"  # 0 lost, 0 repeated
    assert len({c["dedupe_key"] for c in running.out}) == len(running.out)
    assert running.mode.receiver.dropped == 0  # every notification carried its clientState


def test_a_notification_becomes_an_emitted_change_within_a_second(
    connector: mscal.Connector, sandbox: Sandbox, alex: mscal.Authentication
) -> None:
    # No safety round in the test's time: only notifications make rounds run.
    with webhook_trigger(connector, alex, safety_seconds=3600) as running:
        scenario = Scenario(sandbox.tenant, dt.datetime.now(dt.UTC), seed=5)
        latencies = []
        for _ in range(30):
            started = time.monotonic()
            expected = scenario.batch(1)
            running.wait_for(emitted(running.out) + expected, timeout=5)
            latencies.append(running.times[-1] - started)
    p50 = statistics.median(latencies)
    assert p50 < 1.0, f"p50 {p50:.3f} s"
