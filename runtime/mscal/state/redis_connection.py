"""One Redis URL: its clients (one sync, one per event loop), the store's own options read off
the URL, and Redis's errors as one `StoreError` that never shows the URL's password."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mscal.errors import InputError, StoreError

if TYPE_CHECKING:
    import asyncio

    import redis
    import redis.asyncio

# The store's own options, read off the URL before redis-py sees it.
OPTIONS = {"prefix": "mscal:", "lease_seconds": "60", "refresh_lease_seconds": "30"}
# A Redis that hangs fails a call instead of holding it (the URL's own values win).
CLIENT_DEFAULTS: dict[str, Any] = {
    "decode_responses": True,
    "socket_timeout": 10.0,
    "socket_connect_timeout": 10.0,
}


class RedisConnection:
    """One Redis URL, its clients (one sync, one per event loop) and how its errors read."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        options = {k: query.pop(k, default) for k, default in OPTIONS.items()}
        self.url = urlunsplit(parts._replace(query=urlencode(query)))
        self.shown = urlunsplit(
            parts._replace(netloc=parts.netloc.rpartition("@")[2], query="")
        )  # never the password
        self.prefix = options["prefix"]
        try:
            self.lease_seconds = float(options["lease_seconds"])
            self.refresh_lease_seconds = float(options["refresh_lease_seconds"])
        except ValueError:
            raise InputError(
                "MSCAL_STORE", "type", "lease_seconds and refresh_lease_seconds must be numbers"
            ) from None
        self._sync: redis.Redis | None = None
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RedisConnection({self.shown!r})"

    def client(self) -> redis.Redis:
        if self._sync is None:
            with self._lock:
                if self._sync is None:
                    self._sync = redis_module().Redis.from_url(self.url, **CLIENT_DEFAULTS)
        return self._sync

    def aclient(self) -> redis.asyncio.Redis:
        # Only async callers need asyncio; a sync worker never imports it.
        import asyncio  # noqa: PLC0415

        import redis.asyncio  # noqa: PLC0415

        loop = asyncio.get_running_loop()
        client = self._loops.get(loop)
        if client is None:
            client = self._loops[loop] = redis.asyncio.Redis.from_url(self.url, **CLIENT_DEFAULTS)
        return client

    @contextlib.contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Redis's errors as one StoreError naming the store (without its password)."""
        exceptions = redis_module().exceptions
        try:
            yield
        except exceptions.RedisError as exc:
            raise StoreError(
                f"could not {doing}: the state store {self.shown} answered "
                f"{type(exc).__name__}; nothing was sent to Graph"
            ) from None


def redis_module() -> Any:
    """redis-py, or an error saying which extra installs it."""
    try:
        import redis  # noqa: PLC0415  (only a Redis store needs redis-py)
    except ImportError:
        raise InputError(
            "MSCAL_STORE",
            "extra",
            "a redis:// store needs redis-py: pip install 'microsoft-calendar-connector[redis]'",
        ) from None
    return redis
