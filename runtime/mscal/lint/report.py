"""The linter's report: findings collected at the line and column of the keys they are about,
and the documents they are placed in."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mscal.lint.rules import Finding
from mscal.spec.cache import ParsedFiles
from mscal.spec.positions import Located, YamlError, load_located

Keys = tuple[str | int, ...]
# Where an operation was written: its file, and its index in that file's `operations` list.
Place = tuple[Located, int]


class LintAbortError(Exception):
    """The linter could not run (a file unreadable or not YAML); carries the positioned finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(str(finding))
        self.finding = finding


class Report:
    """Collects findings, placed at the line and column of the keys they are about."""

    def __init__(self, cache: ParsedFiles | None = None) -> None:
        self.findings: list[Finding] = []
        self.documents: dict[Path, Located] = {}
        self.cache = cache  # the files read with positions, kept between runs

    def at(self, document: Located, keys: Keys, rule: str, message: str) -> None:
        line, column = document.where(*keys)
        self.findings.append(Finding.make(str(document.path), line, column, rule, message))

    def load(self, path: Path) -> Located:
        """Read a spec file with positions; a file that is not YAML stops the linter."""
        try:
            document = load_located(path, self.cache)
        except YamlError as exc:
            raise LintAbortError(
                Finding.make(str(exc.path), exc.line, exc.column, "yaml-invalid", exc.message)
            ) from None
        self.documents[path] = document
        return document

    def sorted(self) -> list[Finding]:
        """Each finding once, in file, line and column order."""
        return sorted(set(self.findings))


def list_at(data: Any, key: str) -> list[Any]:
    """`data[key]` when `data` is a mapping and that is a list; otherwise an empty list."""
    value = data.get(key) if isinstance(data, Mapping) else None
    return value if isinstance(value, list) else []


def short(text: str) -> str:
    """A message cut to one readable line (a schema error can quote a whole schema)."""
    return text if len(text) <= 160 else text[:157] + "..."
