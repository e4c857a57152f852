"""The Redis state store (redis-py): what many workers on many machines share.

Keys (all under the store's prefix, `mscal:` unless the URL says `?prefix=`):

| key | type | what |
|---|---|---|
| `auth:{name}` | string (JSON) | a named authentication: form values, secrets, tokens |
| `auth:{name}:refresh` | string | the refresh lock (a redis-py `Lock`, with a lease) |
| `mailbox:{app|origin|mailbox}:…` | see `redis_slots.py` | the shared mailbox budget |
| `trigger:{key}` | string (JSON) | a trigger's state |
| `trigger:{key}:lease` | string | who runs the trigger's rounds now (with a lease) |

Secrets and tokens are stored as they are: protect the server (ACLs, TLS, no public port, see
docs/deployment.md). Nothing here logs a value, and a store's repr and errors never show the
URL's password.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

from mscal.auth.store import StoredAuthentication
from mscal.errors import InputError, StoreError
from mscal.io.slots import Slots
from mscal.state.leases import RedisLease
from mscal.state.redis_connection import RedisConnection, redis_module
from mscal.state.redis_slots import RedisSlots

_TOKEN_KEYS = ("access_token", "refresh_token", "expires_at", "scope")


class RedisAuthentications:
    """Named authentications in Redis, one JSON string each (see the module's key table)."""

    def __init__(self, connection: RedisConnection) -> None:
        self._redis = connection

    def _key(self, name: str) -> str:
        StoredAuthentication.check_name(name)
        return f"{self._redis.prefix}auth:{name}"

    def find(self, name: str) -> str | None:
        key = self._key(name)
        with self._redis.errors("read an authentication"):
            return f"{self._redis.shown} {key}" if self._redis.client().exists(key) else None

    def load(self, name: str) -> StoredAuthentication:
        with self._redis.errors("read an authentication"):
            raw = self._redis.client().get(self._key(name))
        if raw is None:
            raise InputError(
                "auth", "unknown", f"no authentication named {name!r} (see: mscal auth list)"
            )
        data = json.loads(raw)
        return StoredAuthentication(
            name,
            dict(data.get("values") or {}),
            dict(data.get("secrets") or {}),
            dict(data.get("tokens") or {}),
            shared=bool(data.get("shared", True)),
        )

    def save(self, record: StoredAuthentication) -> str:
        key = self._key(record.name)
        with self._redis.errors("save an authentication"):
            self._redis.client().set(key, json.dumps({**record.to_json(), "shared": True}))
        return f"{self._redis.shown} {key}"

    def update_tokens(self, name: str, tokens: dict[str, Any]) -> None:
        key = self._key(name)
        client = self._redis.client()
        # Optimistic: a concurrent `save` of the whole record makes this try again.
        with self._redis.errors("save tokens"), client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    raw = pipe.get(key)
                    if raw is None:
                        return
                    data = json.loads(raw)
                    kept = {k: tokens[k] for k in _TOKEN_KEYS if tokens.get(k)}
                    data["tokens"] = {**(data.get("tokens") or {}), **kept}
                    pipe.multi()
                    pipe.set(key, json.dumps(data))
                    pipe.execute()
                    return
                except redis_module().WatchError:
                    continue

    def persistence(self, name: str) -> RedisTokens:
        return RedisTokens(self, self._redis, name)

    def names(self) -> list[tuple[str, str]]:
        prefix = f"{self._redis.prefix}auth:"
        with self._redis.errors("list authentications"):
            keys = list(self._redis.client().scan_iter(match=f"{prefix}*", count=500))
        found = [k[len(prefix) :] for k in keys if not k.endswith(":refresh")]
        return [(name, "shared") for name in sorted(found)]

    def remove(self, name: str) -> str:
        key = self._key(name)
        with self._redis.errors("remove an authentication"):
            if not self._redis.client().delete(key):
                raise InputError("auth", "unknown", f"no authentication named {name!r}")
        return f"{self._redis.shown} {key}"


class RedisTokens:
    """A named authentication's tokens for `OAuth2Tokens`: one refresh across all workers.

    `locked()` takes a Redis lock with a lease (`refresh_lease_seconds`): the holder refreshes
    while the others wait, then they re-read and adopt its token; a holder that dies frees the
    lock when the lease ends."""

    def __init__(
        self, records: RedisAuthentications, connection: RedisConnection, name: str
    ) -> None:
        self._records = records
        self._redis = connection
        self._name = name

    def __repr__(self) -> str:
        return f"RedisTokens({self._name!r})"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        lease = self._redis.refresh_lease_seconds
        key = f"{self._records._key(self._name)}:refresh"
        with self._redis.errors("take the refresh lock"):
            lock = self._redis.client().lock(key, timeout=lease, blocking_timeout=lease * 2)
            if not lock.acquire():
                raise StoreError(
                    f"could not take the refresh lock of {self._name!r} within {lease * 2:.0f} s"
                )
        try:
            yield
        finally:
            # A lease that ended mid-refresh was someone else's to take: nothing to give back.
            with (
                contextlib.suppress(redis_module().exceptions.LockError),
                self._redis.errors("give back the refresh lock"),
            ):
                lock.release()

    def load(self) -> dict[str, Any]:
        return self._records.load(self._name).tokens

    def save(self, token: dict[str, Any]) -> None:
        self._records.update_tokens(self._name, token)


class RedisTriggerState:
    """Trigger state as JSON strings (the triggers' `StateStore`); one lease per trigger key."""

    def __init__(self, connection: RedisConnection) -> None:
        self._redis = connection

    def _key(self, key: str) -> str:
        return f"{self._redis.prefix}trigger:{key}"

    def load(self, key: str) -> dict[str, Any] | None:
        with self._redis.errors("read trigger state"):
            raw = self._redis.client().get(self._key(key))
        if raw is None:
            return None
        state = json.loads(raw)
        return state if isinstance(state, dict) else None

    def save(self, key: str, state: dict[str, Any]) -> None:
        with self._redis.errors("save trigger state"):
            self._redis.client().set(self._key(key), json.dumps(state, separators=(",", ":")))

    @contextlib.contextmanager
    def lease(self, key: str, seconds: float) -> Iterator[RedisLease]:
        lease = RedisLease(self._redis, f"{self._key(key)}:lease", uuid.uuid4().hex, seconds)
        lease.take()
        try:
            yield lease
        finally:
            lease.release()


class RedisStore:
    """Authentications, mailbox budgets and trigger state in one Redis (`MSCAL_STORE=redis://…`).

    The URL is redis-py's (`redis://`, `rediss://` for TLS, `unix://`), plus the store's own
    options: `prefix` (default `mscal:`), `lease_seconds` (a mailbox slot's lease, default 60)
    and `refresh_lease_seconds` (the refresh lock's lease, default 30)."""

    def __init__(self, url: str) -> None:
        self.connection = RedisConnection(url)
        self.authentications = RedisAuthentications(self.connection)
        self.triggers = RedisTriggerState(self.connection)

    def __repr__(self) -> str:
        return f"RedisStore({self.connection.shown!r})"

    def slots(
        self, per_mailbox: int, mailbox_pattern: str, window_requests: int, window_seconds: float
    ) -> Slots:
        return RedisSlots(
            self.connection,
            per_mailbox,
            mailbox_pattern,
            lease_seconds=self.connection.lease_seconds,
            window_requests=window_requests,
            window_seconds=window_seconds,
        )

    def ping(self) -> None:
        """Raise a StoreError unless the store answers."""
        with self.connection.errors("reach the state store"):
            self.connection.client().ping()
