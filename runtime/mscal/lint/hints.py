"""UI hints in input schemas: an `x-lookup` (a dynamic dropdown) names an operation and
properties of what it returns, and an `x-condition` names another input of the same operation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mscal.lint.report import Keys, Report
from mscal.spec.positions import Located

# The resolved description of an operation by name (Connector.describe), or None if unknown.
Describe = Callable[[str], Mapping[str, Any] | None]


def check_hints(
    report: Report,
    document: Located,
    base: Keys,
    name: str,
    input_schema: Mapping[str, Any],
    describe: Describe,
) -> None:
    properties = input_schema.get("properties") or {}
    for field, schema in properties.items():
        lookup = schema.get("x-lookup") if isinstance(schema, dict) else None
        if isinstance(lookup, dict):
            _check_lookup(report, document, (*base, "inputs", field), name, field, lookup, describe)
        condition = schema.get("x-condition") if isinstance(schema, dict) else None
        if isinstance(condition, dict) and condition.get("field") not in properties:
            report.at(
                document,
                (*base, "inputs", field),
                "condition-field",
                f"operation {name!r}: input {field!r} depends on unknown input "
                f"{condition.get('field')!r}",
            )


def _check_lookup(
    report: Report,
    document: Located,
    keys: Keys,
    name: str,
    field: str,
    lookup: Mapping[str, Any],
    describe: Describe,
) -> None:
    target = str(lookup.get("operation", ""))
    described = describe(target)
    if described is None:
        report.at(
            document,
            keys,
            "lookup-operation",
            f"operation {name!r}: input {field!r} looks up unknown operation {target!r}",
        )
        return
    items = (described["output_schema"].get("properties") or {}).get("value", {}).get("items", {})
    for role in ("value", "label"):
        if not _has_path(items, str(lookup.get(role, ""))):
            report.at(
                document,
                keys,
                "lookup-path",
                f"operation {name!r}: input {field!r} looks up {role} "
                f"{lookup.get(role)!r}, which {target} does not return",
            )


def _has_path(schema: Any, dotted: str) -> bool:
    node = schema
    for part in dotted.split(".") if dotted else []:
        props = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(props, dict) or part not in props:
            return False
        node = props[part]
    return bool(dotted)
