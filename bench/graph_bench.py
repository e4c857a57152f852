"""The runtime against plain httpx2 (the floor), over a local Graph stand-in on loopback.

    .venv/bin/python bench/graph_bench.py [--quick] [--json] [--profile]

One run starts `mscal sandbox` in its own process (so the server never shares the measured
client's GIL), seeds it, and measures each case with the floor and the runtime in alternating
rounds, so machine noise lands on both. Wall times are medians (time.perf_counter); "client
CPU" is this process's CPU time only (time.process_time, the server is elsewhere), which shows
the runtime's own cost even where the server's time dominates the wall clock.

Benchmark 6 is the exception: 1,000 creates with 50 ms of added latency take a sequential
loop about a minute, so the loop runs once and run_many (a few seconds) runs three times,
each into an empty mailbox; both are checked afterwards (the calendar must hold exactly the
inputs' events, none twice), and a failed check is a FAIL whatever the times. --quick runs it
on 100 inputs.

Benchmarks 1 and 2 repeat one call, so they measure the runtime with what it remembers by
input values (rendered paths, inputs already found valid, safe paths) in use; 1v and 2v call
get_event with an event id it has not seen each time (on fresh connectors), so they measure
the cost when every call misses. They have no target.

--profile adds where the runtime's time goes (cProfile by module and function; a cold start
by phase and by import). Nothing here is asserted: the table says which targets of the
performance issue are met.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import importlib.metadata
import io
import json
import os
import platform
import pstats
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2

import mscal
from mscal.call.guard import check_path
from mscal.io.session import Session
from mscal.sandbox.service import create_sandbox

DOMAIN = "contoso.onmicrosoft.com"
ADELE = f"adele@{DOMAIN}"
PAGING_EVENTS = 1000
PAGE_SIZE = 100
CONCURRENT_OPS = 200
# One mailbox per request in flight: Graph, the sandbox and the runtime allow 4 per mailbox.
MAILBOXES = 8
# Benchmark 6: the round trip added to every request that comes over the network.
MANY_LATENCY = 0.05


@dataclass(frozen=True)
class Settings:
    """How much to measure; --quick trades precision for a run under ~40 s."""

    seq_rounds: int
    seq_block: int
    conc_rounds: int
    paging_rounds: int
    memory_runs: int
    create_rounds: int
    create_block: int
    cold_runs: int
    warmup: int
    many_inputs: int  # benchmark 6: create_event inputs a side
    many_runs: int  # benchmark 6: run_many runs (the sequential loop runs once)

    @classmethod
    def pick(cls, quick: bool) -> Settings:
        if quick:
            return cls(4, 25, 3, 3, 1, 3, 20, 3, 10, 100, 2)
        return cls(15, 40, 11, 13, 3, 12, 30, 9, 30, 1000, 3)


@dataclass
class Result:
    """One line of the table: baseline and ours in `unit`, ratio = ours / baseline."""

    key: str
    name: str
    unit: str
    baseline_label: str
    baseline: float | None = None
    ours: float | None = None
    target: float | None = None  # the highest acceptable ratio; None: reported, not judged
    baseline_cpu: float | None = None  # client-process CPU per unit (same unit)
    ours_cpu: float | None = None
    samples: int = 0
    note: str = ""
    pending: bool = False
    # A correctness check that failed (e.g. events missing or duplicated): FAIL whatever the
    # times say.
    failure: str = ""
    details: dict[str, Any] = field(default_factory=dict)  # JSON only
    # Wall-time quartiles (q1, median, q3) of each side, for judging the noise (JSON only).
    baseline_quartiles: list[float] | None = None
    ours_quartiles: list[float] | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.ours is None or self.baseline == 0:
            return None
        return self.ours / self.baseline

    @property
    def cpu_ratio(self) -> float | None:
        if self.baseline_cpu is None or self.ours_cpu is None or self.baseline_cpu == 0:
            return None
        return self.ours_cpu / self.baseline_cpu

    @property
    def verdict(self) -> str:
        if self.pending:
            return "pending"
        if self.failure:
            return "FAIL"
        ratio = self.ratio
        if ratio is None or self.target is None:
            return "info"
        return "pass" if ratio <= self.target else "FAIL"

    def as_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "ratio": self.ratio,
            "cpu_ratio": self.cpu_ratio,
            "verdict": self.verdict,
        }


@dataclass
class Timings:
    """Seconds per unit: wall time per call; client CPU per block (one clock read a block)."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def median_wall(self, scale: float) -> float:
        return statistics.median(self.wall) * scale

    def median_cpu(self, scale: float) -> float:
        return statistics.median(self.cpu) * scale

    def quartiles(self, scale: float) -> list[float]:
        if len(self.wall) < 2:
            return [w * scale for w in self.wall * 3]
        return [q * scale for q in statistics.quantiles(self.wall, n=4)]


# -- the local Graph service, in its own process --------------------------------------------


@dataclass
class Service:
    base: str  # http://127.0.0.1:PORT/v1.0
    root: str  # http://127.0.0.1:PORT
    token: str
    paging_calendar: str  # a calendar of Adele's holding PAGING_EVENTS events
    mailboxes: list[str]  # user ids for the concurrency case
    create_boxes: list[tuple[str, str]]  # (user id, default calendar id), fresh, one per round
    many_boxes: list[tuple[str, str]]  # the same for benchmark 6: warm-up, loop, run_many runs
    seed_seconds: float
    workdir: Path  # removed when the service stops
    process: subprocess.Popen[bytes]


