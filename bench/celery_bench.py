"""Throughput of real Celery workers sharing one Redis store: 4 workers against 1.

    .venv/bin/python bench/celery_bench.py [--operations N] [--latency S] [--mailboxes M]

Each run starts a redis-server of its own (the Debian package), the local Graph service with
`latency=` on every request (a network round trip), and Celery worker processes (Redis as
broker, one task at a time each) running `mscal.run_operation` with a stored authentication
from the Redis store. The same creates, spread over several mailboxes, go to 1 worker and then
to 4; the figure is the ratio of operations per second. Afterwards each run is checked: every
input made exactly one event, at most 4 requests were in flight per mailbox and none was
refused for MailboxConcurrency.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx2
from celery.result import ResultSet

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.redis_server import RedisServer
from tests.state.celery_workers import CeleryWorkers
from tests.state.test_celery_workers import (
    create_inputs,
    save_app_authentication,
)

from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox, create_sandbox

TARGET = 3.5


def _made(sandbox: Sandbox, users: list[str], run: str) -> Counter[str]:
    made: Counter[str] = Counter()
    for user in users:
        for event in sandbox.store.find("event", owner=sandbox.tenant.user_owner(user).key):
            if str(event.get("subject", "")).startswith(run):
                made[event["subject"]] += 1
    return made


def one_run(
    redis_url: str, service: str, sandbox: Sandbox, users: list[str], workers: int, count: int
) -> float:
    store_url = f"{redis_url}?prefix=b{uuid.uuid4().hex[:8]}:&lease_seconds=10"
    save_app_authentication(store_url, service)
    httpx2.delete(f"{service}/_sandbox/faults")
    httpx2.post(f"{service}/_sandbox/faults", json={"fault": f"latency={LATENCY}"})
    run = f"bench-{uuid.uuid4().hex[:6]}-"
    # One task at a time per worker; the next few wait in the worker (prefetched), so no
    # worker waits on the broker between tasks.
    with CeleryWorkers(redis_url, store_url, workers=workers, threads=1, prefetch=4) as running:
        started = time.perf_counter()
        sent = [
            running.send("create_event", create_inputs(users[i % len(users)], f"{run}{i}"), "App")
            for i in range(count)
        ]
        ResultSet(sent).join(timeout=600)
        elapsed = time.perf_counter() - started
    stats = httpx2.get(f"{service}/_sandbox/stats").json()
    made = _made(sandbox, users, run)
    ok = len(made) == count and set(made.values()) == {1}
    ok = ok and max(stats["peak_in_flight"].values()) <= 4 and not stats["concurrency_refused"]
    rate = count / elapsed
    print(
        f"{workers} worker(s): {count} creates in {elapsed:6.2f} s = {rate:6.1f} ops/s; "
        f"peak in flight {max(stats['peak_in_flight'].values())}, "
        f"refused {sum(stats['concurrency_refused'].values())}, "
        f"each input once: {'yes' if ok else 'NO'}",
        flush=True,
    )
    if not ok:
        raise SystemExit("FAIL: a check after the run failed")
    return rate


def main() -> int:
    global LATENCY  # noqa: PLW0603  (one setting for the whole bench)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--operations", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--mailboxes", type=int, default=6)
    args = parser.parse_args()
    LATENCY = args.latency
    with RedisServer() as redis_url:
        sandbox = create_sandbox(":memory:", seed=True)
        users = [f"bench{n}@contoso.onmicrosoft.com" for n in range(args.mailboxes)]
        for user in users:
            sandbox.tenant.ensure_user(user)
        with BackgroundServer(sandbox.app) as service:
            one = one_run(redis_url, service, sandbox, users, 1, args.operations)
            four = one_run(redis_url, service, sandbox, users, 4, args.operations)
    ratio = four / one
    verdict = "met" if ratio >= TARGET else "MISSED"
    print(
        f"4 workers / 1 worker at +{LATENCY * 1000:.0f} ms over {args.mailboxes} mailboxes: "
        f"{ratio:.2f}x (target >= {TARGET}x: {verdict})"
    )
    return 0


LATENCY = 0.05

if __name__ == "__main__":
    raise SystemExit(main())
