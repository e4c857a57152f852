"""Leases: one holder at a time for a key, given up when the holder says so or, if it dies,
when the lease's time runs out (Redis) or its process ends (a file lock)."""

from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path
from typing import IO

from mscal.state.redis_connection import RedisConnection

# KEYS: lease. ARGV: holder, ms. Lengthen the lease only if we still hold it.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: lease. ARGV: holder. Delete it only if we still hold it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisLease:
    """`SET key holder NX PX ms`: won by one worker; renewed and released only by its holder."""

    def __init__(self, connection: RedisConnection, key: str, holder: str, seconds: float) -> None:
        self._redis = connection
        self._key = key
        self._holder = holder
        self._ms = max(int(seconds * 1000), 1)
        self.held = False

    def __repr__(self) -> str:
        return f"RedisLease({self._key!r}, held={self.held})"

    def take(self) -> bool:
        with self._redis.errors("take a lease"):
            client = self._redis.client()
            self.held = bool(client.set(self._key, self._holder, nx=True, px=self._ms))
        return self.held

    def renew(self) -> bool:
        if not self.held:
            return False
        with self._redis.errors("renew a lease"):
            script = self._redis.client().register_script(_RENEW)
            self.held = bool(script(keys=[self._key], args=[self._holder, self._ms]))
        return self.held

    def release(self) -> None:
        if self.held:
            with self._redis.errors("give back a lease"):
                self._redis.client().register_script(_RELEASE)(
                    keys=[self._key], args=[self._holder]
                )
            self.held = False


class FileLease:
    """A non-blocking lock on a file: held until released or until the process ends (so on
    one machine a dead holder frees it at once; its `seconds` are not needed)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: IO[str] | None = None
        self.held = False

    def __repr__(self) -> str:
        return f"FileLease({self._path.name!r}, held={self.held})"

    def take(self) -> bool:
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle = open(self._path, "a", encoding="utf-8")  # noqa: SIM115  (kept open while held)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle, self.held = handle, True
        return True

    def renew(self) -> bool:
        return self.held

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle, self.held = None, False
