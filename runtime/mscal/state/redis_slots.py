"""A mailbox budget shared by every worker, kept in Redis.

Per app and mailbox (a `MailboxKey`'s name) three keys, in one Redis Cluster hash slot:

- `…{name}:busy`, a sorted set of the requests in flight, each scored by when its lease ends: a
  request is let through only while fewer than `per_mailbox` leases are live, so a worker that
  dies holding a slot gives it back when the lease ends;
- `…{name}:window`, a sorted set of when each request of the last `window_seconds` started:
  at most `window_requests` of them (Graph's 10,000 per 10 minutes);
- `…{name}:pause`, set for as long as a `Retry-After` said: no worker sends to the mailbox
  until it is gone.

Taking a slot is one Lua script (atomic, on Redis's clock, so workers' clocks do not matter).
A release pushes a token on `…{name}:free`, where waiters block (BLPOP) instead of polling;
a waiter also wakes every `poll_seconds` to notice a lease that ended without a release.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from mscal.io.mailbox_key import MailboxKey
from mscal.io.slots import Key
from mscal.state.redis_connection import RedisConnection

# KEYS: busy, window, pause. ARGV: holder, per_mailbox, lease ms, window requests, window ms.
# Answers {1, 0} (taken), {0, ms} (paused or window full: wait ms), {0, -1} (all slots busy).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', KEYS[3])
if paused > 0 then return {0, paused} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {0, -1} end
local allowed = tonumber(ARGV[4])
local span = tonumber(ARGV[5])
if allowed > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - span)
  if redis.call('ZCARD', KEYS[2]) >= allowed then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {0, math.max(tonumber(oldest[2]) + span - now, 1)}
  end
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[2], span)
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, 0}
"""

# KEYS: busy, free. ARGV: holder, per_mailbox, lease ms.
_GIVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('LPUSH', KEYS[2], '1')
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""

# KEYS: pause. ARGV: ms. A pause is only ever lengthened.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


class RedisSlots:
    """The `Slots` of a Redis store: the same budget in every process that uses the store."""

    shared = True

    def __init__(
        self,
        connection: RedisConnection,
        per_mailbox: int,
        mailbox_pattern: str,
        *,
        lease_seconds: float,
        window_requests: int,
        window_seconds: float,
        poll_seconds: float = 0.5,
    ) -> None:
        if per_mailbox < 1:
            raise ValueError("per_mailbox must be at least 1")
        self.per_mailbox = per_mailbox
        self._pattern = re.compile(mailbox_pattern)
        self._connection = connection
        self._lease_ms = max(int(lease_seconds * 1000), 1)
        self._window = (window_requests, max(int(window_seconds * 1000), 1))
        self._poll = poll_seconds

    def __repr__(self) -> str:
        return f"RedisSlots(per_mailbox={self.per_mailbox}, store={self._connection!r})"

    def mailbox(self, path: str) -> str | None:
        match = self._pattern.match(path)
        return match.group(0) if match else None

    def _keys(self, name: str) -> tuple[str, str, str, str]:
        # One hash tag, so the four keys live on one Redis Cluster node and one script reaches
        # them all.
        base = f"{self._connection.prefix}mailbox:{{{name}}}"
        return f"{base}:busy", f"{base}:window", f"{base}:pause", f"{base}:free"

    def _take_args(self, holder: str) -> list[Any]:
        return [holder, self.per_mailbox, self._lease_ms, *self._window]

    @staticmethod
    def _name(key: Key) -> str:
        if not isinstance(key, MailboxKey):
            raise TypeError(f"shared slots take a MailboxKey, not {type(key).__name__}")
        return key.name()

    @contextlib.contextmanager
    def for_thread(self, key: Key) -> Iterator[object]:
        busy, window, pause, free = self._keys(self._name(key))
        holder = uuid.uuid4().hex
        client = self._connection.client()
        with self._connection.errors("take a mailbox slot"):
            take, give = client.register_script(_TAKE), client.register_script(_GIVE)
            while True:
                taken, wait_ms = take(keys=[busy, window, pause], args=self._take_args(holder))
                if taken:
                    break
                if wait_ms == -1:
                    client.blpop([free], timeout=self._poll)
                else:
                    time.sleep(min(wait_ms / 1000, 60.0))
        try:
            yield holder
        finally:
            with self._connection.errors("give back a mailbox slot"):
                give(keys=[busy, free], args=[holder, self.per_mailbox, self._lease_ms])

    @contextlib.asynccontextmanager
    async def for_task(self, key: Key) -> AsyncIterator[object]:
        if not isinstance(key, MailboxKey):
            raise TypeError(f"shared slots take a MailboxKey, not {type(key).__name__}")
        busy, window, pause, free = self._keys(await key.aname())
        holder = uuid.uuid4().hex
        client = self._connection.aclient()
        # Only async callers need asyncio; a sync CLI call never imports it.
        import asyncio  # noqa: PLC0415

        with self._connection.errors("take a mailbox slot"):
            take, give = client.register_script(_TAKE), client.register_script(_GIVE)
            while True:
                taken, wait_ms = await take(
                    keys=[busy, window, pause], args=self._take_args(holder)
                )
                if taken:
                    break
                if wait_ms == -1:
                    await client.blpop([free], timeout=self._poll)
                else:
                    await asyncio.sleep(min(wait_ms / 1000, 60.0))
        try:
            yield holder
        finally:
            with self._connection.errors("give back a mailbox slot"):
                await give(keys=[busy, free], args=[holder, self.per_mailbox, self._lease_ms])

    def pause(self, key: Key, seconds: float) -> None:
        """Every worker waits `seconds` before its next request to this mailbox."""
        pause = self._keys(self._name(key))[2]
        with self._connection.errors("pause a mailbox"):
            client = self._connection.client()
            client.register_script(_PAUSE)(keys=[pause], args=[max(int(seconds * 1000), 1)])

    async def apause(self, key: Key, seconds: float) -> None:
        if not isinstance(key, MailboxKey):
            raise TypeError(f"shared slots take a MailboxKey, not {type(key).__name__}")
        pause = self._keys(await key.aname())[2]
        with self._connection.errors("pause a mailbox"):
            client = self._connection.aclient()
            await client.register_script(_PAUSE)(keys=[pause], args=[max(int(seconds * 1000), 1)])

    def in_flight(self, key: MailboxKey) -> int:
        """How many leases of this mailbox are live now (for operators and tests)."""
        busy = self._keys(key.name())[0]
        with self._connection.errors("read a mailbox's slots"):
            client = self._connection.client()
            now = client.time()
            return int(client.zcount(busy, now[0] * 1000 + now[1] // 1000, "+inf"))
