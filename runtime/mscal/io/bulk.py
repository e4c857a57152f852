"""Running one operation over many inputs: JSON batches per mailbox, each batch holding one of
the mailbox's slots, results handed out in input order as soon as each is known.

`Board` is the shared state (what waits per mailbox, what is done); `run_many` drives it with
threads over a sync driver, `arun_many` with tasks over an async one. The packing and the
reading of answers are in `batching.py`.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from time import monotonic, sleep
from typing import Any

from mscal.call.batching import (
    BatchSpec,
    Item,
    Outcome,
    batch_call,
    batchable,
    failed_batch,
    settle,
    slot_key,
)
from mscal.call.flow import operation_flow
from mscal.call.steps import Call
from mscal.errors import ConnectorError
from mscal.io.drivers import AsyncDriver, Driver, adrive, drive

# Batches at once for inputs that address no mailbox (e.g. places).
UNLIMITED_WORKERS = 4
MAX_THREADS = 32


class Board:
    """What a bulk run has left to do, per mailbox, and what it has done. Thread-safe."""

    def __init__(self, max_requests: int, clock: Callable[[], float] | None = None) -> None:
        self.max_requests = max_requests
        self.clock = clock or monotonic
        self.lock = threading.Lock()
        self.waiting: dict[Hashable, list[Item]] = {}
        self.in_flight: dict[Hashable, int] = {}
        # A throttled request's Retry-After holds back its whole mailbox: Graph throttles the
        # app at that mailbox, not one request.
        self.paused_until: dict[Hashable, float] = {}
        self.done: dict[int, Outcome] = {}
        self.stopped = False

    def add(self, item: Item) -> None:
        key = slot_key(item.call)
        self.waiting.setdefault(key, []).append(item)
        self.in_flight.setdefault(key, 0)

    def take(self, key: Hashable) -> list[Item] | float | None:
        """The next batch for a mailbox (ready items, in input order); else how long until one
        is ready; None when the mailbox has nothing left that could come back."""
        with self.lock:
            if self.stopped:
                return None
            waiting = self.waiting[key]
            now = self.clock()
            paused = self.paused_until.get(key, 0.0)
            if waiting and paused > now:
                return paused - now
            picked: list[Item] = []
            for item in waiting:
                if item.not_before > now:
                    continue
                if not batchable(item.call):
                    picked = picked or [item]  # alone: a paged or upload call is not batched
                    break
                picked.append(item)
                if len(picked) == self.max_requests:
                    break
            if picked:
                taken = {id(item) for item in picked}
                # One pass, not a remove() per item: a run of many thousand inputs stays linear.
                waiting[:] = [item for item in waiting if id(item) not in taken]
                self.in_flight[key] += len(picked)
                return picked
            if waiting:
                return max(min(item.not_before for item in waiting) - now, 0.001)
            return 0.01 if self.in_flight[key] else None

    def finish(
        self, key: Hashable, sent: list[Item], done: list[Outcome], again: list[Item]
    ) -> None:
        with self.lock:
            self.in_flight[key] -= len(sent)
            resume = max((item.not_before for item in again), default=0.0)
            if resume > self.paused_until.get(key, 0.0):
                self.paused_until[key] = resume
            for item in again:
                bisect.insort(self.waiting[key], item, key=lambda i: i.index)
            for outcome in done:
                self.done[outcome.index] = outcome

    def workers(self, per_mailbox: int | None) -> list[Hashable]:
        """One entry per worker: a mailbox gets as many as it has slots."""
        keys: list[Hashable] = []
        for key, items in self.waiting.items():
            count = per_mailbox if key is not None and per_mailbox else UNLIMITED_WORKERS
            keys.extend([key] * min(count, max(1, -(-len(items) // self.max_requests))))
        return keys


def _raise_lost(workers: Iterable[Any], index: int) -> None:
    """Every worker stopped with an input still unanswered: a worker failed (its error is
    raised), or a bug left the input out."""
    for worker in workers:
        if worker.exception() is not None:
            raise worker.exception()
    raise RuntimeError(f"bulk run ended without an outcome for input {index}")


def _prepare(
    prepare: Callable[[Mapping[str, Any]], Any], inputs: Iterable[Mapping[str, Any]], board: Board
) -> int:
    count = 0
    for index, values in enumerate(inputs):
        count += 1
        try:
            board.add(Item(index, prepare(values)))
        except ConnectorError as exc:
            board.done[index] = Outcome(index, error=exc)
    return count


def _settle_single(item: Item, run: Callable[[], Any]) -> list[Outcome]:
    try:
        return [Outcome(item.index, result=run())]
    except ConnectorError as exc:
        return [Outcome(item.index, error=exc)]


def run_many(
    driver: Driver,
    prepare: Callable[[Mapping[str, Any]], Call],
    batch: BatchSpec | None,
    inputs: Iterable[Mapping[str, Any]],
) -> Iterator[Outcome]:
    """Outcomes in input order, each handed out as soon as it and those before it are known.

    `prepare` makes one input's call (raising `InputError` for a bad one); `batch` is the
    spec's batch format (None: every input on its own)."""
    board = Board(batch.max_requests if batch else 1)
    total = _prepare(prepare, inputs, board)
    changed = threading.Condition()
    client, auth, slots = driver.client, driver.auth, driver.slots

    def send(key: Hashable, items: list[Item]) -> tuple[list[Outcome], list[Item]]:
        if batch is None or len(items) == 1:
            call = items[0].call
            return _settle_single(
                items[0], lambda: drive(operation_flow(call), client, auth, slots)
            ), []
        try:
            answer = drive(operation_flow(batch_call(items, batch, key)), client, auth, slots)
        except ConnectorError as exc:
            return failed_batch(items, exc), []
        settled = settle(items, answer, board.clock(), batch)
        return settled.done, settled.again

    def worker(key: Hashable) -> None:
        while True:
            picked = board.take(key)
            if picked is None:
                return
            if isinstance(picked, float):
                sleep(picked)
                continue
            done, again = send(key, picked)
            board.finish(key, picked, done, again)
            with changed:
                changed.notify_all()

    keys = board.workers(slots.per_mailbox if slots else None)
    pool = ThreadPoolExecutor(max_workers=max(1, min(MAX_THREADS, len(keys))))
    futures = [pool.submit(worker, key) for key in keys]
    try:
        for index in range(total):
            with changed:
                while index not in board.done:
                    if all(f.done() for f in futures):
                        _raise_lost(futures, index)
                    changed.wait(0.05)
            yield board.done.pop(index)
    finally:
        board.stopped = True
        pool.shutdown(wait=True)


