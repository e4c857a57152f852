"""Real Celery workers (4 processes, Redis as broker) against the local service with network
latency: 2,000 creates on 3 mailboxes. The service records the most requests in flight per
mailbox and what it refused; the shared token expires mid-run; one worker is SIGKILLed."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import httpx2
from celery.result import ResultSet

import mscal
from mscal.auth.store import StoredAuthentication
from mscal.sandbox.service import Sandbox
from mscal.state.redis_store import RedisStore
from mscal.state.stored import stored_connection
from tests.state.celery_workers import CeleryWorkers

DOMAIN = "contoso.onmicrosoft.com"
USERS = [f"{name}@{DOMAIN}" for name in ("adele", "alex", "megan")]
OPERATIONS = 2000


def save_app_authentication(store_url: str, service: str, name: str = "App") -> None:
    """A stored client-credentials authentication, with a token already in the store."""
    store = RedisStore(store_url)
    store.authentications.save(
        StoredAuthentication(
            name,
            {
                "client_id": "celery-tests",
                "tenant_id": DOMAIN,
                "authority_host": service,
                "base_url": f"{service}/v1.0",
                "grant_type": "client_credentials",
            },
            {"client_secret": "any-secret-works-here"},
        )
    )
    connector = mscal.load_connector(store=store)
    tokens, _ = stored_connection(connector.spec, store.authentications, name)
    tokens.token()  # saved back to the store


def create_inputs(user: str, subject: str) -> dict[str, Any]:
    return {
        "user_id": user,
        "event": {
            "subject": subject,
            "start": {"dateTime": "2026-12-10T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-10T10:30:00", "timeZone": "UTC"},
        },
    }


def events_made(sandbox: Sandbox, run: str) -> Counter[str]:
    subjects: Counter[str] = Counter()
    for user in USERS:
        owner = sandbox.tenant.user_owner(user)
        for event in sandbox.store.find("event", owner=owner.key):
            if str(event.get("subject", "")).startswith(run):
                subjects[event["subject"]] += 1
    return subjects


def _lost_by_the_broker(sent: list[Any]) -> list[int]:
    """The tasks still without a result once results stop coming for 20 s (long after the
    killed worker's unacknowledged messages were delivered again, 10 s).

    Celery's Redis transport takes a message off the queue (BRPOP) and only then records it as
    unacknowledged: a worker killed between the two loses that message (kombu's window). A
    producer sends such a task again with the same task id, which is safe here: its
    transactionId comes from the task id, so no second event is made."""
    done, quiet_until = -1, time.monotonic() + 20
    while time.monotonic() < quiet_until:
        now_done = ResultSet(sent).completed_count()
        if now_done == len(sent):
            return []
        if now_done > done:
            done, quiet_until = now_done, time.monotonic() + 20
        time.sleep(2)
    return [number for number, result in enumerate(sent) if not result.ready()]


def test_four_workers_two_thousand_creates_one_budget_one_refresh_each_input_once(
    redis_url: str, service: str, sandbox: Sandbox
) -> None:
    store_url = f"{redis_url}?prefix=c{uuid.uuid4().hex[:8]}:&lease_seconds=5"
    save_app_authentication(store_url, service)
    faults = f"{service}/_sandbox/faults"
    httpx2.delete(faults)
    before = httpx2.get(f"{service}/_sandbox/stats").json()["token_requests"]
    # The shared token dies at the service after 600 requests; every request is 50 ms away.
    httpx2.post(faults, json={"fault": "expire-token latency=0.05 after=600 times=1"})
    httpx2.post(faults, json={"fault": "latency=0.05"})
    run = f"run-{uuid.uuid4().hex[:6]}-"
    inputs = [create_inputs(USERS[i % 3], f"{run}{i}") for i in range(OPERATIONS)]
    with CeleryWorkers(redis_url, store_url, workers=4, threads=6) as workers:
        started = time.monotonic()
        sent = [workers.send("create_event", values, "App") for values in inputs]
        deadline = time.monotonic() + 120
        while httpx2.get(f"{service}/_sandbox/stats").json()["requests"] < OPERATIONS // 3:
            assert time.monotonic() < deadline, "the workers made no progress"
            time.sleep(0.2)
        killed = time.monotonic() - started
        workers.kill(0)  # mid-task: its messages are delivered again to the others
        lost = _lost_by_the_broker(sent)
        for number in lost:  # the producer sends them again, with the same task id
            workers.send("create_event", inputs[number], "App", task_id=sent[number].id)
        results = ResultSet(sent).join(timeout=120, propagate=True)
        elapsed = time.monotonic() - started
    stats = httpx2.get(f"{service}/_sandbox/stats").json()
    made = events_made(sandbox, run)
    assert len(results) == OPERATIONS and all(r["id"] for r in results)
    assert len(made) == OPERATIONS and set(made.values()) == {1}, made.most_common(3)
    assert len(stats["peak_in_flight"]) == 3, stats
    assert max(stats["peak_in_flight"].values()) <= 4, stats
    assert stats["concurrency_refused"] == {}, stats
    refreshed = stats["token_requests"]["client_credentials"] - before["client_credentials"]
    assert refreshed == 1, stats
    assert len(lost) <= 6, lost  # at most what the killed worker had just taken
    print(f"\n{OPERATIONS} creates on 4 workers in {elapsed:.1f} s (kill at {killed:.1f}); {stats}")
