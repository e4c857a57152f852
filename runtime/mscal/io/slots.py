"""Graph's per-mailbox concurrency limit, kept on the client side.

Graph serves at most four concurrent requests per app and mailbox and throttles the rest, so a
request waits for a slot of its mailbox before it is sent. Slots are shared by every session of
a connector in the process: a builder that opens one session per step still stays under the
limit. The sync side uses thread semaphores; the async side one semaphore per event loop.
"""

from __future__ import annotations

import contextlib
import re
import threading
import weakref
from collections.abc import Hashable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import asyncio

Key = Hashable


class Slots(Protocol):
    """What a driver holds while a request is on the wire: this process's slots, or a budget
    shared by every worker (`mscal.state.redis_slots`). `shared` slots take `MailboxKey`s,
    which name the app and the mailbox the same way in every process."""

    per_mailbox: int
    shared: bool

    def mailbox(self, path: str) -> str | None: ...

    def for_thread(self, key: Key) -> contextlib.AbstractContextManager[object]: ...

    def for_task(self, key: Key) -> contextlib.AbstractAsyncContextManager[object]: ...

    def pause(self, key: Key, seconds: float) -> None: ...

    async def apause(self, key: Key, seconds: float) -> None: ...


class MailboxSlots:
    """This process's slots (the file store's, and the default): a throttled answer is retried
    by the call that got it, and the other threads carry on as before."""

    shared = False

    def __init__(self, per_mailbox: int, mailbox_pattern: str) -> None:
        if per_mailbox < 1:
            raise ValueError("per_mailbox must be at least 1")
        self.per_mailbox = per_mailbox
        self._pattern = re.compile(mailbox_pattern)
        self._lock = threading.Lock()
        self._threads: dict[Key, threading.BoundedSemaphore] = {}
        self._loops: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[Key, asyncio.Semaphore]
        ] = weakref.WeakKeyDictionary()

    def pause(self, key: Key, seconds: float) -> None:
        """Nothing to share in one process: the call that was throttled waits on its own."""

    async def apause(self, key: Key, seconds: float) -> None:
        """As `pause`."""

    def mailbox(self, path: str) -> str | None:
        """The mailbox a path (after the base path) addresses, if any."""
        match = self._pattern.match(path)
        return match.group(0) if match else None

    def for_thread(self, key: Key) -> threading.BoundedSemaphore:
        slot = self._threads.get(key)
        if slot is None:
            with self._lock:
                slot = self._threads.setdefault(key, threading.BoundedSemaphore(self.per_mailbox))
        return slot

    def for_task(self, key: Key) -> asyncio.Semaphore:
        # Only async callers need asyncio; a sync CLI call never imports it.
        import asyncio  # noqa: PLC0415

        loop = asyncio.get_running_loop()
        slots = self._loops.get(loop)
        if slots is None:
            with self._lock:
                slots = self._loops.setdefault(loop, {})
        slot = slots.get(key)
        if slot is None:
            slot = slots[key] = asyncio.Semaphore(self.per_mailbox)
        return slot
