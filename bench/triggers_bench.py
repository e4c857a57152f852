"""Triggers at scale and in time: a 50,000-event mailbox's state file, round times and peak
memory; a notification's way to an emitted change.

    python bench/triggers_bench.py [--events 50000] [--changes 100] [--notifications 50] [--json]

The mailbox is seeded through the local service's domain into a database file in one
transaction, in a child process (seeding is not what is measured); then `mscal sandbox` serves
that file in a process of its own, so "client CPU" (time.process_time of this process) is the
trigger's own cost, apart from the service's. With the file state store (what
`mscal watch --state` uses):

- the first round (the baseline: every event in the 30-day window, in pages of 500): wall time,
  client CPU, this process's peak resident memory after it, the state file's size;
- a round after `--changes` changes (creates, updates, deletes, sent over HTTP), a quiet round
  (which starts from the state the watch kept and writes nothing), and the peak of Python
  memory a quiet round allocates (tracemalloc, in a round of its own);
- a quiet round of a restarted watch, which reads the state file first, and its peak;
- notification to emitted change on a small mailbox in webhook mode: from sending a change to
  its emission, median and 95th percentile over `--notifications` changes one after another.

Nothing is asserted (the tests assert the exactly-once figures and the p50 bound).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2

import mscal
from mscal.auth.signin import sign_in_without_browser
from mscal.sandbox.domain.documents import new_event, save
from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox
from mscal.triggers.state import FileStateStore, MemoryStateStore
from mscal.triggers.trigger import Change
from mscal.triggers.watch import Watch
from mscal.triggers.webhook_mode import WebhookMode

ALEX = "alex@contoso.onmicrosoft.com"
MEGAN = "megan@contoso.onmicrosoft.com"


def _body(number: int, now: dt.datetime, spread_hours: int) -> dict[str, Any]:
    start = now + dt.timedelta(hours=2 + number % spread_hours, minutes=(number * 7) % 60)
    end = start + dt.timedelta(minutes=30)
    return {
        "subject": f"Event {number}",
        "body": {"contentType": "text", "content": f"Agenda for event {number}."},
        "location": {"displayName": f"Room {number % 40}"},
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
    }


def seed(sandbox: Sandbox, upn: str, count: int) -> list[str]:
    """`count` events in `upn`'s calendar over the next 25 days, through the domain."""
    tenant = sandbox.tenant
    owner = tenant.user_owner(upn)
    calendar = tenant.default_calendar(owner)["id"]
    now = dt.datetime.now(dt.UTC)
    ids = []
    with sandbox.store.transaction():
        for number in range(count):
            event = new_event(owner, calendar, _body(number, now, 24 * 25))
            save(sandbox.store, owner, event)
            ids.append(event["id"])
    return ids


