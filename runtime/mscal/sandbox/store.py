"""SQLite storage: JSON documents by kind, and a change log that delta queries read."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL, id TEXT NOT NULL, owner TEXT, parent TEXT, data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS docs_by_owner ON docs (kind, owner, parent);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL,
    owner TEXT, parent TEXT, removed INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_owner ON changes (kind, owner, seq);
-- A create with a transactionId looks for an earlier one: without this index, every create
-- would read every event of the mailbox.
CREATE INDEX IF NOT EXISTS events_by_transaction
    ON docs (owner, json_extract(data, '$.transactionId')) WHERE kind = 'event';
"""


class Store:
    """One database; safe to share between the server's threads."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            _private_file(Path(self.path))
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        # Told of each tracked change (kind, id, owner, removed): the change notifications.
        self.listeners: list[Callable[[str, str, str | None, bool], None]] = []

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads in it see the store at one moment: another thread's write (a transaction, or
        a single put) lands before it or after it, never between two of its reads. A request
        that reads a series and then its edited occurrence must not see the occurrence deleted
        in between."""
        with self._lock:
            yield

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM docs WHERE kind = ? AND id = ?", (kind, doc_id)
            ).fetchone()
        return _loads(row[0]) if row else None

    def put(
        self,
        kind: str,
        doc: dict[str, Any],
        *,
        owner: str | None = None,
        parent: str | None = None,
        track: bool = True,
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO docs (kind, id, owner, parent, data) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET owner = excluded.owner, "
                "parent = excluded.parent, data = excluded.data",
                (kind, doc["id"], owner, parent, json.dumps(doc)),
            )
            if track:
                self._log(kind, doc["id"], owner, parent, removed=False)

    def delete(self, kind: str, doc_id: str, *, track: bool = True) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT owner, parent FROM docs WHERE kind = ? AND id = ?", (kind, doc_id)
            ).fetchone()
            if row is None:
                return False
            self._db.execute("DELETE FROM docs WHERE kind = ? AND id = ?", (kind, doc_id))
            if track:
                self._log(kind, doc_id, row[0], row[1], removed=True)
            return True

    def find(
        self, kind: str, *, owner: str | None = None, parent: str | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT data FROM docs WHERE kind = ?"
        args: list[Any] = [kind]
        if owner is not None:
            sql += " AND owner = ?"
            args.append(owner)
        if parent is not None:
            sql += " AND parent = ?"
            args.append(parent)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY rowid", args).fetchall()
        return [_loads(row[0]) for row in rows]

    def find_event_by_transaction(self, owner: str, transaction_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM docs WHERE kind = 'event' AND owner = ? "
                "AND json_extract(data, '$.transactionId') = ? LIMIT 1",
                (owner, transaction_id),
            ).fetchone()
        return _loads(row[0]) if row else None

    def latest_change(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(seq) FROM changes").fetchone()
        return int(row[0] or 0)

    def changes_since(
        self, kind: str, owner: str, seq: int, upto: int | None = None
    ) -> list[tuple[str, bool]]:
        """Each document changed after `seq` (up to `upto`), once, with whether it is gone."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, removed FROM changes WHERE kind = ? AND owner = ? AND seq > ? "
                "AND seq <= ? ORDER BY seq",
                (kind, owner, seq, upto if upto is not None else 2**62),
            ).fetchall()
        last: dict[str, bool] = {}
        for doc_id, removed in rows:
            last.pop(doc_id, None)
            last[doc_id] = bool(removed)
        return list(last.items())

    def _log(
        self, kind: str, doc_id: str, owner: str | None, parent: str | None, *, removed: bool
    ) -> None:
        self._db.execute(
            "INSERT INTO changes (kind, id, owner, parent, removed) VALUES (?, ?, ?, ?, ?)",
            (kind, doc_id, owner, parent, int(removed)),
        )
        for listener in self.listeners:
            listener(kind, doc_id, owner, removed)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _private_file(path: Path) -> None:
    """The database holds live tokens: its directory is created 0700 and the file 0600 (an
    existing one is narrowed); SQLite gives its -wal and -shm files the database's mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if extra.exists() and extra.stat().st_mode & 0o077:
            extra.chmod(0o600)


# Rows written before the service refused them may hold what JSON's escapes allow but UTF-8 and
# JSON answers cannot carry: a lone surrogate, NaN or Infinity. Read back, they become U+FFFD and
# null, so one old bad row cannot make every later read of its mailbox fail.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SUSPECT = re.compile(r"\\u[dD][89a-fA-F]|NaN|Infinity")


def _loads(data: str) -> Any:
    if _SUSPECT.search(data) is None:
        return json.loads(data)
    return _clean(json.loads(data, parse_constant=lambda _: None))


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.isascii() else _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value
