"""`mscal lint --diff OLD`: changes that would break builders using the older spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mscal.connector import Connector
from mscal.lint.rules import Finding
from mscal.spec.load import default_spec_root, load_spec
from mscal.spec.positions import Located, load_located


def breaking_changes(old_path: str | Path, new_path: str | Path | None = None) -> list[Finding]:
    old = Connector(load_spec(old_path, lenient=True))
    new = Connector(load_spec(new_path or default_spec_root(), lenient=True))
    manifest = load_located(new.spec.root / "connector.yaml")
    places = _places(new)
    findings: list[Finding] = []

    def report(document: Located, keys: tuple[str | int, ...], rule: str, message: str) -> None:
        line, column = document.where(*keys)
        findings.append(Finding.make(str(document.path), line, column, rule, message))

    for name in old.spec.operations:
        if name not in new.spec.operations:
            report(
                manifest,
                ("operations",),
                "diff-operation-removed",
                f"operation {name!r} was removed",
            )
            continue
        document, index = places[name]
        base: tuple[str | int, ...] = ("operations", index)
        before, after = old.describe(name), new.describe(name)
        old_in, new_in = before["input_schema"], after["input_schema"]
        new_props = new_in.get("properties") or {}
        for field in sorted(set(new_in.get("required") or []) - set(old_in.get("required") or [])):
            if "default" not in (new_props.get(field) or {}):
                report(
                    document,
                    (*base, "required"),
                    "diff-input-required",
                    f"operation {name!r}: input {field!r} is now required",
                )
        for field, schema in (old_in.get("properties") or {}).items():
            if field in new_props and _types(schema) != _types(new_props[field]):
                report(
                    document,
                    (*base, "inputs", field),
                    "diff-type-changed",
                    f"operation {name!r}: input {field!r} changed type from "
                    f"{_shown(_types(schema))} to {_shown(_types(new_props[field]))}",
                )
        for where, prop in _output_properties(before["output_schema"]) - _output_properties(
            after["output_schema"]
        ):
            report(
                document,
                (*base, "output"),
                "diff-output-removed",
                f"operation {name!r}: output property {where + prop!r} was removed",
            )
    return findings


def _places(connector: Connector) -> dict[str, tuple[Located, int]]:
    found: dict[str, tuple[Located, int]] = {}
    for operation in connector.spec.operations.values():
        document = load_located(operation.source)
        for index, raw in enumerate(document.data.get("operations") or []):
            if isinstance(raw, dict) and raw.get("name") == operation.name:
                found.setdefault(operation.name, (document, index))
    return found


def _types(schema: Any) -> frozenset[str]:
    if not isinstance(schema, dict):
        return frozenset()
    kind = schema.get("type")
    if isinstance(kind, str):
        return frozenset({kind})
    if isinstance(kind, list):
        return frozenset(kind)
    parts = [_types(p) for p in schema.get("allOf") or []]
    return frozenset().union(*parts) if parts else frozenset()


def _shown(types: frozenset[str]) -> str:
    return "/".join(sorted(types)) or "any"


def _output_properties(schema: Any) -> set[tuple[str, str]]:
    """Top-level output properties, and those of list items (as value[].name)."""
    found: set[tuple[str, str]] = set()
    properties = schema.get("properties") if isinstance(schema, dict) else None
    for name, sub in (properties or {}).items():
        found.add(("", name))
        items = sub.get("items") if isinstance(sub, dict) else None
        for inner in ((items or {}).get("properties") or {}) if isinstance(items, dict) else {}:
            found.add((f"{name}[].", inner))
    return found
