"""Parsed spec files kept between processes.

Parsing some twenty YAML files is most of what loading the spec costs, and a CLI call loads it
every time. The parsed documents are kept in one marshal file in the user's cache directory,
each with the modification time and size of its source; a changed file is parsed again.
marshal holds plain data only (dicts, lists, strings, numbers); a document with anything else
(e.g. a YAML timestamp) is simply not cached. Set MSCAL_SPEC_CACHE=off to turn it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mscal.files import write_atomically

ENV = "MSCAL_SPEC_CACHE"
_FORMAT = 1


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mscal", appauthor=False))


class ParsedFiles:
    """The parsed documents of one spec directory, read from and saved to the cache."""

    def __init__(self, root: Path, directory: Path | None = None) -> None:
        self.enabled = os.environ.get(ENV, "").lower() not in {"off", "0", "no"}
        name = hashlib.sha256(str(root).encode()).hexdigest()[:16]
        self.path = (directory or cache_dir()) / f"spec-{name}.marshal"
        # path -> (mtime_ns, size, the document marshalled): a hit unmarshals a fresh copy, so
        # nothing that later changes a document can change the cache.
        self.entries: dict[str, tuple[int, int, bytes]] = {}
        self.hits = 0
        self._dirty = False
        if self.enabled:
            with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
                saved = marshal.loads(self.path.read_bytes())
                if isinstance(saved, dict) and saved.get("format") == _FORMAT:
                    self.entries = saved["files"]

    def get(self, path: Path, parse: Callable[[Path], Any]) -> Any:
        if not self.enabled:
            return parse(path)
        try:
            status = path.stat()
        except OSError:
            return parse(path)  # which reports the file that cannot be read
        stamp = (status.st_mtime_ns, status.st_size)
        cached = self.entries.get(str(path))
        if cached is not None and (cached[0], cached[1]) == stamp:
            with contextlib.suppress(ValueError, EOFError, TypeError):
                document = marshal.loads(cached[2])
                self.hits += 1
                return document
        document = parse(path)
        try:
            blob = marshal.dumps(document)
        except ValueError:
            return document
        self.entries[str(path)] = (*stamp, blob)
        self._dirty = True
        return document

    def save(self) -> None:
        """Write the cache atomically; a cache that cannot be written is no error."""
        if not (self.enabled and self._dirty):
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            content = marshal.dumps({"format": _FORMAT, "files": self.entries})
            write_atomically(self.path, content)
