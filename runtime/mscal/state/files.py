"""The file store, the default: authentications in 0600 files (`auth/store.py`), mailbox slots
in this process (`io/slots.py`), trigger state as JSON files beside the authentications."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from platformdirs import user_state_path

from mscal.auth.store import AuthStore
from mscal.files import write_atomically
from mscal.io.slots import MailboxSlots, Slots
from mscal.state.leases import FileLease


class FileTriggerState:
    """One JSON file per trigger key (its name a hash of the key, so any key is a safe name)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or user_state_path("mscal", appauthor=False) / "triggers"

    def _path(self, key: str, suffix: str) -> Path:
        return self.folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + suffix)

    def get(self, key: str) -> Any | None:
        path = self._path(key, ".json")
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))["value"]

    def put(self, key: str, value: Any) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        content = json.dumps({"key": key, "value": value}).encode("utf-8")
        write_atomically(self._path(key, ".json"), content)

    @contextlib.contextmanager
    def lease(self, key: str, seconds: float) -> Iterator[FileLease]:
        lease = FileLease(self._path(key, ".lease"))
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
