"""A soak of the local Graph service: many concurrent clients, bounded in count and time, on
loopback only.

    .venv/bin/python bench/soak_sandbox.py [--clients 50] [--requests 60] [--seconds 120] [--json]

One run seeds a database file (one mailbox per client, so Graph's limit of 4 concurrent
requests per mailbox is not what is measured), serves it with `mscal sandbox --db` in a child
process on 127.0.0.1, and runs the clients as asyncio tasks in this process, one pooled
httpx2 client each. Each client sends at most `--requests` requests, and the run stops sending
at `--seconds`, whichever comes first. The mix, per client, in a fixed random order: list
events (35 %), create an event (20 %), a week's calendar view (20 %), get an event it created
(10 %), getSchedule over a day (10 %), and hostile requests (5 %: a body nested 10,000 deep, a
lone surrogate, a 5,000-deep $filter, a dependsOn cycle), which must get a 4xx.

Reported: requests, wall time, throughput, latency p50/p99 (time.perf_counter around each
request), errors (a 5xx, a transport failure or a hostile request not answered 4xx), 429s,
and the server's peak resident memory (VmHWM of the child). Exit 1 when there was any error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2

from mscal.sandbox.service import create_sandbox

DOMAIN = "contoso.onmicrosoft.com"
MAX_CLIENTS = 200
MAX_SECONDS = 600
WEEK = {"startDateTime": "2026-12-07T00:00:00Z", "endDateTime": "2026-12-14T00:00:00Z"}
HOSTILE: list[dict[str, Any]] = [
    {
        "method": "POST",
        "url": "events",
        "content": b'{"subject": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    },
    {"method": "POST", "url": "events", "content": b'{"subject": "\\ud800"}'},
    {
        "method": "GET",
        "url": "events",
        "params": {"$filter": "(" * 5000 + "subject eq 'a'" + ")" * 5000},
    },
    {
        "method": "BATCH",
        "json": {"requests": [{"id": "1", "method": "GET", "url": "/me", "dependsOn": ["1"]}]},
    },
]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def _event(rng: random.Random, n: int) -> dict[str, Any]:
    day = 7 + rng.randrange(7)
    hour = 8 + rng.randrange(9)
    return {
        "subject": f"Soak {n}",
        "start": {"dateTime": f"2026-12-{day:02d}T{hour:02d}:00:00", "timeZone": "UTC"},
        "end": {"dateTime": f"2026-12-{day:02d}T{hour:02d}:30:00", "timeZone": "UTC"},
    }


async def client(
    index: int,
    root: str,
    user: str,
    token: str,
    args: argparse.Namespace,
    stop_at: float,
    tally: Tally,
) -> None:
    rng = random.Random(index)
    base = f"{root}/v1.0/users/{quote(user)}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    created: list[str] = []
    async with httpx2.AsyncClient(headers=headers, timeout=30, trust_env=False) as http:
        for n in range(args.requests):
            if time.monotonic() >= stop_at:
                return
            roll = rng.random()
            hostile = roll >= 0.95
            began = time.perf_counter()
            try:
                if hostile:
                    case = HOSTILE[rng.randrange(len(HOSTILE))]
                    if case["method"] == "BATCH":
                        response = await http.post(f"{root}/v1.0/$batch", json=case["json"])
                    else:
                        response = await http.request(
                            case["method"],
                            f"{base}/{case['url']}",
                            content=case.get("content"),
                            params=case.get("params"),
                            headers={"Content-Type": "application/json"},
                        )
                elif roll < 0.35:
                    response = await http.get(f"{base}/events", params={"$top": "10"})
                elif roll < 0.55:
                    response = await http.post(f"{base}/events", json=_event(rng, n))
                    if response.status_code == 201:
                        created.append(response.json()["id"])
                elif roll < 0.75:
                    response = await http.get(f"{base}/calendarView", params=WEEK)
                elif roll < 0.85 and created:
                    event = quote(rng.choice(created), safe="")
                    response = await http.get(f"{base}/events/{event}")
                else:
                    response = await http.post(
                        f"{base}/calendar/getSchedule",
                        json={
                            "schedules": [user],
                            "startTime": {"dateTime": "2026-12-08T00:00:00", "timeZone": "UTC"},
                            "endTime": {"dateTime": "2026-12-09T00:00:00", "timeZone": "UTC"},
                            "availabilityViewInterval": 30,
                        },
                    )
            except httpx2.TransportError as exc:
                tally.errors.append(f"client {index}: {type(exc).__name__}")
                continue
            tally.latencies.append(time.perf_counter() - began)
            status = response.status_code
            tally.statuses[status] += 1
            if status >= 500 or (hostile and not 400 <= status < 500):
                tally.errors.append(
                    f"client {index}: HTTP {status} ({'hostile' if hostile else 'normal'})"
                )
            elif not hostile and status >= 400 and status != 429:
                tally.errors.append(f"client {index}: HTTP {status}: {response.text[:120]}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _peak_memory_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@contextmanager
def local_service(
    clients: int,
) -> Iterator[tuple[str, list[str], list[str], subprocess.Popen[bytes]]]:
    """A seeded database with one mailbox per client, served by `mscal sandbox` on loopback."""
    workdir = Path(tempfile.mkdtemp(prefix="mscal-soak-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        db = workdir / "graph.db"
        sandbox = create_sandbox(db, seed=True)
        users = [f"soak-{i}@{DOMAIN}" for i in range(clients)]
        for user in users:
            sandbox.tenant.directory.ensure_user(user)
        tokens = [sandbox.identity.issue_for(user) for user in users]
        sandbox.store.close()
        port = _free_port()
        root = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "mscal.cli.main", "sandbox", "--quiet"),
                *("--host", "127.0.0.1", "--port", str(port), "--db", str(db)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_ready(root, tokens[0], process)
        yield root, users, tokens, process
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_ready(root: str, token: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            probe = httpx2.get(
                f"{root}/v1.0/me",
                headers={"Authorization": f"Bearer {token}"},
                timeout=2,
                trust_env=False,
            )
            if probe.status_code == 200:
                return
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("mscal sandbox did not start")
        time.sleep(0.05)


def _report(
    args: argparse.Namespace, tally: Tally, wall: float, peak: float | None, alive: bool
) -> dict[str, Any]:
    latencies = sorted(tally.latencies)
    return {
        "clients": args.clients,
        "requests": len(latencies),
        "wall_seconds": round(wall, 2),
        "throughput_per_second": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 1)
        if latencies
        else None,
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "errors": len(tally.errors),
        "throttled_429": tally.statuses.get(429, 0),
        "statuses": dict(sorted(tally.statuses.items())),
        "server_peak_mb": round(peak, 1) if peak else None,
        "server_alive_after": alive,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=60, help="at most, per client")
    parser.add_argument("--seconds", type=float, default=120, help="stop sending after this")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.clients <= MAX_CLIENTS or not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--clients 1..{MAX_CLIENTS}, --seconds up to {MAX_SECONDS}")
    tally = Tally()
    with local_service(args.clients) as (root, users, tokens, process):

        async def run() -> None:
            stop_at = time.monotonic() + args.seconds
            await asyncio.gather(
                *(
                    client(i, root, users[i], tokens[i], args, stop_at, tally)
                    for i in range(args.clients)
                )
            )

        began = time.perf_counter()
        asyncio.run(run())
        wall = time.perf_counter() - began
        peak = _peak_memory_mb(process.pid)
        alive = process.poll() is None
    report = _report(args, tally, wall, peak, alive)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:>22}  {value}")
        for error in tally.errors[:10]:
            print(f"  error: {error}")
    return 1 if tally.errors or not alive else 0


if __name__ == "__main__":
    sys.exit(main())
