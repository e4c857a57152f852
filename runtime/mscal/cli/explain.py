"""Text for people: one operation's inputs (`mscal describe OPERATION`, `mscal run OPERATION
--help`) and the authentication form's fields (`mscal auth add --help`), read from the spec."""

from __future__ import annotations

import json
import shlex
import textwrap
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mscal.spec.load import AuthField

_WIDTH = 92


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(
        " ".join(text.split()), _WIDTH, initial_indent=indent, subsequent_indent=indent
    )


def _type_of(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = "|".join(map(str, kind))
    if kind is None and "anyOf" in schema:
        kind = "|".join(str(s.get("type", "?")) for s in schema["anyOf"] if isinstance(s, dict))
    if kind == "array":
        items = schema.get("items")
        inner = _type_of(items) if isinstance(items, dict) else "any"
        return f"list of {inner}"
    return str(kind or "any")


def _properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in [schema, *schema.get("allOf", [])]:
        if isinstance(part, dict):
            merged.update(part.get("properties") or {})
    return merged


def operation_text(described: Mapping[str, Any]) -> str:
    """A short human view of one operation: what it does, its inputs, an example, its output."""
    name = described["name"]
    schema = described["input_schema"]
    required = set(schema.get("required") or ())
    lines = [f"{name}: {described['title']} ({described['group']})"]
    if described.get("description"):
        lines.append(_wrap(described["description"], "  "))
    permissions = described.get("permissions") or {}
    if permissions:
        shown = "; ".join(f"{k}: {', '.join(v) or '-'}" for k, v in permissions.items())
        lines.append(f"  permissions: {shown}")
    lines.append("")
    lines.append("inputs (required first; --set NAME=VALUE, or --input JSON):")
    props = _properties(schema)
    order = sorted(props, key=lambda key: (key not in required, list(props).index(key)))
    width = max((len(key) for key in props), default=0)
    for key in order:
        prop = props[key] if isinstance(props[key], dict) else {}
        notes = [_type_of(prop)]
        if key in required:
            notes.append("required")
        if "enum" in prop:
            notes.append("one of " + ", ".join(map(str, prop["enum"])))
        if "default" in prop:
            notes.append(f"default {json.dumps(prop['default'])}")
        lines.append(f"  {key:<{width}}  {'; '.join(notes)}")
        about = prop.get("description") or prop.get("title")
        if about:
            lines.append(_wrap(str(about), " " * (width + 4)))
        if prop.get("examples"):
            example = prop["examples"][0]
            shown = example if isinstance(example, str) else json.dumps(example)
            lines.append(f"{' ' * (width + 4)}e.g. {shown}")
    for rule in _exclusions(schema):
        lines.append(f"  ({rule})")
    examples = described.get("examples") or []
    if examples:
        first = examples[0]
        lines.append("")
        lines.append(f"example ({first.get('title', 'one call')}):")
        line = f"mscal run {name} --input {shlex.quote(json.dumps(first.get('input') or {}))}"
        lines.append(f"  {line} --auth NAME")
    output = described.get("output_schema") or {}
    keys = list(_properties(output))
    if keys:
        lines.append("")
        shown = ", ".join(keys[:12]) + (", ..." if len(keys) > 12 else "")
        lines.append(_wrap(f"output: a JSON object with {shown}", ""))
    if described.get("paginated"):
        lines.append("  (a list: value and next_link; all_pages collects every page)")
    lines.append("")
    lines.append(f"The full JSON description: mscal describe {name} --json")
    return "\n".join(lines)


def _exclusions(schema: Mapping[str, Any]) -> Iterable[str]:
    for part in schema.get("allOf") or ():
        negated = part.get("not") if isinstance(part, dict) else None
        required = negated.get("required") if isinstance(negated, dict) else None
        if isinstance(required, list) and len(required) == 2:
            yield f"{required[0]} and {required[1]} cannot be combined"
    for key, needs in (schema.get("dependentRequired") or {}).items():
        yield f"{key} needs {', '.join(needs)}"


def auth_fields_text(fields: Iterable[AuthField]) -> str:
    """The authentication form's fields, for `mscal auth add --help`."""
    fields = list(fields)
    width = max(len(f.key) for f in fields)
    lines = ["the authentication form's fields (--set KEY=VALUE):"]
    for f in fields:
        notes = [_type_of(f.schema)]
        if f.required and f.default is None:
            notes.append("required")
        if "enum" in f.schema:
            notes.append("one of " + ", ".join(map(str, f.schema["enum"])))
        if f.default is not None:
            default = f.default if isinstance(f.default, str) else json.dumps(f.default)
            notes.append(f"default {default}")
        if f.secret:
            notes.append("secret: --secret-stdin or --secret-env VAR, never --set")
        lines.append(f"  {f.key:<{width}}  {'; '.join(notes)}")
        lines.append(_wrap(f"{f.title}. {f.help}", " " * (width + 4)))
    return "\n".join(lines)