async def arun_many(
    driver: AsyncDriver,
    prepare: Callable[[Mapping[str, Any]], Call],
    batch: BatchSpec | None,
    inputs: Iterable[Mapping[str, Any]],
) -> AsyncIterator[Outcome]:
    """The async `run_many`: the same board, driven by tasks."""
    board = Board(batch.max_requests if batch else 1)
    total = _prepare(prepare, inputs, board)
    changed = asyncio.Event()
    client, auth, slots = driver.client, driver.auth, driver.slots

    async def send(key: Hashable, items: list[Item]) -> tuple[list[Outcome], list[Item]]:
        if batch is None or len(items) == 1:
            item = items[0]
            try:
                result = await adrive(operation_flow(item.call), client, auth, slots)
            except ConnectorError as exc:
                return [Outcome(item.index, error=exc)], []
            return [Outcome(item.index, result=result)], []
        try:
            answer = await adrive(
                operation_flow(batch_call(items, batch, key)), client, auth, slots
            )
        except ConnectorError as exc:
            return failed_batch(items, exc), []
        settled = settle(items, answer, board.clock(), batch)
        return settled.done, settled.again

    async def worker(key: Hashable) -> None:
        while True:
            picked = board.take(key)
            if picked is None:
                return
            if isinstance(picked, float):
                await asyncio.sleep(picked)
                continue
            done, again = await send(key, picked)
            board.finish(key, picked, done, again)
            changed.set()

    tasks = [
        asyncio.ensure_future(worker(key))
        for key in board.workers(slots.per_mailbox if slots else None)
    ]
    try:
        for index in range(total):
            while index not in board.done:
                if all(t.done() for t in tasks):
                    _raise_lost(tasks, index)
                changed.clear()
                await changed.wait()
            yield board.done.pop(index)
    finally:
        board.stopped = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
