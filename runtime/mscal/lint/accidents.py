"""Schemas that YAML read differently from what was meant: a property schema left empty (it
parses as null) and flow-style accidents, where an unquoted comma inside `{...}` splits a text
into keys with no value (`{description: The body, parsed as JSON}` is a description "The body"
and a key "parsed as JSON" set to null)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mscal.lint.report import Keys, Report, list_at
from mscal.spec.positions import Located

# Keys whose value is one schema, a list of schemas, or a mapping of names to schemas.
_ONE = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
)
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_NAMED = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
# Keywords that may be written with no value on purpose (an annotation left empty).
_MAY_BE_NULL = frozenset({"default", "const", "examples", "description", "title"})


def check_schema_accidents(
    report: Report, manifest: Located, operation_files: list[Located], schema_files: list[Located]
) -> None:
    """Every schema the spec writes: traits' inputs, operations' inputs and outputs, and the
    files in schemas/."""
    traits = manifest.data.get("traits") if isinstance(manifest.data, dict) else None
    for trait, declared in (traits if isinstance(traits, dict) else {}).items():
        inputs = declared.get("inputs") if isinstance(declared, dict) else None
        for name, schema in (inputs if isinstance(inputs, dict) else {}).items():
            _report(report, manifest, _accidents(schema, ("traits", trait, "inputs", name)))
    for document in operation_files:
        for index, raw in enumerate(list_at(document.data, "operations")):
            if not isinstance(raw, dict):
                continue
            base: Keys = ("operations", index)
            inputs = raw.get("inputs")
            for name, schema in (inputs if isinstance(inputs, dict) else {}).items():
                _report(report, document, _accidents(schema, (*base, "inputs", name)))
            if "output" in raw:
                _report(report, document, _accidents(raw["output"], (*base, "output")))
    for document in schema_files:
        if document.data is not None:
            _report(report, document, _accidents(document.data, ()))


def _report(report: Report, document: Located, found: Iterator[tuple[Keys, str]]) -> None:
    for keys, message in found:
        report.at(document, keys, "schema-accident", message)


def _accidents(schema: Any, keys: Keys) -> Iterator[tuple[Keys, str]]:
    where = ".".join(str(k) for k in keys) or "the schema"
    if schema is None:
        yield keys, f"{where} is empty: YAML reads it as null, which is not a schema"
        return
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if value is not None or not isinstance(key, str) or key in _MAY_BE_NULL:
            continue
        if " " in key.strip():
            yield (
                (*keys, key),
                f"{where} has a key {key!r} with no value: an unquoted comma in a flow mapping "
                "({...}) split the text before it",
            )
        else:
            yield (*keys, key), f"{where}.{key} has no value (YAML reads it as null)"
    for key in _ONE:
        if key in schema and not isinstance(schema[key], bool):
            yield from _accidents(schema[key], (*keys, key))
    for key in _LIST:
        for index, part in enumerate(list_at(schema, key)):
            yield from _accidents(part, (*keys, key, index))
    for key in _NAMED:
        named = schema.get(key)
        for name, part in (named if isinstance(named, dict) else {}).items():
            if not isinstance(part, bool):
                yield from _accidents(part, (*keys, key, name))
