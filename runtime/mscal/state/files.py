"""The file store, the default: authentications in 0600 files (`auth/store.py`), mailbox slots
in this process (`io/slots.py`), trigger state in the triggers' files (`triggers/state.py`) in
the user's state directory."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from platformdirs import user_state_path

from mscal.auth.store import AuthStore
from mscal.io.slots import MailboxSlots, Slots
from mscal.state.leases import FileLease
from mscal.triggers.state import FileStateStore


class FileTriggerState(FileStateStore):
    """The triggers' file store (one 0600 file per key), with a file lease per key."""

    def __init__(self, folder: Path | None = None) -> None:
        super().__init__(folder or user_state_path("mscal", appauthor=False) / "triggers")

    @contextlib.contextmanager
    def lease(self, key: str, seconds: float) -> Iterator[FileLease]:
        lease = FileLease(self.file_for(key).with_suffix(".lease"))
        lease.take()
        try:
            yield lease
        finally:
            lease.release()


class FileStore:
    """Today's behaviour: state on this machine, slots in this process."""

    def __init__(
        self,
        personal: Path | None = None,
        shared: Path | None = None,
        triggers: Path | None = None,
    ) -> None:
        self.authentications = AuthStore(personal, shared)
        self.triggers = FileTriggerState(triggers)

    def __repr__(self) -> str:
        return "FileStore()"

    def slots(
        self, per_mailbox: int, mailbox_pattern: str, window_requests: int, window_seconds: float
    ) -> Slots:
        # One process cannot see the other workers' requests, so no window is counted here.
        return MailboxSlots(per_mailbox, mailbox_pattern)
