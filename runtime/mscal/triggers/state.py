"""Where a trigger's state lives between rounds: JSON by key, behind a small interface.

A state is a JSON object (the delta link, each event's version and last known copy, the
subscription). The file store keeps one file per key, written atomically (a reader sees the old
state or the new, never half) and readable by its owner only (0600). Another backend (Redis, a
database row) implements the same two methods.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from mscal.errors import InputError
from mscal.files import prepare_atomic_write, write_atomically


class StateStore(Protocol):
    """Load and save a trigger's state (a JSON object) by key."""

    def load(self, key: str) -> dict[str, Any] | None:
        """The state saved under `key`, or None when there is none yet."""

    def save(self, key: str, state: dict[str, Any]) -> None:
        """Replace the state under `key` at once (a crash leaves the old state or the new)."""


class MemoryStateStore:
    """States in a dict: for tests and for a builder that keeps them elsewhere itself."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}  # as JSON: what is saved is what a file would hold
        self.saves: dict[str, int] = {}

    def load(self, key: str) -> dict[str, Any] | None:
        state = self.states.get(key)
        return json.loads(state) if state is not None else None

    def save(self, key: str, state: dict[str, Any]) -> None:
        self.states[key] = json.dumps(state)
        self.saves[key] = self.saves.get(key, 0) + 1

    def mark(self, key: str) -> object | None:
        """Which save of `key` the store holds (changes with every save)."""
        return self.saves.get(key)


class FileStateStore:
    """One file per key in a directory, or one given file for every key (`mscal watch
    --state FILE`). Files are written atomically with mode 0600."""

    def __init__(self, path: str | Path, *, single_file: bool = False) -> None:
        self.path = Path(path)
        self.single_file = single_file

    def file_for(self, key: str) -> Path:
        if self.single_file:
            return self.path
        name = hashlib.sha256(key.encode()).hexdigest()[:32]
        return self.path / f"{name}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        path = self.file_for(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError("state", "file", f"cannot read {path}: {exc.strerror}") from None
        try:
            state = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                "state", "json", f"{path} is not a saved trigger state: {exc.msg}"
            ) from None
        if not isinstance(state, dict):
            raise InputError("state", "json", f"{path} is not a saved trigger state")
        return state

    def save(self, key: str, state: dict[str, Any]) -> None:
        path = self.file_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, encode(state))

    def mark(self, key: str) -> object | None:
        """Which file holds `key` now: every save is a new file renamed into place (a new
        inode), so another writer's save, or an edit by hand, changes the mark."""
        try:
            found = self.file_for(key).stat()
        except OSError:
            return None
        return (found.st_dev, found.st_ino, found.st_mtime_ns, found.st_size)

    def prepare(self, key: str, state: dict[str, Any]) -> Callable[[], None]:
        """Write the new state beside the old; the returned call puts it in place (a rename)."""
        path = self.file_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        return prepare_atomic_write(path, encode(state))


def encode(state: dict[str, Any]) -> bytes:
    """Compact JSON: a 50,000-event state stays a few MB."""
    return json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode()


class StateMismatchError(InputError):
    """The saved state belongs to another trigger or other inputs."""


def check_owner(state: Mapping[str, Any], trigger: str, inputs: Mapping[str, Any]) -> None:
    """A state belongs to one trigger and its inputs: another's would emit nonsense."""
    if state.get("trigger") != trigger or dict(state.get("inputs") or {}) != dict(inputs):
        raise StateMismatchError(
            "state",
            "owner",
            f"the saved state belongs to trigger {state.get('trigger')!r} with inputs "
            f"{dict(state.get('inputs') or {})}; use another state file for {trigger!r} "
            f"with inputs {dict(inputs)}",
        )


def load_owned(
    store: StateStore, key: str, trigger: str, inputs: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The state saved under `key`, refused if it belongs to another trigger or other inputs."""
    state = store.load(key)
    if state is not None:
        check_owner(state, trigger, inputs)
    return state
