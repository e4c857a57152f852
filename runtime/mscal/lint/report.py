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
        self.unreadable: list[Path] = []  # files reported as yaml-invalid

    def at(self, document: Located, keys: Keys, rule: str, message: str) -> None:
        line, column = document.where(*keys)
        self.findings.append(Finding.make(str(document.path), line, column, rule, message))

    def load(self, path: Path) -> Located:
        """Read a spec file with positions. A file that cannot be read as YAML is reported and
        read as empty, so the other files' findings still come in the same run."""
        try:
            document = load_located(path, self.cache)
        except YamlError as exc:
            self.findings.append(
                Finding.make(str(exc.path), exc.line, exc.column, "yaml-invalid", exc.message)
            )
            self.unreadable.append(path)
            document = Located(path, None)
        self.documents[path] = document
        return document

    def in_template(
        self, document: Located, keys: Keys, line_in_template: int, rule: str, message: str
    ) -> None:
        """A finding inside a template string: at the template's own line (a line of a block
        scalar, or of a quoted string that spans lines), at its first character."""
        line, column = document.where(*keys)
        try:
            lines = document.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            lines = []
        start = lines[line - 1][column - 1 :] if 0 < line <= len(lines) else ""
        label = f"{keys[-1]}:" if keys and isinstance(keys[-1], str) else None
        if label and start.startswith(label):  # the key's place: step to its value
            value = start[len(label) :]
            column += len(label) + len(value) - len(value.lstrip())
            start = value.lstrip()
        block = start[:1] in {"|", ">"}
        target = line + line_in_template if block else line + line_in_template - 1
        if (block or line_in_template > 1) and 0 < target <= len(lines):
            text = lines[target - 1]
            line, column = target, len(text) - len(text.lstrip()) + 1
        self.findings.append(Finding.make(str(document.path), line, column, rule, message))

    def has(self, rule: str, document: Located, prefix: str) -> bool:
        """Whether a finding of `rule` in `document` whose message starts with `prefix` is
        already reported (one mistake, one finding)."""
        return any(
            f.rule == rule and f.file == str(document.path) and f.message.startswith(prefix)
            for f in self.findings
        )

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
