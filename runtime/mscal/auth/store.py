"""Named authentications on disk ("Sandbox", "Production"), as builders keep them.

Personal ones live in the user's config directory; organisational ones in a directory the
organisation names with MSCAL_SHARED_AUTHENTICATIONS, so a team can share one without sharing a
home directory. Each is one JSON file, written atomically (a temporary file in the same
directory, fsynced, then renamed over the old one) with mode 0600, so a crash mid-write never
leaves a truncated file. A lock file serialises updates, so two processes refreshing the same
authentication do not overwrite each other's rotated refresh token.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_config_path

from mscal.errors import InputError
from mscal.files import write_atomically

SHARED_ENV = "MSCAL_SHARED_AUTHENTICATIONS"
log = logging.getLogger("mscal.auth")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")


@dataclass
class StoredAuthentication:
    """What a file holds: the form's values, its secrets, and the tokens of the last sign-in."""

    name: str
    values: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, Any] = field(default_factory=dict)
    shared: bool = False

    def __repr__(self) -> str:
        return (
            f"StoredAuthentication(name={self.name!r}, values={self.values!r}, "
            f"secrets={sorted(self.secrets)}, tokens={sorted(self.tokens)}, shared={self.shared})"
        )

    @staticmethod
    def check_name(name: str) -> None:
        if not _NAME.match(name):
            raise InputError(
                "name", "pattern", "must be 1 to 64 letters, digits, spaces, '.', '_' or '-'"
            )

    def to_json(self) -> dict[str, Any]:
        return {"values": self.values, "secrets": self.secrets, "tokens": self.tokens}


def default_personal_dir() -> Path:

    return user_config_path("mscal", appauthor=False) / "authentications"


class AuthStore:
    def __init__(self, personal: Path | None = None, shared: Path | None = None) -> None:
        self.personal = personal or default_personal_dir()
        env = os.environ.get(SHARED_ENV)
        self.shared = shared or (Path(env) if env else None)

    def _path(self, name: str, *, shared: bool) -> Path:
        StoredAuthentication.check_name(name)
        folder = self.shared if shared else self.personal
        if folder is None:
            raise InputError("shared", "missing", f"no shared directory: set {SHARED_ENV}")
        return _guarded(folder, shared=shared) / f"{name}.json"

    def find(self, name: str) -> Path | None:
        for shared in (False, True):
            if shared and self.shared is None:
                continue
            path = self._path(name, shared=shared)
            if path.is_file():
                return path
        return None

    def load(self, name: str) -> StoredAuthentication:
        path = self.find(name)
        if path is None:
            raise InputError(
                "auth", "unknown", f"no authentication named {name!r} (see: mscal auth list)"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise InputError(
                "auth", "format", f"{path} is not an authentication file (not a JSON object)"
            )
        return StoredAuthentication(
            name,
            dict(data.get("values") or {}),
            dict(data.get("secrets") or {}),
            dict(data.get("tokens") or {}),
            shared=path.parent == self.shared,
        )

    def save(self, record: StoredAuthentication) -> Path:
        path = self._path(record.name, shared=record.shared)
        with self._locked(path):
            _write_atomically(path, record.to_json())
        return path

    def update_tokens(self, name: str, tokens: dict[str, Any]) -> None:
        """Store the tokens of a refresh (a rotated refresh token replaces the old one)."""
        path = self.find(name)
        if path is None:
            return
        with self._locked(path):
            self._write_tokens(path, tokens)

    def _write_tokens(self, path: Path, tokens: dict[str, Any]) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = ("access_token", "refresh_token", "expires_at", "scope")
        kept = {k: tokens[k] for k in names if tokens.get(k)}
        data["tokens"] = {**(data.get("tokens") or {}), **kept}
        _write_atomically(path, data)

    def persistence(self, name: str) -> StoredTokens:
        return StoredTokens(self, name)

    def names(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for where, folder in (("personal", self.personal), ("shared", self.shared)):
            if folder is not None and _guarded(folder, shared=where == "shared").is_dir():
                found.extend((p.stem, where) for p in sorted(folder.glob("*.json")))
        return found

    def remove(self, name: str) -> Path:
        path = self.find(name)
        if path is None:
            raise InputError("auth", "unknown", f"no authentication named {name!r}")
        with self._locked(path):
            path.unlink()
        return path

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(path.with_suffix(".lock"), "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class StoredTokens:
    """A named authentication's tokens, shared between processes under its file lock."""

    def __init__(self, store: AuthStore, name: str) -> None:
        self._store = store
        self._name = name

    def _path(self) -> Path:
        path = self._store.find(self._name)
        if path is None:
            raise InputError("auth", "unknown", f"no authentication named {self._name!r}")
        return path

    def locked(self) -> contextlib.AbstractContextManager[None]:
        return self._store._locked(self._path())

    def load(self) -> dict[str, Any]:
        return self._store.load(self._name).tokens

    def save(self, token: dict[str, Any]) -> None:
        self._store._write_tokens(self._path(), token)  # the caller holds the lock


def _guarded(folder: Path, *, shared: bool) -> Path:
    """A directory of authentications that only its owner can change: anyone who can write
    there can swap a file for one whose base URL or token endpoint is theirs. A personal one of
    ours that others can write is fixed (0700, with a warning); a shared one writable by
    everyone, or a personal one of someone else, is refused. A shared one may be group-writable:
    the team that shares it maintains it."""
    try:
        status = folder.stat()
    except OSError:
        return folder  # not there yet: it is created 0700
    loose = status.st_mode & (0o002 if shared else 0o022)
    if not loose:
        return folder
    mode = oct(stat.S_IMODE(status.st_mode))
    if not shared and status.st_uid == os.getuid():
        folder.chmod(0o700)
        log.warning(
            "mscal: %s was writable by others (mode %s); its mode is now 0700", folder, mode
        )
        return folder
    fix = "chmod o-w" if shared else "chmod 700"
    raise InputError(
        "auth",
        "permissions",
        f"{folder} is writable by others (mode {mode}): an authentication there could be "
        f"replaced by one that sends your tokens elsewhere; run `{fix} {folder}` first",
    )


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    write_atomically(path, json.dumps(data, indent=2).encode("utf-8"))
