"""Trigger rounds for a runner whose history is durable (Temporal): a round's changes come back
with a token and its new state is kept aside; `commit` saves it once the workflow has recorded
the changes. Until then the trigger, polled again, gives the same changes with the same dedupe
keys, so an activity retried after a lost worker loses nothing, and a commit that comes twice,
or after a later poll, changes nothing.

One workflow polls a trigger at a time (a poll replaces the changes kept aside by the one
before it); the store's lease keeps two polls of one trigger from running at once.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from mscal.io.session import Session
from mscal.triggers.state import StateStore, load_owned
from mscal.triggers.trigger import Change, Trigger

ASIDE = "#aside"  # the key suffix of a round's state kept aside until its commit
LEASE_SECONDS = 300.0


class TriggerBusyError(RuntimeError):
    """Another worker runs a round of this trigger now: poll again later."""


def poll_aside(trigger: Trigger, store: StateStore, session: Session) -> tuple[list[Change], str]:
    """One round from the saved state: its changes, and the token that commits its state."""
    with _leased(store, trigger.key):
        state = load_owned(store, trigger.key, trigger.name, trigger.inputs)
        result = trigger.poll(state, session=session, copy=False)
        token = uuid.uuid4().hex
        store.save(trigger.key + ASIDE, {"token": token, "state": result.state})
        return result.changes, token


def commit(trigger: Trigger, store: StateStore, token: str) -> bool:
    """Save the state kept aside by the round `token` names; False when there is none (this
    commit already ran, or a later poll replaced that round)."""
    with _leased(store, trigger.key):
        aside = store.load(trigger.key + ASIDE)
        if not aside or aside.get("token") != token:
            return False
        store.save(trigger.key, aside["state"])
        store.save(trigger.key + ASIDE, {"token": None})
        return True


@contextlib.contextmanager
def _leased(store: StateStore, key: str) -> Iterator[None]:
    lease: Any = getattr(store, "lease", None)
    if not callable(lease):
        yield  # one process: nothing else polls it
        return
    with lease(key, LEASE_SECONDS) as held:
        if not held.held:
            raise TriggerBusyError(f"another worker runs a round of {key!r} now")
        yield
