"""The linter's report as text (one finding a line, with its hint), JSON, or SARIF 2.1.0."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mscal.lint.rules import RULES, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(findings: list[Finding], output: str, root: str | Path | None = None) -> str:
    if output == "json":
        return json.dumps([asdict(f) for f in findings], indent=2) + "\n"
    if output == "sarif":
        return json.dumps(sarif(findings, root), indent=2) + "\n"
    return "".join(f"{finding}\n" for finding in findings)


def spec_root(path: str | Path | None) -> Path:
    """The connector directory a lint run read (as `lint()` works it out)."""
    # Imported here: only SARIF output names files relative to the spec.
    from mscal.spec.load import default_spec_root  # noqa: PLC0415

    root = Path(path) if path is not None else default_spec_root()
    return (root.parent if root.is_file() else root).resolve()


def _tool() -> dict[str, Any]:
    """The tool's name and version, and where to read about it: the package's declared
    documentation or home page (left out, never made up, when none is declared)."""
    # Imported here: only SARIF output reads the installed package's metadata.
    from importlib.metadata import PackageNotFoundError, metadata  # noqa: PLC0415

    driver: dict[str, Any] = {"name": "mscal lint"}
    try:
        meta = metadata("microsoft-calendar-connector")
    except PackageNotFoundError:
        return driver
    driver["version"] = meta["Version"]
    urls = dict(
        (label.strip().lower(), url.strip())
        for label, _, url in (entry.partition(",") for entry in meta.get_all("Project-URL") or [])
    )
    for label in ("documentation", "homepage", "home", "source", "repository"):
        if urls.get(label, "").startswith("https://"):
            driver["informationUri"] = urls[label]
            break
    return driver


def _uri(file: str, root: Path) -> dict[str, str]:
    """A file as SARIF wants it: relative to the spec's directory (SPECROOT), so annotations
    land on the right file wherever the spec was checked out."""
    try:
        return {"uri": Path(file).resolve().relative_to(root).as_posix(), "uriBaseId": "SPECROOT"}
    except ValueError:  # outside the spec (e.g. an OpenAPI file): an absolute file URI
        return {"uri": Path(file).resolve().as_uri()}


def sarif(findings: list[Finding], path: str | Path | None = None) -> dict[str, Any]:
    used = sorted({f.rule for f in findings})
    root = spec_root(path)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "originalUriBaseIds": {"SPECROOT": {"uri": root.as_uri() + "/"}},
                "tool": {
                    "driver": {
                        **_tool(),
                        "rules": [
                            {
                                "id": rule,
                                "shortDescription": {"text": rule.replace("-", " ")},
                                "help": {"text": RULES[rule].hint},
                                "defaultConfiguration": {"level": RULES[rule].severity},
                            }
                            for rule in used
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": f.rule,
                        "level": f.severity,
                        "message": {"text": f"{f.message} (hint: {f.hint})"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": _uri(f.file, root),
                                    "region": {"startLine": f.line, "startColumn": f.column},
                                }
                            }
                        ],
                    }
                    for f in findings
                ],
            }
        ],
    }