@contextmanager
def local_graph(settings: Settings) -> Iterator[Service]:
    """Seed a database file through the service's own store (no HTTP: 1,000 events in well
    under a second), then serve it with `mscal sandbox --db` in a child process."""
    workdir = Path(tempfile.mkdtemp(prefix="mscal-bench-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        db = workdir / "graph.db"
        began = time.perf_counter()
        sandbox = create_sandbox(db, seed=True)
        calendars = sandbox.calendars
        adele = calendars.user_owner(ADELE)
        paging = calendars.create_calendar(adele, {"name": "Bench paging"})
        rng = random.Random(20260)
        for i in range(PAGING_EVENTS):
            calendars.create_event(adele, paging["id"], realistic_event(rng, i))
        mailboxes = [calendars.ensure_user(f"bench-conc-{i}@{DOMAIN}") for i in range(MAILBOXES)]

        # A fresh mailbox per creation round and side, so every round starts from the same
        # empty calendar (the service's transactionId lookup is indexed, so a shared mailbox
        # would cost little more, but equal starting points cost nothing).
        def fresh(prefix: str, count: int) -> list[tuple[str, str]]:
            boxes = []
            for i in range(count):
                user_id = calendars.ensure_user(f"{prefix}-{i}@{DOMAIN}")
                owner = calendars.user_owner(user_id)
                boxes.append((user_id, str(calendars.default_calendar(owner)["id"])))
            return boxes

        create_boxes = fresh("bench-create", 2 * settings.create_rounds + 1)
        many_boxes = fresh("bench-many", 2 + settings.many_runs)
        token = sandbox.identity.issue_for(ADELE)
        sandbox.store.close()
        seed_seconds = time.perf_counter() - began

        port = _free_port()
        with (workdir / "server.log").open("wb") as log:  # the child keeps its own handle
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "mscal.cli.main", "sandbox"),
                    *("--port", str(port), "--db", str(db)),
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        root = f"http://127.0.0.1:{port}"
        _wait_ready(f"{root}/v1.0/me", token, process, workdir / "server.log")
        yield Service(
            base=f"{root}/v1.0",
            root=root,
            token=token,
            paging_calendar=str(paging["id"]),
            mailboxes=mailboxes,
            create_boxes=create_boxes,
            many_boxes=many_boxes,
            seed_seconds=seed_seconds,
            workdir=workdir,
            process=process,
        )
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(url: str, token: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mscal sandbox exited:\n{log.read_text(errors='replace')}")
        try:
            if httpx2.get(url, headers=_headers(token), timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("mscal sandbox did not answer within 30 s")


def _headers(token: str) -> dict[str, str]:
    # What the connector sends too (Accept is in its defaults), so both ask for the same.
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


_SUBJECTS = [
    "Quarterly business review",
    "1:1 with manager",
    "Design review: calendar sync",
    "Customer call — Fabrikam",
    "Sprint planning",
    "Hiring loop debrief",
    "Budget sign-off",
    "Incident retrospective",
]
_ZONES = ["Pacific Standard Time", "W. Europe Standard Time", "UTC", "Europe/London"]
_PEOPLE = ["dana", "erik", "farah", "gustav", "hana", "ivan", "jules", "kemal", "lena"]


def realistic_event(rng: random.Random, i: int) -> dict[str, Any]:
    """A meeting shaped like a real one (about 2.6 KB as Graph answers it): HTML body, 2-6
    attendees (none with a mailbox here, so no invitation copies), a located room, a time zone."""
    day = 1 + i % 28
    hour = 8 + rng.randrange(9)
    zone = rng.choice(_ZONES)
    people = rng.sample(_PEOPLE, rng.randint(2, 6))
    paragraphs = "".join(
        f"<p>Item {n + 1}: {rng.choice(_SUBJECTS).lower()}, owners and next steps.</p>"
        for n in range(rng.randint(2, 6))
    )
    return {
        "subject": f"{rng.choice(_SUBJECTS)} #{i}",
        "body": {"contentType": "html", "content": f"<html><body>{paragraphs}</body></html>"},
        "start": {"dateTime": f"2026-03-{day:02d}T{hour:02d}:00:00", "timeZone": zone},
        "end": {"dateTime": f"2026-03-{day:02d}T{hour:02d}:45:00", "timeZone": zone},
        "location": {
            "displayName": f"Conf Room {rng.randint(1, 40)}",
            "locationType": "conferenceRoom",
            "address": {
                "street": "1 Microsoft Way",
                "city": "Redmond",
                "state": "WA",
                "postalCode": "98052",
                "countryOrRegion": "USA",
            },
        },
        "attendees": [
            {
                "emailAddress": {"address": f"{p}@fabrikam.com", "name": p.title()},
                "type": "required" if n < 3 else "optional",
            }
            for n, p in enumerate(people)
        ],
        "categories": rng.sample(["Blue category", "Red category", "Customer", "Internal"], 2),
        "importance": rng.choice(["low", "normal", "high"]),
        "showAs": "busy",
        "isReminderOn": True,
        "reminderMinutesBeforeStart": 15,
        "isOnlineMeeting": bool(i % 2),
        "onlineMeetingProvider": "teamsForBusiness",
        "allowNewTimeProposals": True,
    }


# -- measuring ---------------------------------------------------------------------------


def interleave(
    sides: Mapping[str, Callable[[], object]], rounds: int, block: int
) -> dict[str, Timings]:
    """Blocks of `block` calls per side, the order swapped each round, every call timed.

    Each block starts from a full collection: otherwise a side pays for collections the
    other side's garbage made due (paging 1,000 events showed the floor 40% dearer in CPU
    for that reason alone)."""
    names = list(sides)
    out = {name: Timings() for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            work, timings = sides[name], out[name]
            gc.collect()
            cpu = time.process_time()
            for _ in range(block):
                began = time.perf_counter()
                work()
                timings.wall.append(time.perf_counter() - began)
            timings.cpu.append((time.process_time() - cpu) / block)
    return out


def _segment(value: str) -> str:
    # Graph ids are base64 and may hold "/", "+" and "=": one path segment, percent-encoded.
    return quote(value, safe="")


def _ok_json(response: httpx2.Response) -> Any:
    response.raise_for_status()
    return response.json()


def _judge(
    result: Result, timings: dict[str, Timings], scale: float, per_unit: float = 1.0
) -> Result:
    """Baseline and ours from medians; `per_unit` divides each sample (events per call)."""
    base, ours = timings["baseline"], timings["ours"]
    result.baseline = base.median_wall(scale) / per_unit
    result.ours = ours.median_wall(scale) / per_unit
    result.baseline_cpu = base.median_cpu(scale) / per_unit
    result.ours_cpu = ours.median_cpu(scale) / per_unit
    result.samples = len(base.wall)
    result.baseline_quartiles = base.quartiles(scale / per_unit)
    result.ours_quartiles = ours.quartiles(scale / per_unit)
    return result


# 1. sequential ----------------------------------------------------------------------------


def bench_sequential(service: Service, settings: Settings, connector: mscal.Connector) -> Result:
    auth = connector.authentication({"base_url": service.base}, access_token=service.token)
    url = f"{service.base}/me/calendars"
    with (
        httpx2.Client(headers=_headers(service.token), timeout=30) as client,
        connector.session(auth) as session,
    ):
        sides: dict[str, Callable[[], object]] = {
            "baseline": lambda: _ok_json(client.get(url)),
            "ours": lambda: session.run("list_calendars"),
        }
        interleave(sides, 1, settings.warmup)  # connections open, templates compiled
        timings = interleave(sides, settings.seq_rounds, settings.seq_block)
    return _judge(
        Result(
            "1",
            "sequential GET /me/calendars, sync",
            "ms/req",
            "httpx2.Client",
            target=1.25,
            note=f"{settings.seq_rounds} rounds x {settings.seq_block} requests a side; "
            "median of single requests",
        ),
        timings,
        1000,
    )


# 1v, 2v: a different input every call ----------------------------------------------------
#
# The runtime remembers work keyed by input values: a path template's output by the values it
# reads, inputs of plain values already found valid (both per operation, on the Connector),
# and the egress guard's safe paths (one cache for the process). Benchmarks 1 and 2 repeat
# one call, so they measure those hits; 1v and 2v give every call an event id the runtime has
# not seen, so they measure the misses.


def seeded_event_ids(service: Service) -> list[str]:
    """The ids of the PAGING_EVENTS seeded events, read with plain httpx2 and checked:
    distinct, and get_event answers each with that event (on a connector of its own, so the
    benchmarks' connectors have seen none of them)."""
    ids: list[str] = []
    first = f"{service.base}/me/calendars/{_segment(service.paging_calendar)}/events"
    with httpx2.Client(headers=_headers(service.token), timeout=60) as client:
        page = _ok_json(client.get(first, params={"$top": str(PAGE_SIZE), "$select": "id"}))
        while True:
            ids.extend(str(event["id"]) for event in page["value"])
            link = page.get("@odata.nextLink")
            if not link:
                break
            page = _ok_json(client.get(link))
    if len(ids) != PAGING_EVENTS or len(set(ids)) != len(ids):
        raise RuntimeError(
            f"seeded events: {len(ids)} ids, {len(set(ids))} distinct, {PAGING_EVENTS} expected"
        )
    connector = mscal.load_connector()
    auth = connector.authentication({"base_url": service.base}, access_token=service.token)
    with connector.session(auth) as session:
        for event_id in ids:
            try:
                got = session.run("get_event", {"event_id": event_id}).get("id")
            except mscal.ConnectorError as exc:
                raise RuntimeError(f"get_event {event_id!r}: {type(exc).__name__}: {exc}") from exc
            if got != event_id:
                raise RuntimeError(f"get_event {event_id!r} answered the event {got!r}")
    return ids


Epoch = tuple[list[str], list[list[str]]]


def _epochs(ids: list[str], warm: int, block: int, rounds: int) -> list[Epoch]:
    """(warm-up ids, one block of ids per round) for each fresh connector.

    No id comes twice within an epoch. The memo of valid inputs and the guard's cache each
    hold up to 1,024 entries (more than the 1,000 ids), so cycling through the ids on one
    connector would turn later rounds into hits: when the ids run out, the next round starts
    an epoch on a fresh connector (and the guard's cache is emptied)."""
    per_epoch = (len(ids) - warm) // block
    if per_epoch < 1:
        raise ValueError(f"{len(ids)} ids cannot hold {warm} warm-up calls and a block of {block}")
    epochs: list[Epoch] = []
    while rounds > 0:
        count = min(rounds, per_epoch)
        epochs.append(
            (ids[:warm], [ids[warm + k * block : warm + (k + 1) * block] for k in range(count)])
        )
        rounds -= count
    return epochs


def _forget_safe_paths() -> None:
    """Empty the egress guard's cache of safe paths (it is global, so a fresh connector does
    not start it afresh)."""
    clear = getattr(check_path, "cache_clear", None)
    if clear is not None:
        clear()


def _safe_path_hits() -> int | None:
    info = getattr(check_path, "cache_info", None)
    return None if info is None else int(info().hits)


Span = tuple[int | None, int | None]  # the guard's hit count before and after a block


def _hits_note(spans: list[Span]) -> str:
    """The guard's cache hits in the runtime's timed blocks: 0 when every call missed."""
    total = 0
    for before, after in spans:
        if before is None or after is None:
            return "the guard keeps no cache of safe paths"
        total += after - before
    return f"{total} hits in the guard's cache of safe paths"


def _epochs_note(epochs: list[Epoch]) -> str:
    rounds = "+".join(str(len(blocks)) for _, blocks in epochs)
    return (
        f"{len(epochs)} fresh connector{'s' if len(epochs) > 1 else ''} ({rounds} rounds), "
        "none given an id twice, the guard's cache emptied for each"
    )


def bench_sequential_varied(service: Service, settings: Settings, ids: list[str]) -> Result:
    """get_event one after another, every call another event id: the runtime's misses."""
    epochs = _epochs(ids, settings.warmup, settings.seq_block, settings.seq_rounds)
    out = {"baseline": Timings(), "ours": Timings()}
    spans: list[Span] = []
    r = 0
    with httpx2.Client(headers=_headers(service.token), timeout=30) as client:
        for warm, blocks in epochs:
            connector = mscal.load_connector()  # nothing remembered yet
            auth = connector.authentication({"base_url": service.base}, access_token=service.token)
            with connector.session(auth) as session:
                sides: dict[str, Callable[[str], object]] = {
                    "baseline": lambda i: _ok_json(
                        client.get(f"{service.base}/me/events/{_segment(i)}")
                    ),
                    "ours": lambda i: session.run("get_event", {"event_id": i}),
                }
                _forget_safe_paths()
                for work in sides.values():  # connections open, templates compiled
                    for event_id in warm:
                        work(event_id)
                for block in blocks:
                    for name in list(sides) if r % 2 == 0 else list(sides)[::-1]:
                        work, timings = sides[name], out[name]
                        before = _safe_path_hits()
                        gc.collect()
                        cpu = time.process_time()
                        for event_id in block:
                            began = time.perf_counter()
                            work(event_id)
                            timings.wall.append(time.perf_counter() - began)
                        timings.cpu.append((time.process_time() - cpu) / len(block))
                        if name == "ours":
                            spans.append((before, _safe_path_hits()))
                    r += 1
    return _judge(
        Result(
            "1v",
            "sequential get_event, a new id each call, sync",
            "ms/req",
            "httpx2.Client",
            target=None,
            note=f"{settings.seq_rounds} rounds x {settings.seq_block} requests a side, each "
            f"round on {settings.seq_block} event ids of its own (the same for both sides); "
            f"{_epochs_note(epochs)}; in ours' blocks {_hits_note(spans)}; median of single "
            "requests; no target",
        ),
        out,
        1000,
    )


# 2. concurrency ---------------------------------------------------------------------------


async def _gather_limited(
    count: int, limit: int, one: Callable[[int], Awaitable[object]], mailbox: Callable[[int], str]
) -> int:
    """Run one(0..count-1), `limit` at a time; the most in flight to one mailbox at once.

    Counted here, at the client: the sandbox answers one request at a time (its handlers do
    not yield), so its own peak says nothing about what Graph would see."""
    gate = asyncio.Semaphore(limit)
    now: dict[str, int] = {}
    peak = 0

    async def guarded(i: int) -> None:
        nonlocal peak
        async with gate:
            box = mailbox(i)
            now[box] = now.get(box, 0) + 1
            peak = max(peak, now[box])
            try:
                await one(i)
            finally:
                now[box] -= 1

    await asyncio.gather(*(guarded(i) for i in range(count)))
    return peak


def bench_concurrency(
    service: Service,
    settings: Settings,
    connector: mscal.Connector,
    *,
    in_flight: int,
    many_mailboxes: bool,
) -> Result:
    auth = connector.authentication({"base_url": service.base}, access_token=service.token)
    # Several mailboxes keep every mailbox under Graph's 4 in flight, so a runtime that limits
    # itself per mailbox (as Graph requires) is compared on equal terms.
    boxes = service.mailboxes if many_mailboxes else ["me"]

    def mailbox(i: int) -> str:
        return boxes[i % len(boxes)]

    def url(i: int) -> str:
        box = mailbox(i)
        owner = "me" if box == "me" else f"users/{box}"
        return f"{service.base}/{owner}/calendars"

    def inputs(i: int) -> dict[str, Any]:
        box = mailbox(i)
        return {} if box == "me" else {"user_id": box}

    peaks = {"baseline": 0, "ours": 0}

    async def measure() -> dict[str, Timings]:
        async with (
            httpx2.AsyncClient(headers=_headers(service.token), timeout=30) as client,
            connector.async_session(auth) as session,
        ):

            async def baseline(i: int) -> None:
                _ok_json(await client.get(url(i)))

            async def ours(i: int) -> None:
                await session.run("list_calendars", inputs(i))

            sides = {"baseline": baseline, "ours": ours}
            out = {name: Timings() for name in sides}
            for one in sides.values():  # warm-up: connections open in both pools
                await _gather_limited(in_flight * 4, in_flight, one, mailbox)
            for r in range(settings.conc_rounds):
                for name in list(sides) if r % 2 == 0 else list(sides)[::-1]:
                    gc.collect()  # each block from a clean slate, as in interleave()
                    cpu = time.process_time()
                    began = time.perf_counter()
                    peak = await _gather_limited(CONCURRENT_OPS, in_flight, sides[name], mailbox)
                    out[name].wall.append((time.perf_counter() - began) / CONCURRENT_OPS)
                    out[name].cpu.append((time.process_time() - cpu) / CONCURRENT_OPS)
                    peaks[name] = max(peaks[name], peak)
            return out

    _reset_stats(service)
    timings = asyncio.run(measure())
    stats = httpx2.get(f"{service.root}/_sandbox/stats", timeout=10).json()
    # Warm-up and measured operations of both sides: anything beyond is a retry.
    expected = 2 * (settings.conc_rounds * CONCURRENT_OPS + in_flight * 4)
    extra = stats["requests"] - expected
    where = f"{len(boxes)} mailboxes (/users/{{id}}/calendars)" if many_mailboxes else "/me"
    note = (
        f"{settings.conc_rounds} rounds of {CONCURRENT_OPS} ops a side, Semaphore({in_flight}) "
        f"+ gather, {where}; most in flight to one mailbox: baseline {peaks['baseline']}, "
        f"ours {peaks['ours']}"
        + (f"; {extra} extra requests (retries after 429?)" if extra else "; no retries")
    )
    return _judge(
        Result(
            "2" if many_mailboxes else "2b",
            f"{CONCURRENT_OPS} list_calendars, {in_flight} in flight, async"
            + ("" if many_mailboxes else ", 1 mailbox"),
            "ms/op",
            "httpx2.AsyncClient",
            target=1.2,
            note=note,
        ),
        timings,
        1000,
    )


def _each(
    ids: list[str], one: Callable[[str], Awaitable[None]]
) -> Callable[[int], Awaitable[None]]:
    """one() for the i-th id, as _gather_limited calls it."""
    return lambda i: one(ids[i])


def bench_concurrency_varied(service: Service, settings: Settings, ids: list[str]) -> Result:
    """CONCURRENT_OPS get_event on an AsyncSession, every one another event id, all to /me.

    One mailbox, so 4 in flight on both sides: the runtime keeps at most 4 in flight per
    mailbox (Graph's limit) and would only queue the other 4 of 8."""
    in_flight = 4
    epochs = _epochs(ids, in_flight * 4, CONCURRENT_OPS, settings.conc_rounds)
    peaks = {"baseline": 0, "ours": 0}
    spans: list[Span] = []

    def mailbox(_i: int) -> str:
        return "me"

    async def measure() -> dict[str, Timings]:
        out = {"baseline": Timings(), "ours": Timings()}
        r = 0
        for warm, blocks in epochs:
            connector = mscal.load_connector()  # nothing remembered yet
            auth = connector.authentication({"base_url": service.base}, access_token=service.token)
            async with (
                httpx2.AsyncClient(headers=_headers(service.token), timeout=30) as client,
                connector.async_session(auth) as session,
            ):

                async def baseline(event_id: str) -> None:
                    _ok_json(await client.get(f"{service.base}/me/events/{_segment(event_id)}"))

                async def ours(event_id: str) -> None:
                    await session.run("get_event", {"event_id": event_id})

                sides = {"baseline": baseline, "ours": ours}
                _forget_safe_paths()
                for one in sides.values():  # connections open, templates compiled
                    await _gather_limited(len(warm), in_flight, _each(warm, one), mailbox)
                for block in blocks:
                    for name in list(sides) if r % 2 == 0 else list(sides)[::-1]:
                        work = _each(block, sides[name])
                        before = _safe_path_hits()
                        gc.collect()  # each block from a clean slate, as in interleave()
                        cpu = time.process_time()
                        began = time.perf_counter()
                        peak = await _gather_limited(len(block), in_flight, work, mailbox)
                        out[name].wall.append((time.perf_counter() - began) / len(block))
                        out[name].cpu.append((time.process_time() - cpu) / len(block))
                        peaks[name] = max(peaks[name], peak)
                        if name == "ours":
                            spans.append((before, _safe_path_hits()))
                    r += 1
        return out

    _reset_stats(service)
    timings = asyncio.run(measure())
    stats = httpx2.get(f"{service.root}/_sandbox/stats", timeout=10).json()
    expected = 2 * sum(len(warm) + CONCURRENT_OPS * len(blocks) for warm, blocks in epochs)
    extra = stats["requests"] - expected
    note = (
        f"{settings.conc_rounds} rounds of {CONCURRENT_OPS} ops a side, each op another event "
        f"id (the same ids for both sides in a round), Semaphore({in_flight}) + gather, all to "
        "/me: 4 in flight on both sides, as the runtime keeps at most 4 per mailbox (Graph's "
        f"limit); {_epochs_note(epochs)}; in ours' blocks {_hits_note(spans)}; most in flight "
        f"to one mailbox: baseline {peaks['baseline']}, ours {peaks['ours']}"
        + (f"; {extra} extra requests (retries after 429?)" if extra else "; no retries")
        + "; no target"
    )
    return _judge(
        Result(
            "2v",
            f"{CONCURRENT_OPS} get_event, new id each, {in_flight} in flight, async, /me",
            "ms/op",
            "httpx2.AsyncClient",
            target=None,
            note=note,
        ),
        timings,
        1000,
    )


def _reset_stats(service: Service) -> None:
    # Clearing the fault rules also clears the request count and the peaks in flight.
    httpx2.delete(f"{service.root}/_sandbox/faults", timeout=10).raise_for_status()


# 3. paging ---------------------------------------------------------------------------------


def bench_paging(
    service: Service, settings: Settings, connector: mscal.Connector
) -> tuple[Result, Result]:
    auth = connector.authentication({"base_url": service.base}, access_token=service.token)
    calendar = service.paging_calendar
    first = f"{service.base}/me/calendars/{_segment(calendar)}/events"
    with (
        httpx2.Client(headers=_headers(service.token), timeout=60) as client,
        connector.session(auth) as session,
    ):

        def baseline() -> list[Any]:
            # What a careful hand-written client does: follow @odata.nextLink verbatim,
            # keep every item.
            items: list[Any] = []
            page = _ok_json(client.get(first, params={"$top": str(PAGE_SIZE)}))
            while True:
                items.extend(page["value"])
                link = page.get("@odata.nextLink")
                if not link:
                    return items
                page = _ok_json(client.get(link))

        def ours() -> list[Any]:
            result = session.run(
                "list_events", {"calendar_id": calendar, "top": PAGE_SIZE, "all_pages": True}
            )
            items: list[Any] = result["value"]
            return items

        for side in (baseline, ours):
            got = len(side())
            if got != PAGING_EVENTS:
                raise RuntimeError(f"paging: {side.__name__} got {got} events")
        sides: dict[str, Callable[[], object]] = {"baseline": baseline, "ours": ours}
        timings = interleave(sides, settings.paging_rounds, 1)
        peaks = {
            name: [_peak_bytes(work) for _ in range(settings.memory_runs)]
            for name, work in sides.items()
        }
    speed = _judge(
        Result(
            "3",
            f"paging {PAGING_EVENTS} events, {PAGING_EVENTS // PAGE_SIZE} pages, sync",
            "us/event",
            "httpx2.Client",
            target=1.3,
            note=f"{settings.paging_rounds} rounds; the service renders only the page, but "
            f"still reads and parses all {PAGING_EVENTS} stored events for each page, which is "
            "most of the wall time",
        ),
        timings,
        1_000_000,
        per_unit=PAGING_EVENTS,
    )
    mib = 1024 * 1024
    memory = Result(
        "3m",
        "paging: tracemalloc peak during the call",
        "MiB",
        "httpx2.Client",
        baseline=statistics.median(peaks["baseline"]) / mib,
        ours=statistics.median(peaks["ours"]) / mib,
        target=1.2,
        samples=settings.memory_runs,
        note="peak above what was allocated before the call; both keep all 1,000 events",
    )
    return speed, memory


def _peak_bytes(work: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        kept = work()  # held until the peak is read: the result is part of the cost
        peak = tracemalloc.get_traced_memory()[1]
        del kept
        return peak - before
    finally:
        tracemalloc.stop()


# 4. creation --------------------------------------------------------------------------------


def bench_create(service: Service, settings: Settings, connector: mscal.Connector) -> Result:
    auth = connector.authentication({"base_url": service.base}, access_token=service.token)
    rng = random.Random(7)
    events = [realistic_event(rng, i) for i in range(settings.create_block)]
    boxes = iter(service.create_boxes)
    with (
        httpx2.Client(headers=_headers(service.token), timeout=30) as client,
        connector.session(auth) as session,
    ):

        def baseline(user: str, calendar: str, event: dict[str, Any]) -> None:
            # The same body the connector sends, transactionId included (the service treats a
            # create with one differently).
            body = {**event, "transactionId": str(uuid.uuid4())}
            response = client.post(
                f"{service.base}/users/{_segment(user)}/calendars/{_segment(calendar)}/events",
                json=body,
            )
            if response.status_code != 201:
                raise RuntimeError(f"create: HTTP {response.status_code}: {response.text[:200]}")
            response.json()

        def ours(user: str, calendar: str, event: dict[str, Any]) -> None:
            session.run("create_event", {"user_id": user, "calendar_id": calendar, "event": event})

        makers = {"baseline": baseline, "ours": ours}
        warm_user, warm_calendar = next(boxes)
        for _ in range(max(2, settings.warmup // 5)):
            for make in makers.values():
                make(warm_user, warm_calendar, events[0])
        out = {name: Timings() for name in makers}
        for r in range(settings.create_rounds):
            for name in list(makers) if r % 2 == 0 else list(makers)[::-1]:
                user, calendar = next(boxes)
                make, timings = makers[name], out[name]
                gc.collect()  # each block from a clean slate, as in interleave()
                cpu = time.process_time()
                for event in events:
                    began = time.perf_counter()
                    make(user, calendar, event)
                    timings.wall.append(time.perf_counter() - began)
                timings.cpu.append((time.process_time() - cpu) / len(events))
    return _judge(
        Result(
            "4",
            "create_event (POST .../calendars/{id}/events), sync",
            "ms/req",
            "httpx2.Client",
            target=None,
            note=f"{settings.create_rounds} rounds x {settings.create_block} creates a side, "
            "each round in an empty mailbox; no target in the issue",
        ),
        out,
        1000,
    )


# 5. cold start -------------------------------------------------------------------------------

_HTTPX2_SCRIPT = """
import json, sys
import httpx2
base, token = sys.argv[1:3]
response = httpx2.get(base + "/me/calendars",
                      headers={"Authorization": "Bearer " + token, "Accept": "application/json"})
response.raise_for_status()
print(json.dumps(response.json(), indent=2))
"""

# As tests/e2e/test_graph_sdk.py points Microsoft's SDK at the local service: base URL and a
# fixed token, nothing else changed.
_SDK_SCRIPT = """
import asyncio, json, sys
from kiota_abstractions.authentication import (
    AccessTokenProvider, AllowedHostsValidator, BaseBearerTokenAuthenticationProvider)
from msgraph import GraphRequestAdapter, GraphServiceClient
base, token = sys.argv[1:3]

class FixedToken(AccessTokenProvider):
    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return token
    def get_allowed_hosts_validator(self):
        return AllowedHostsValidator([])

adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(FixedToken()))
adapter.base_url = base
client = GraphServiceClient(request_adapter=adapter)
calendars = asyncio.run(client.me.calendars.get())
print(json.dumps([{"id": c.id, "name": c.name} for c in calendars.value], indent=2))
"""


def bench_cold_start(service: Service, settings: Settings) -> tuple[Result, Result]:
    script = Path(sys.executable).with_name("mscal")
    mscal_cli = [str(script)] if script.exists() else [sys.executable, "-m", "mscal.cli.main"]
    commands = {
        "mscal": [
            *mscal_cli,
            "run",
            "list_calendars",
            "--base-url",
            service.base,
            "--token",
            service.token,
        ],
        "httpx2": [sys.executable, "-c", _HTTPX2_SCRIPT, service.base, service.token],
        "sdk": [sys.executable, "-c", _SDK_SCRIPT, service.base, service.token],
    }
    env = child_env(service)
    for command in commands.values():  # warm the OS file cache; write the .pyc, spec caches
        _child(command, env)
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for r in range(settings.cold_runs):
        for name in names[r % 3 :] + names[: r % 3]:  # rotate who goes first
            seconds, child_cpu = _child(commands[name], env)
            wall[name].append(seconds)
            cpu[name].append(child_cpu)

    def result(key: str, baseline: str, label: str, target: float | None, note: str) -> Result:
        return Result(
            key,
            f"cold start (process): mscal run vs {label}",
            "ms",
            label,
            baseline=statistics.median(wall[baseline]) * 1000,
            ours=statistics.median(wall["mscal"]) * 1000,
            target=target,
            baseline_cpu=statistics.median(cpu[baseline]) * 1000,
            ours_cpu=statistics.median(cpu["mscal"]) * 1000,
            samples=settings.cold_runs,
            note=note,
        )

    runs = (
        f"{settings.cold_runs} runs each, rotated, .pyc cached for all; CPU is the child's user+sys"
    )
    return (
        result("5a", "sdk", "msgraph-sdk", 0.25, runs),
        result("5b", "httpx2", "python -c httpx2", None, f"{runs}; no target in the issue"),
    )


def child_env(service: Service) -> dict[str, str]:
    """The environment of timed child processes: bytecode caches on, as after a pip install.

    A checkout's runtime has no .pyc files when PYTHONDONTWRITEBYTECODE is set (as here), so
    every `mscal run` would compile the runtime from source while the SDK's installed .pyc
    files were read. A cache prefix of our own keeps all three equal and the tree untouched.
    The runtime's parsed-spec cache (in the user's cache directory) goes to the work directory
    too: the warm-up run fills it, as any earlier call would, and the user's is left alone."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(service.workdir / "pycache")
    env["XDG_CACHE_HOME"] = str(service.workdir / "cache")
    return env


def _child(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=False, env=env)
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {done.stderr.decode(errors='replace')[-800:]}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# 6. run_many ---------------------------------------------------------------------------------


class _Tee(httpx2.SyncByteStream):
    """A response body passed through unchanged, and kept for the counting afterwards."""

    def __init__(self, inner: httpx2.SyncByteStream, sink: list[bytes]) -> None:
        self._inner = inner
        self._sink = sink

    def __iter__(self) -> Iterator[bytes]:
        parts = []
        for part in self._inner:
            parts.append(part)
            yield part
        self._sink.append(b"".join(parts))

    def close(self) -> None:
        self._inner.close()


class CountingTransport(httpx2.HTTPTransport):
    """The network as the runtime sees it: HTTP round trips by status, the most in flight at
    once, and the bodies of JSON batch answers (read after the timing, for the statuses of
    the requests inside: 429s, 424s). Thread-safe: run_many sends from several threads."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.round_trips = 0
            self.statuses: Counter[int] = Counter()
            self.in_flight = 0
            self.peak_in_flight = 0
            self.batch_bodies: list[bytes] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        with self._lock:
            self.round_trips += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            response = super().handle_request(request)
        finally:
            with self._lock:
                self.in_flight -= 1
        with self._lock:
            self.statuses[response.status_code] += 1
        if request.url.path.endswith("/$batch") and isinstance(
            response.stream, httpx2.SyncByteStream
        ):
            response.stream = _Tee(response.stream, self.batch_bodies)
        return response

    def inner_statuses(self) -> Counter[int]:
        """The statuses of the requests inside the batch answers seen since reset()."""
        inner: Counter[int] = Counter()
        for body in self.batch_bodies:
            try:
                answers = json.loads(body)["responses"]
            except (ValueError, KeyError, TypeError):
                inner[0] += 1  # an answer that was not a readable JSON batch
                continue
            inner.update(int(a.get("status", 0)) for a in answers)
        return inner


@dataclass
class ManySide:
    """One timed side of benchmark 6, and what it left in its calendar."""

    name: str
    wall: float
    cpu: float
    ok: int
    errors: list[str]
    in_order: bool
    round_trips: int
    peak_in_flight: int
    statuses: dict[int, int]
    inner_statuses: dict[int, int]
    sandbox_requests: int
    events_found: int
    distinct_subjects: int
    subjects_match: bool

    def check(self, n: int) -> str:
        """What is wrong with this side, or "" when all n events are there exactly once."""
        problems = []
        if self.ok != n:
            problems.append(f"{n - self.ok} of {n} inputs failed ({'; '.join(self.errors[:3])})")
        if not self.in_order:
            problems.append("outcomes out of input order")
        if self.events_found != n or self.distinct_subjects != n:
            problems.append(
                f"{self.events_found} events with {self.distinct_subjects} distinct subjects "
                f"in the calendar, {n} expected"
            )
        elif not self.subjects_match:
            problems.append("the calendar's subjects are not the inputs' subjects")
        return f"{self.name}: " + ", ".join(problems) if problems else ""


def bench_run_many(service: Service, settings: Settings, connector: mscal.Connector) -> Result:
    """N create_event inputs, every network request MANY_LATENCY late: one sequential loop of
    session.run against session.run_many (JSON batches of up to 20, up to 4 in flight to the
    mailbox), each side into a fresh empty mailbox; then every calendar is listed to check
    that exactly N events were created, none twice. run_many is cheap, so it runs several
    times (median); the loop (N x 50 ms at least) runs once."""
    n = settings.many_inputs
    auth = connector.authentication({"base_url": service.base}, access_token=service.token)
    rng = random.Random(66)
    events = [realistic_event(rng, i) for i in range(n)]  # subjects end in " #i": distinct
    boxes = iter(service.many_boxes)
    transport = CountingTransport()
    with connector.session(auth, transport=transport) as session:
        # Before the latency, in a mailbox of its own: templates compiled, the bulk module
        # imported, connections open.
        warm = _many_inputs(next(boxes), events[:5])
        session.run("create_event", warm[0])
        list(session.run_many("create_event", warm[1:]))
        # run_many on both sides of the loop, so a drift in the machine shows in its spread.
        order = ["run_many", "loop"] + ["run_many"] * (settings.many_runs - 1)
        sides = [
            _many_side(service, session, transport, name, next(boxes), events) for name in order
        ]
    _reset_stats(service)

    loop_side = next(s for s in sides if s.name == "loop")
    many_sides = [s for s in sides if s.name == "run_many"]
    timings = {
        "baseline": Timings([loop_side.wall], [loop_side.cpu]),
        "ours": Timings([s.wall for s in many_sides], [s.cpu for s in many_sides]),
    }
    result = _judge(
        Result(
            "6",
            f"{n:,} create_event, +{MANY_LATENCY * 1000:.0f} ms latency: run_many vs loop",
            "ms/input",
            "sequential loop of session.run",
            target=0.1,  # at least 10x faster
        ),
        timings,
        1000,
        per_unit=n,
    )
    result.samples = len(many_sides)
    result.failure = "; ".join(problem for side in sides if (problem := side.check(n)))
    result.note = _many_note(n, loop_side, many_sides, sides, result.failure)
    result.details = {
        "inputs": n,
        "latency_seconds": MANY_LATENCY,
        "speedup": loop_side.wall / statistics.median(s.wall for s in many_sides),
        "sides": [asdict(s) for s in sides],
    }
    return result


def _many_inputs(box: tuple[str, str], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    user, calendar = box
    return [{"user_id": user, "calendar_id": calendar, "event": e} for e in events]


def _create_loop(session: Session, inputs: list[dict[str, Any]]) -> list[tuple[int, Any, str]]:
    """(index, result, error) per input: the loop a caller writes without run_many."""
    out: list[tuple[int, Any, str]] = []
    for index, values in enumerate(inputs):
        try:
            out.append((index, session.run("create_event", values), ""))
        except mscal.ConnectorError as exc:
            out.append((index, None, f"{type(exc).__name__}: {exc}"))
    return out


def _create_many(session: Session, inputs: list[dict[str, Any]]) -> list[tuple[int, Any, str]]:
    return [
        (o.index, o.result, "" if o.ok else f"{type(o.error).__name__}: {o.error}")
        for o in session.run_many("create_event", inputs)
    ]


def _many_side(
    service: Service,
    session: Session,
    transport: CountingTransport,
    name: str,
    box: tuple[str, str],
    events: list[dict[str, Any]],
) -> ManySide:
    """One timed side, with the latency on; then, with it off, what is in its calendar."""
    user, calendar = box
    subjects = [str(e["subject"]) for e in events]
    inputs = _many_inputs(box, events)
    _reset_stats(service)
    httpx2.post(
        f"{service.root}/_sandbox/faults",
        json={"fault": f"latency={MANY_LATENCY}"},
        timeout=10,
    ).raise_for_status()
    transport.reset()
    gc.collect()
    cpu = time.process_time()
    began = time.perf_counter()
    outcomes = (_create_many if name == "run_many" else _create_loop)(session, inputs)
    wall = time.perf_counter() - began
    cpu = time.process_time() - cpu
    sandbox = httpx2.get(f"{service.root}/_sandbox/stats", timeout=10).json()
    _reset_stats(service)  # the latency off for the check
    counted = (transport.round_trips, transport.peak_in_flight, dict(transport.statuses))
    inner = dict(transport.inner_statuses())
    found = session.run(
        "list_events",
        {
            "user_id": user,
            "calendar_id": calendar,
            "top": PAGE_SIZE,
            "all_pages": True,
            "select": ["subject"],
        },
    )["value"]
    seen = [str(e.get("subject")) for e in found]
    return ManySide(
        name=name,
        wall=wall,
        cpu=cpu,
        ok=sum(1 for _, _, error in outcomes if not error),
        errors=[error for _, _, error in outcomes if error],
        in_order=[i for i, _, _ in outcomes] == list(range(len(inputs)))
        and all(
            result is None or result.get("subject") == subjects[i] for i, result, _ in outcomes
        ),
        round_trips=counted[0],
        peak_in_flight=counted[1],
        statuses=counted[2],
        inner_statuses=inner,
        sandbox_requests=int(sandbox["requests"]),
        events_found=len(seen),
        distinct_subjects=len(set(seen)),
        subjects_match=sorted(seen) == sorted(subjects),
    )


def _many_note(
    n: int, loop: ManySide, many: list[ManySide], sides: list[ManySide], failure: str
) -> str:
    def throttled(side: ManySide) -> int:
        return side.statuses.get(429, 0) + side.inner_statuses.get(429, 0)

    median = statistics.median(s.wall for s in many)
    first = many[0]
    inner = sum(first.inner_statuses.values())
    return (
        (f"--quick: {n} inputs a side, not 1,000; " if n != 1000 else f"{n:,} inputs a side; ")
        + f"latency={MANY_LATENCY} on every network request (not on those inside a batch), "
        f"each side in a fresh mailbox. Loop once: {loop.wall:.1f} s; run_many {median:.2f} s "
        f"(median of {len(many)}: "
        + ", ".join(f"{s.wall:.2f}" for s in many)
        + f"): {loop.wall / median:.1f}x faster (target >= 10x). HTTP round trips (client): "
        f"loop {loop.round_trips}, run_many {first.round_trips} ($batch POSTs, at most "
        f"{first.peak_in_flight} in flight). The sandbox's 'requests' counter also counts the "
        f"requests inside a batch: loop {loop.sandbox_requests}, run_many "
        f"{first.sandbox_requests} (= {first.round_trips} round trips + {inner} inner). "
        f"429s: loop {throttled(loop)}, run_many "
        + "/".join(str(throttled(s)) for s in many)
        + "; 424s (re-queued): "
        + "/".join(str(s.inner_statuses.get(424, 0)) for s in many)
        + ". Events in the calendar afterwards (found/distinct subjects): "
        + ", ".join(f"{s.name} {s.events_found}/{s.distinct_subjects}" for s in sides)
        + (f". CHECK FAILED: {failure}" if failure else "; all as expected")
    )


# -- profile -----------------------------------------------------------------------------------


def profile_runtime(service: Service, connector: mscal.Connector, calls: int) -> str:
    """Where the runtime's time goes: cProfile of sequential list_calendars and create_event,
    and of list_calendars 8 in flight (own time by module, then the top functions); a cold
    `mscal run` by phase and by import."""
    auth = connector.authentication({"base_url": service.base}, access_token=service.token)
    user, calendar = service.create_boxes[0]
    event = realistic_event(random.Random(3), 0)
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "list_calendars": ("list_calendars", {}),
        "create_event": (
            "create_event",
            {"user_id": user, "calendar_id": calendar, "event": event},
        ),
    }
    stream = io.StringIO()
    with connector.session(auth) as session:
        for title, (operation, inputs) in cases.items():
            count = calls if operation == "list_calendars" else calls // 4
            for _ in range(10):
                session.run(operation, inputs)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(count):
                session.run(operation, inputs)
            profiler.disable()
            stream.write(f"=== cProfile: {count} x session.run({title!r}) ===\n")
            _profile_report(profiler, count, stream)

    async def concurrent() -> cProfile.Profile:
        boxes = service.mailboxes
        async with connector.async_session(auth) as session:

            async def one(i: int) -> None:
                await session.run("list_calendars", {"user_id": boxes[i % len(boxes)]})

            await _gather_limited(40, 8, one, lambda i: boxes[i % len(boxes)])
            profiler = cProfile.Profile()
            profiler.enable()
            await _gather_limited(calls, 8, one, lambda i: boxes[i % len(boxes)])
            profiler.disable()
            return profiler

    stream.write(f"=== cProfile: {calls} x await session.run('list_calendars'), 8 in flight ===\n")
    _profile_report(asyncio.run(concurrent()), calls, stream)
    stream.write("=== a cold `mscal run list_calendars`, by phase (median of 5 processes) ===\n")
    stream.write(_cold_phases(service))
    stream.write("=== its imports (python -X importtime), largest cumulative first ===\n")
    stream.write(_import_times(service))
    return stream.getvalue()


def _profile_report(profiler: cProfile.Profile, calls: int, stream: io.StringIO) -> None:
    stats = pstats.Stats(profiler, stream=stream)
    by_area: dict[str, float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, func), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        area = _area(filename, func)
        by_area[area] = by_area.get(area, 0.0) + tottime
    total = sum(by_area.values())
    io_wait = by_area.get(_SOCKET_IO, 0.0)
    stream.write(
        f"own time by module: {total / calls * 1e6:.0f} us/call under the profiler, "
        f"{(total - io_wait) / calls * 1e6:.0f} us/call without socket I/O\n"
    )
    for area, seconds in sorted(by_area.items(), key=lambda kv: -kv[1])[:20]:
        stream.write(f"  {seconds / total:6.1%}  {seconds / calls * 1e6:7.1f} us/call  {area}\n")
    stats.sort_stats("tottime").print_stats(22)
    stats.sort_stats("cumulative").print_stats(r"mscal", 25)


_SOCKET_IO = "socket I/O (mostly waiting for the server)"


def _area(filename: str, func: str) -> str:
    path = filename.replace("\\", "/")
    if "/mscal/" in path:
        return "mscal/" + path.split("/mscal/", 1)[1]
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0]
    if path.startswith("<") or path == "~":
        if "_socket.socket" in func or "select" in func or "poll" in func:
            return _SOCKET_IO
        return "builtins (C)"
    return "stdlib/" + Path(path).name


# Phases of a cold `mscal run`, as the CLI does them (cli._run): import, load the spec,
# describe and compile the operation, build the authentication, run, print.
_PHASES_SCRIPT = """
import json, sys, time
began = time.perf_counter()
marks = []
def mark(label):
    marks.append((label, time.perf_counter()))
import mscal.cli.main
from mscal.connector import load_connector
mark("import mscal.cli.main, mscal.connector")
connector = load_connector()
mark("load_connector() (read the spec)")
connector.describe("list_calendars")
connector.compiled("list_calendars")
mark("describe + compile list_calendars")
auth = connector.authentication({"base_url": sys.argv[1]}, access_token=sys.argv[2])
mark("authentication()")
result = connector.run("list_calendars", {}, auth=auth)
mark("run (client, connection, request)")
json.dumps(result, indent=2)
mark("json.dumps")
previous = began
for label, at in marks:
    print(f"{label}\t{(at - previous) * 1000:.2f}")
    previous = at
"""


def _cold_phases(service: Service) -> str:
    env = child_env(service)
    bare = [_child([sys.executable, "-c", "pass"], env)[0] for _ in range(5)]
    phases: dict[str, list[float]] = {}
    for _ in range(5):
        done = subprocess.run(
            [sys.executable, "-c", _PHASES_SCRIPT, service.base, service.token],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        for line in done.stdout.splitlines():
            label, ms = line.split("\t")
            phases.setdefault(label, []).append(float(ms))
    lines = [
        f"  {statistics.median(bare) * 1000:7.1f} ms  interpreter start and exit (python -c pass)"
    ]
    lines += [f"  {statistics.median(v):7.1f} ms  {label}" for label, v in phases.items()]
    return "\n".join(lines) + "\n"


def _import_times(service: Service) -> str:
    done = subprocess.run(
        [
            *(sys.executable, "-X", "importtime", "-m", "mscal.cli.main", "run", "list_calendars"),
            *("--base-url", service.base, "--token", service.token),
        ],
        capture_output=True,
        text=True,
        env=child_env(service),
        check=False,
    )
    rows: list[tuple[int, int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, name = line.removeprefix("import time:").split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        rows.append((int(cumulative), depth, name.strip()))
    total = sum(c for c, d, _ in rows if d == 0)
    top = sorted((r for r in rows if r[1] <= 4), reverse=True)[:30]
    lines = [f"  {total / 1000:7.1f} ms in all imports; the largest (nested ones indented):"]
    lines += [f"  {c / 1000:7.1f} ms  {'  ' * d}{n}" for c, d, n in top]
    return "\n".join(lines) + "\n"


# -- report -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu_model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for dist in [
        "microsoft-calendar-connector",
        "httpx2",
        "msgraph-sdk",
        "uvicorn",
        "starlette",
        "jinja2",
        "jsonschema",
    ]:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    runtime = Path(mscal.__file__).resolve().parent
    return {
        "cpu": cpu_model,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "versions": versions,
        # Which runtime was measured (PYTHONPATH can point at another checkout), and its
        # checkout's commit; the bench's own, when it runs from another checkout.
        "mscal_from": str(runtime),
        "commit": _describe(runtime),
        "bench_commit": _describe(Path(__file__).resolve().parent),
    }


def _describe(directory: Path) -> str | None:
    """The commit of the checkout holding `directory`, "-dirty" if it has changes."""
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            cwd=directory,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def print_table(info: dict[str, Any], results: list[Result], seconds: float, seed: float) -> None:
    v = info["versions"]
    print(f"machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable)")
    print(f"os: {info['platform']}")
    print(f"python {info['python']} ({info['implementation']}), httpx2 {v['httpx2']}")
    bench = (
        f"; this bench from {Path(__file__).resolve()} (checkout {info['bench_commit']})"
        if info["bench_commit"] != info["commit"]
        or not info["mscal_from"].startswith(str(Path(__file__).resolve().parents[1]))
        else ""
    )
    print(
        f"mscal {v['microsoft-calendar-connector']} from {info['mscal_from']} "
        f"(checkout {info['commit']}){bench}"
    )
    print(
        f"msgraph-sdk {v['msgraph-sdk']}; sandbox on uvicorn {v['uvicorn']}, "
        f"starlette {v['starlette']}"
    )
    print(
        f"seeding ({PAGING_EVENTS} events, direct store): {seed:.2f} s; whole run {seconds:.0f} s"
    )
    start, end = info["load_at_start"], info["load_at_end"]
    print(f"load average (1 min): {start:.2f} before the run, {end:.2f} after (ours included)")
    if start > 0.5:
        # The client and the server each want a core; anything else running shows up as noise.
        print("warning: the machine was busy before the run; expect noisier figures")
    print()
    head = (
        f"{'#':<3} {'benchmark':<52} {'unit':<8} {'baseline':>9} {'ours':>9} {'ratio':>7} "
        f"{'target':>7}  {'result':<7} {'client CPU base/ours (ratio)':<30}"
    )
    print(head)
    print("-" * len(head))
    for r in results:

        def num(x: float | None) -> str:
            return "-" if x is None else f"{x:9.3f}" if x < 100 else f"{x:9.1f}"

        ratio = "-" if r.ratio is None else f"{r.ratio:6.2f}x"
        target = "-" if r.target is None else f"<={r.target:.2f}x"
        cpu = (
            f"{num(r.baseline_cpu).strip()}/{num(r.ours_cpu).strip()} ({r.cpu_ratio:.2f}x)"
            if r.cpu_ratio is not None
            else "-"
        )
        print(
            f"{r.key:<3} {r.name:<52} {r.unit:<8} {num(r.baseline):>9} {num(r.ours):>9} "
            f"{ratio:>7} {target:>7}  {r.verdict:<7} {cpu}"
        )
    print()
    print("baselines and notes:")
    for r in results:
        print(f"  {r.key:<3} baseline {r.baseline_label}; {r.note}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds (under ~40 s)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the runtime (sequential, create, 8 in flight) and a cold start",
    )
    args = parser.parse_args()
    settings = Settings.pick(args.quick)
    began = time.perf_counter()
    info = machine()
    info["load_at_start"] = os.getloadavg()[0]
    connector = mscal.load_connector()
    results: list[Result] = []
    profile = ""

    def step(label: str) -> None:
        print(f"[{time.perf_counter() - began:5.1f} s] {label}", file=sys.stderr, flush=True)

    step("seeding and starting mscal sandbox")
    with local_graph(settings) as service:
        step("1 sequential")
        results.append(bench_sequential(service, settings, connector))
        step(f"checking the {PAGING_EVENTS} seeded events' ids (distinct, get_event finds each)")
        event_ids = seeded_event_ids(service)
        step("1v sequential, a new event id each call")
        results.append(bench_sequential_varied(service, settings, event_ids))
        step("2 concurrency (8 mailboxes)")
        results.append(
            bench_concurrency(service, settings, connector, in_flight=8, many_mailboxes=True)
        )
        step("2b concurrency (1 mailbox, 4 in flight)")
        results.append(
            bench_concurrency(service, settings, connector, in_flight=4, many_mailboxes=False)
        )
        step("2v concurrency, a new event id each op (1 mailbox, 4 in flight)")
        results.append(bench_concurrency_varied(service, settings, event_ids))
        step("3 paging")
        results.extend(bench_paging(service, settings, connector))
        step("4 creation")
        results.append(bench_create(service, settings, connector))
        step("5 cold start")
        results.extend(bench_cold_start(service, settings))
        step(f"6 run_many ({settings.many_inputs} creates a side, +50 ms each round trip)")
        results.append(bench_run_many(service, settings, connector))
        if args.profile:
            step("profile")
            profile = profile_runtime(service, connector, 400 if args.quick else 1000)
        seed = service.seed_seconds
    seconds = time.perf_counter() - began
    info["load_at_end"] = os.getloadavg()[0]
    step("done")
    if args.json:
        json.dump(
            {
                "machine": info,
                "quick": args.quick,
                "seconds": seconds,
                "seed_seconds": seed,
                "settings": asdict(settings),
                "results": [r.as_json() for r in results],
                **({"profile": profile} if profile else {}),
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return
    print_table(info, results, seconds, seed)
    if profile:
        print()
        print(profile)


if __name__ == "__main__":
    main()