def seed_file(db: Path, upn: str, count: int) -> list[str]:
    """A database file with `count` events in `upn`'s calendar, made in a child process: the
    seeding's memory is not counted in this process's peak (the trigger's own)."""
    script = (
        "import json, sys; from pathlib import Path; "
        "from bench.triggers_bench import seed; from mscal.sandbox.service import create_sandbox; "
        "sandbox = create_sandbox(Path(sys.argv[1]), seed=True); "
        "ids = seed(sandbox, sys.argv[2], int(sys.argv[3])); sandbox.store.close(); "
        "print(json.dumps(ids))"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", script, str(db), upn, str(count)],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    ids: list[str] = json.loads(done.stdout)
    return ids


def _timed_round(watch: Watch) -> tuple[float, float, list[Change]]:
    """Wall seconds, client CPU seconds, the changes."""
    started, cpu = time.perf_counter(), time.process_time()
    changes = watch.round()
    return time.perf_counter() - started, time.process_time() - cpu, changes


def _peak_of_a_quiet_round(watch: Watch) -> float:
    """The peak MiB of Python memory a round allocates (tracemalloc slows it: not timed)."""
    tracemalloc.start()
    watch.round()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


@contextlib.contextmanager
def service_process(db: Path) -> Iterator[str]:
    """`mscal sandbox` over `db` in its own process, on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "mscal.cli.main", "sandbox", "--db", str(db)]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx2.get(f"{url}/_sandbox/stats", timeout=1)
                break
            except httpx2.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the local service did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def big_mailbox(
    connector: mscal.Connector, auth: mscal.Authentication, ids: list[str], args: Any
) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="mscal-triggers-bench-"))
    store = FileStateStore(directory / "state.json", single_file=True)
    trigger = connector.trigger("event_changed", {}, auth=auth)
    watch = Watch(trigger, store, lambda changes: None, interval=60)
    rss_before_first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    first, first_cpu, _ = _timed_round(watch)
    rss_after_first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = (directory / "state.json").stat().st_size
    now = dt.datetime.now(dt.UTC)
    with connector.session(auth) as session:
        for number in range(args.changes):
            kind = number % 3
            if kind == 0:
                event = _body(10**6 + number, now, 24 * 20)
                session.run("create_event", {"event": event})
            elif kind == 1:
                update = {"event_id": ids[number], "event": {"subject": f"Moved {number}"}}
                session.run("update_event", update)
            else:
                session.run("delete_event", {"event_id": ids[number]})
    changed, changed_cpu, changes = _timed_round(watch)
    quiet, quiet_cpu, _ = _timed_round(watch)
    quiet_peak = _peak_of_a_quiet_round(watch)
    watch.close()
    # A restarted watch (a new process, or another worker) reads the state file first.
    restarted = Watch(trigger, store, lambda changes: None, interval=60)
    cold, cold_cpu, _ = _timed_round(restarted)
    cold_peak = _peak_of_a_quiet_round(Watch(trigger, store, lambda changes: None, interval=60))
    restarted.close()
    return {
        "events": args.events,
        "first_round_seconds": round(first, 2),
        "first_round_client_cpu_seconds": round(first_cpu, 2),
        "client_max_rss_before_first_round_mib": round(rss_before_first),
        "client_max_rss_after_first_round_mib": round(rss_after_first),
        "state_file_mib": round(size / 2**20, 2),
        "state_bytes_per_event": round(size / args.events),
        "changes": args.changes,
        "changes_emitted": len(changes),
        "round_after_changes_seconds": round(changed, 2),
        "round_after_changes_client_cpu_seconds": round(changed_cpu, 2),
        "quiet_round_seconds": round(quiet, 3),
        "quiet_round_client_cpu_seconds": round(quiet_cpu, 3),
        "quiet_round_peak_mib": round(quiet_peak, 1),
        "restarted_quiet_round_seconds": round(cold, 2),
        "restarted_quiet_round_client_cpu_seconds": round(cold_cpu, 2),
        "restarted_quiet_round_peak_mib": round(cold_peak, 1),
    }


def notification_latency(
    connector: mscal.Connector, auth: mscal.Authentication, count: int
) -> dict[str, Any]:
    emitted_at: dict[str, float] = {}
    arrived = threading.Condition()

    def emit(changes: list[Change]) -> None:
        with arrived:
            for change in changes:
                emitted_at[change.event_id] = time.perf_counter()
            arrived.notify_all()

    trigger = connector.trigger("event_created", {}, auth=auth)
    watch = Watch(trigger, MemoryStateStore(), emit, interval=3600)  # notifications only
    mode = WebhookMode(watch)
    now = dt.datetime.now(dt.UTC)
    latencies = []
    with (
        BackgroundServer(mode.app) as url,  # type: ignore[arg-type]  # any ASGI app
        connector.session(auth) as session,
    ):
        mode.start(f"{url}/notify")
        thread = threading.Thread(target=watch.run, daemon=True)
        thread.start()
        for number in range(count):
            started = time.perf_counter()
            event_id = session.run("create_event", {"event": _body(number, now, 24)})["id"]
            with arrived:
                arrived.wait_for(lambda: event_id in emitted_at, timeout=10)  # noqa: B023
            latencies.append(emitted_at[event_id] - started)
        mode.stop(delete=True)
        thread.join(timeout=10)
        watch.close()
    latencies.sort()
    return {
        "notifications": count,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--notifications", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    connector = mscal.load_connector()
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "bench.db"
        started = time.perf_counter()
        ids = seed_file(db, ALEX, args.events)
        seeded = time.perf_counter() - started
        with service_process(db) as url:
            form = {
                "client_id": "bench",
                "tenant_id": "contoso.onmicrosoft.com",
                "authority_host": url,
                "base_url": f"{url}/v1.0",
            }
            alex = sign_in_without_browser(connector.spec, form, ALEX)
            megan = sign_in_without_browser(connector.spec, form, MEGAN)
            figures = {
                "big_mailbox": {"seed_seconds": round(seeded, 1)}
                | big_mailbox(connector, alex, ids, args),
                "notification_to_change": notification_latency(
                    connector, megan, args.notifications
                ),
            }
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for part, values in figures.items():
            print(part)
            for key, value in values.items():
                print(f"  {key:<32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
