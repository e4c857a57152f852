"""Writing a file so that a reader sees the old content or the new, never half of either."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: Path, content: bytes, *, mode: int = 0o600) -> None:
    """Write to a temporary file beside `path` (mode set before any byte), flush it to disk,
    then rename it over `path`; on any failure the temporary file is removed."""
    prepare_atomic_write(path, content, mode=mode)()


def prepare_atomic_write(path: Path, content: bytes, *, mode: int = 0o600) -> Callable[[], None]:
    """The slow half of `write_atomically` (the temporary file, on disk); the returned call
    renames it over `path`. A trigger emits its changes between the two, so that a crash
    between emitting and saving is a window of one rename."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp"
    )
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise

    def commit() -> None:
        try:
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    return commit
