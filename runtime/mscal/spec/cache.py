"""Parsed spec files kept between processes.

Parsing some twenty YAML files (and checking them against the meta-schemas) is most of what
loading the spec costs, and a CLI call loads it every time. The parsed documents are kept in
one marshal file in the user's cache directory, each under a hash of its source's bytes (not
its modification time or size, which an edit can leave as they were), with the meta-schema it
was found valid against: a warm start reads and hashes the files, and parses and checks none.

The cache is written by one Python for the same Python: its file name carries the interpreter's
cache tag and marshal's format version, so another Python never reads it. It is read only from a
directory that this user owns and nobody else may write (created 0700), and only from a file
the same holds for: anyone who could write there could make the runtime load a spec that was
never checked. Anything else, or anything unreadable, means parsing afresh; never an error.
marshal holds plain data only (dicts, lists, strings, numbers); a document with anything else
(e.g. a YAML timestamp) is simply not cached. Set MSCAL_SPEC_CACHE=off to turn it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from platformdirs import user_cache_dir

from mscal.files import write_atomically

ENV = "MSCAL_SPEC_CACHE"
_FORMAT = 3
# Which Python wrote a cache: marshal's format may change between versions (and is read by
# nothing else), so each Python keeps a cache of its own.
RUNTIME_TAG = f"{sys.implementation.cache_tag}-marshal{marshal.version}"
_UNSAFE_BITS = stat.S_IWGRP | stat.S_IWOTH


class Check(Protocol):
    """A check a document passes once per content (the meta-schema check at load); `key`
    names the check, so a changed check is run again on every file."""

    @property
    def key(self) -> str: ...

    def __call__(self, document: Any, path: Path) -> None: ...


def cache_dir() -> Path:
    return Path(user_cache_dir("mscal", appauthor=False))


def digest(content: bytes) -> bytes:
    return hashlib.blake2b(content, digest_size=16).digest()


def is_private(status: os.stat_result) -> bool:
    """Owned by this user (where there are owners) and writable by nobody else."""
    owned = not hasattr(os, "getuid") or status.st_uid == os.getuid()
    return owned and not status.st_mode & _UNSAFE_BITS


def private_directory(directory: Path, *, create: bool) -> bool:
    """Whether `directory` is safe to read a cache from (made, 0700, when `create`)."""
    try:
        if create:
            missing = [p for p in (directory, *directory.parents) if not p.exists()]
            for level in reversed(missing):
                level.mkdir(mode=0o700)
        status = directory.stat()
    except OSError:
        return False
    return stat.S_ISDIR(status.st_mode) and is_private(status)


class ParsedFiles:
    """The parsed documents of one spec directory, read from and saved to the cache."""

    def __init__(self, root: Path, directory: Path | None = None) -> None:
        self.enabled = os.environ.get(ENV, "").lower() not in {"off", "0", "no"}
        name = hashlib.sha256(str(root).encode()).hexdigest()[:16]
        self.path = (directory or cache_dir()) / f"spec-{name}-{RUNTIME_TAG}.marshal"
        # path -> (digest of its bytes, the document marshalled, the check it passed or ""):
        # a hit unmarshals a fresh copy, so nothing that later changes a document changes
        # the cache.
        self.entries: dict[str, tuple[bytes, bytes, str]] = {}
        # What the runtime derives from the spec's text and keeps too (a template's plain
        # form), under a hash of everything it was derived from: key -> marshalled value.
        self.derived: dict[bytes, bytes] = {}
        self.hits = 0
        self._dirty = False
        if self.enabled:
            self.entries, self.derived = _read_cache(self.path)

    def get(self, path: Path, parse: Callable[[Path], Any], check: Check | None = None) -> Any:
        """The document at `path`, parsed (and checked) only if the cache lacks it as it is."""
        if not self.enabled:
            return _checked(parse(path), path, check)
        try:
            key = digest(path.read_bytes())
        except OSError:
            return parse(path)  # which reports the file that cannot be read
        wanted = check.key if check is not None else ""
        cached = self.entries.get(str(path))
        if cached is not None and cached[0] == key:
            with contextlib.suppress(ValueError, EOFError, TypeError):
                document = marshal.loads(cached[1])
                self.hits += 1
                if wanted and cached[2] != wanted:
                    _checked(document, path, check)
                    self.entries[str(path)] = (key, cached[1], wanted)
                    self._dirty = True
                return document
        document = parse(path)
        try:
            blob = marshal.dumps(document)
        except ValueError:
            return _checked(document, path, check)
        _checked(document, path, check)  # raises before a failing document is kept
        self.entries[str(path)] = (key, blob, wanted)
        self._dirty = True
        return document

    def derive(self, key: bytes, compute: Callable[[], Any]) -> Any:
        """What `compute` gives, kept under `key` (a hash of all it depends on)."""
        blob = self.derived.get(key) if self.enabled else None
        if blob is not None:
            with contextlib.suppress(ValueError, EOFError, TypeError):
                return marshal.loads(blob)
        value = compute()
        if self.enabled:
            with contextlib.suppress(ValueError):
                self.derived[key] = marshal.dumps(value)
                self._dirty = True
        return value

    def save(self) -> None:
        """Write the cache atomically, into a private directory only; failing to is no error."""
        if not (self.enabled and self._dirty):
            return
        if not private_directory(self.path.parent, create=True):
            return
        content = marshal.dumps(
            {
                "format": _FORMAT,
                "runtime": RUNTIME_TAG,
                "files": self.entries,
                "derived": self.derived,
            }
        )
        with contextlib.suppress(OSError):
            write_atomically(self.path, content)
        self._dirty = False


def _checked(document: Any, path: Path, check: Check | None) -> Any:
    if check is not None:
        check(document, path)
    return document


def _read_cache(
    path: Path,
) -> tuple[dict[str, tuple[bytes, bytes, str]], dict[bytes, bytes]]:
    """The saved entries, or none when the directory or file is not private or not ours."""
    if not private_directory(path.parent, create=False):
        return {}, {}
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError, KeyError):
        with path.open("rb") as handle:
            if not is_private(os.fstat(handle.fileno())):
                return {}, {}
            saved = marshal.loads(handle.read())
        if (
            isinstance(saved, dict)
            and saved.get("format") == _FORMAT
            and saved.get("runtime") == RUNTIME_TAG
            and isinstance(saved["files"], dict)
            and isinstance(saved["derived"], dict)
        ):
            return saved["files"], saved["derived"]
    return {}, {}
