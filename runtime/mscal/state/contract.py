"""The state store's contract: what every backend (files, Redis) provides.

A store has three parts: the named authentications with their tokens (a refresh happens under
the store's lock, so one refresh serves every process that shares the store), the mailbox
budget (`Slots`), and trigger state (the triggers' load/save of JSON by key, and a lease so
that one trigger's rounds never run twice at once).
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from mscal.auth.oauth2 import TokenPersistence
from mscal.auth.store import StoredAuthentication
from mscal.io.slots import Slots


class AuthRecords(Protocol):
    """Named authentications: `mscal auth` and the integrations read and write them here."""

    def find(self, name: str) -> object | None: ...

    def load(self, name: str) -> StoredAuthentication: ...

    def save(self, record: StoredAuthentication) -> object: ...

    def update_tokens(self, name: str, tokens: dict[str, Any]) -> None: ...

    def persistence(self, name: str) -> TokenPersistence: ...

    def names(self) -> list[tuple[str, str]]: ...

    def remove(self, name: str) -> object: ...


class Lease(Protocol):
    """A time-limited claim on a key. `held` says whether it was won; a holder that dies loses
    it when `seconds` pass; `renew` lengthens a held lease (False: it was lost meanwhile)."""

    @property
    def held(self) -> bool: ...

    def renew(self) -> bool: ...

    def release(self) -> None: ...


class TriggerState(Protocol):
    """Trigger state (`mscal.triggers.state.StateStore`: a JSON object by key), and one lease
    per key so that one trigger's rounds never run twice at once (`Watch.round` takes it)."""

    def load(self, key: str) -> dict[str, Any] | None: ...

    def save(self, key: str, state: dict[str, Any]) -> None: ...

    def lease(self, key: str, seconds: float) -> contextlib.AbstractContextManager[Lease]: ...


class StateStore(Protocol):
    @property
    def authentications(self) -> AuthRecords: ...

    @property
    def triggers(self) -> TriggerState: ...

    def slots(
        self, per_mailbox: int, mailbox_pattern: str, window_requests: int, window_seconds: float
    ) -> Slots: ...
