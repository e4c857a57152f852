"""Ids that stay the same when a job is run again: the templates' `uuid()` under a key.

A create carries a client-chosen id (create_event's `transactionId`, from `uuid()` in its
template) so that Graph recognises a repeat. Within one call the runtime's own retries reuse
the rendered request; a job runner (a Celery task, a Temporal activity) that runs the whole
call again must render the same id, so it runs it inside `idempotency_key(its task id)`: the
n-th `uuid()` of the call is then uuid5(key, n), the same on every attempt.
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

# A fixed namespace, so a key gives the same ids in every process and every version.
NAMESPACE = uuid.UUID("0b5c3f2e-5d1a-4f4e-9a57-6d2f3c1e8a41")
_SEED: ContextVar[tuple[uuid.UUID, Iterator[int]] | None] = ContextVar("mscal_uuid", default=None)


@contextlib.contextmanager
def idempotency_key(key: str) -> Iterator[None]:
    """Inside, `uuid()` gives uuid5(key, 0), uuid5(key, 1), …: the same ids for the same key."""
    token = _SEED.set((uuid.uuid5(NAMESPACE, key), itertools.count()))
    try:
        yield
    finally:
        _SEED.reset(token)


def new_uuid() -> str:
    """A random UUID, or, inside `idempotency_key`, the next one of the key's sequence."""
    seed = _SEED.get()
    if seed is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(seed[0], str(next(seed[1]))))
