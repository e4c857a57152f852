"""Which store: `MSCAL_STORE` (or the builder's argument) names it; files by default."""

from __future__ import annotations

import os

from mscal.errors import InputError
from mscal.state.contract import StateStore

STORE_ENV = "MSCAL_STORE"
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def open_store(url: str | None = None) -> StateStore:
    """The store a URL names: `redis://…`, `rediss://…` (TLS) or `unix://…` for Redis; empty or
    `files` for the files of one machine. Without a URL, `MSCAL_STORE` is read."""
    chosen = (url if url is not None else os.environ.get(STORE_ENV, "")).strip()
    if chosen in {"", "files"}:
        from mscal.state.files import FileStore  # noqa: PLC0415  (one of two; the other is big)

        return FileStore()
    if chosen.startswith(_REDIS_SCHEMES):
        from mscal.state.redis_store import RedisStore  # noqa: PLC0415  (redis-py when chosen)

        return RedisStore(chosen)
    raise InputError(
        STORE_ENV,
        "scheme",
        "must be 'files' or a redis://, rediss:// or unix:// URL",
    )
