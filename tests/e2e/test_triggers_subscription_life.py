"""A webhook trigger's subscription kept alive through 30 days of the local service's clock
(days pass in seconds): renewed before it expires, created again after a forced
subscriptionRemoved, a round after a forced missed, reauthorized after reauthorizationRequired;
and every change of the month emitted exactly once, by notifications alone."""

from __future__ import annotations

import time
from collections import Counter

import httpx2

import mscal
from mscal.sandbox.notifications.delivery import NotificationFaults
from mscal.sandbox.service import Sandbox
from tests.e2e.trigger_scenario import Expected, Scenario
from tests.e2e.webhook_harness import webhook_trigger


def _admin(service: str, path: str, body: dict[str, object]) -> dict[str, object]:
    answer = httpx2.post(f"{service}/_sandbox/{path}", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def _wait(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_a_subscription_lives_through_thirty_days(
    connector: mscal.Connector, sandbox: Sandbox, alex: mscal.Authentication, service: str
) -> None:
    clock = sandbox.tenant.subscriptions.clock
    expected: Expected = Counter()
    # No safety round within the test: what is emitted comes from notifications.
    with webhook_trigger(connector, alex, safety_seconds=3600, clock=clock.now) as running:
        keeper = running.mode.keeper
        # Within the half of the window that always lies ahead (it moves on at half).
        scenario = Scenario(sandbox.tenant, clock.now(), seed=30, horizon_days=10)
        for day in range(1, 31):
            expired = _admin(service, "clock", {"advance_minutes": 24 * 60})["expired"]
            assert expired == [], f"day {day}: the subscription expired"
            if day == 10:
                _admin(service, "subscriptions/lifecycle", {"event": "subscriptionRemoved"})
                _wait(lambda: keeper.creations == 2)
            if day == 20:  # a change whose notification is lost, then Graph says `missed`
                sandbox.notifier.faults = NotificationFaults(drop=1.0)
                lost = scenario.batch(1)
                assert sandbox.notifier.wait_idle()
                sandbox.notifier.faults = NotificationFaults()
                _admin(service, "subscriptions/lifecycle", {"event": "missed"})
                expected += lost
                running.wait_for(expected)
            if day == 25:  # notifications are held until the trigger reauthorizes
                _admin(service, "subscriptions/lifecycle", {"event": "reauthorizationRequired"})
                _wait(lambda: running.mode.lifecycle_seen["reauthorizationRequired"] == 1)
            scenario.now = clock.now()
            expected += scenario.batch(3)
            running.wait_for(expected)
        live = sandbox.tenant.subscriptions.all()
        assert len(live) == 1 and live[0]["id"] == running.watch.load()["subscription"]["id"]
        assert keeper.renewals >= 6  # 30 days of 7-day subscriptions renewed 3 days ahead
        assert keeper.creations == 2
        assert dict(running.mode.lifecycle_seen) == {
            "subscriptionRemoved": 1,
            "missed": 1,
            "reauthorizationRequired": 1,
        }
    assert Counter((c["event_id"], c["change"]) for c in running.out) == expected
