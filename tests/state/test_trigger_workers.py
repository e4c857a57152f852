"""One trigger watched by two workers sharing a Redis store: its rounds never run at once, the
state lives in the store, and every change is emitted once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import httpx2

import mscal
from mscal.auth.signin import sign_in_without_browser
from mscal.sandbox.service import Sandbox
from mscal.state.redis_store import RedisStore
from mscal.triggers.trigger import Change
from mscal.triggers.watch import Watch

ALEX = "alex@contoso.onmicrosoft.com"


def _worker(
    store_url: str, service: str, emit: Callable[[list[Change]], None], **options: Any
) -> Watch:
    connector = mscal.load_connector(store=store_url)
    form = {
        "client_id": "trigger-tests",
        "tenant_id": "contoso.onmicrosoft.com",
        "authority_host": service,
        "base_url": f"{service}/v1.0",
    }
    alex = sign_in_without_browser(connector.spec, form, ALEX)
    trigger = connector.trigger("event_created", {}, auth=alex, key="alex-created")
    return Watch(trigger, RedisStore(store_url).triggers, emit, interval=1, **options)


def _create(sandbox: Sandbox, subject: str) -> None:
    owner = sandbox.tenant.user_owner(ALEX)
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    body = {
        "subject": subject,
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {
            "dateTime": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            "timeZone": "UTC",
        },
    }
    sandbox.tenant.create_event(owner, None, body)


def test_two_workers_never_run_one_triggers_round_at_once(
    store_url: str, service: str, sandbox: Sandbox
) -> None:
    emitted: list[str] = []
    inside, go_on = threading.Event(), threading.Event()

    def slow_emit(changes: list[Change]) -> None:
        inside.set()
        go_on.wait(10)
        emitted.extend(str(c.to_dict()["event"]["subject"]) for c in changes)

    def emit(changes: list[Change]) -> None:
        emitted.extend(str(c.to_dict()["event"]["subject"]) for c in changes)

    first, second = _worker(store_url, service, slow_emit), _worker(store_url, service, emit)
    assert first.round() == []  # the baseline, saved in Redis
    _create(sandbox, "one")
    running = threading.Thread(target=first.round)
    running.start()
    assert inside.wait(10)
    assert second.round() == [] and second.rounds == 0  # skipped: the first holds the lease
    go_on.set()
    running.join()
    _create(sandbox, "two")
    assert [c.to_dict()["event"]["subject"] for c in second.round()] == ["two"]
    assert emitted == ["one", "two"]  # each once, the second worker went on from the state


def test_a_round_whose_lease_ended_emits_and_saves_nothing(
    store_url: str, service: str, sandbox: Sandbox
) -> None:
    emitted: list[Change] = []
    slow = _worker(store_url, service, emitted.extend, lease_seconds=0.2)
    httpx2.post(f"{service}/_sandbox/faults", json={"fault": "latency=0.4"})
    try:
        assert slow.round() == []
    finally:
        httpx2.delete(f"{service}/_sandbox/faults")
    assert RedisStore(store_url).triggers.load("alex-created") is None
    assert emitted == [] and slow.rounds == 0
