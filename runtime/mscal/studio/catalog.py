"""The spec as the page shows it, read again whenever a file of it changes on disk (authors
edit and reload), and the page's view of it: operations grouped, their forms, the auth form."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from mscal.connector import Connector
from mscal.spec.load import default_spec_root, load_spec
from mscal.state.contract import AuthRecords
from mscal.studio.forms import auth_form_schema, editor_schema

Fingerprint = tuple[tuple[str, int, int], ...]


class SpecWatch:
    """The connector of a spec directory, loaded again when any of its files changes."""

    def __init__(self, path: str | Path | None) -> None:
        root = Path(path) if path is not None else default_spec_root()
        self.root = (root.parent if root.is_file() else root).resolve()
        self._lock = threading.Lock()
        self._seen: Fingerprint | None = None
        self._connector: Connector | None = None

    def _fingerprint(self) -> Fingerprint:
        files = [self.root / "connector.yaml"]
        for folder in ("operations", "schemas", "triggers"):
            files.extend(sorted((self.root / folder).rglob("*")))
        found = []
        for file in files:
            try:
                stat = file.stat()
            except OSError:
                continue
            found.append((str(file), stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    def connector(self) -> Connector:
        """The current connector; a SpecError (a broken file) reaches the page as a message."""
        with self._lock:
            seen = self._fingerprint()
            if self._connector is None or seen != self._seen:
                self._connector = Connector(load_spec(self.root, fresh=True))
                self._seen = seen
            return self._connector


def overview(connector: Connector, store: AuthRecords) -> dict[str, Any]:
    """What the page opens with: the connector, its operations grouped as in the spec (in the
    spec's order), its triggers, and the "New authentication" form."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for operation in connector.spec.operations.values():
        groups.setdefault(operation.group or "Other", []).append(
            {
                "name": operation.name,
                "title": operation.title,
                "description": operation.description,
                "paginated": operation.paginated,
            }
        )
    return {
        "title": connector.title,
        "version": connector.version,
        "description": connector.spec.manifest.get("description", ""),
        "root": str(connector.spec.root),
        "groups": [{"title": title, "operations": ops} for title, ops in groups.items()],
        "triggers": [
            {"name": t.name, "title": t.title, "description": t.description}
            for t in connector.spec.triggers.values()
        ],
        "auth_form": auth_form_schema(
            connector.spec.auth_fields, shared_available=getattr(store, "shared", True) is not None
        ),
    }


def operation_view(connector: Connector, name: str) -> dict[str, Any]:
    described = connector.describe(name)
    return {
        "name": name,
        "title": described["title"],
        "description": described["description"],
        "group": described["group"],
        "paginated": described["paginated"],
        "permissions": described["permissions"],
        "form": editor_schema(described["input_schema"]),
    }


def trigger_view(connector: Connector, name: str) -> dict[str, Any]:
    described = connector.describe_trigger(name)
    return {
        "name": name,
        "title": described["title"],
        "description": described["description"],
        "changes": described["changes"],
        "form": editor_schema(described["input_schema"]),
    }
