"""The spec's JSON Schemas: each a valid draft 2020-12 schema (an operation's own as written,
each file in schemas/ once), using only the formats the input validator checks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mscal.call.formats import FORMATS
from mscal.lint.report import Keys, Report, short
from mscal.lint.validators import json_schema_meta
from mscal.spec.positions import Located

_DATA_KEYS = frozenset({"examples", "default", "const", "enum"})
# Where each of an operation's schemas is written in its file.
SCHEMA_KEYS = (("input_schema", "inputs"), ("output_schema", "output"))


def check_operation_schemas(
    report: Report,
    document: Located,
    base: Keys,
    name: str,
    own: Mapping[str, Any],
    resolved: Mapping[str, Any],
) -> bool:
    """Report an invalid schema (`own`: as written, its references not followed, since each
    file is checked once) and unknown formats (`resolved`: everywhere it reaches); whether both
    of the operation's schemas are valid."""
    valid = True
    for role, key in SCHEMA_KEYS:
        error = json_schema_meta().best_error(own[role])
        if error is not None:
            valid = False
            report.at(
                document,
                (*base, key),
                "schema-invalid",
                f"operation {name!r}: {short(error.message)}",
            )
        for where, fmt in _formats(resolved[role], ()):
            if fmt not in FORMATS:
                report.at(
                    document,
                    (*base, key, *where),
                    "format-unknown",
                    f"operation {name!r}: format {fmt!r} is not checked by the validator",
                )
    return valid


def check_schema_files(report: Report, schema_files: list[Located]) -> bool:
    """Check each schema file once; whether any is broken."""
    broken = False
    for document in schema_files:
        error = json_schema_meta().best_error(document.data)
        if error is not None:
            broken = True
            report.at(
                document,
                tuple(error.absolute_path),
                "schema-invalid",
                f"{document.path.name}: {short(error.message)}",
            )
    return broken


def _formats(schema: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """Each `format` in a schema, with the property path it is under."""
    if isinstance(schema, dict):
        if isinstance(schema.get("format"), str):
            yield path, schema["format"]
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                for prop, sub in value.items():
                    yield from _formats(sub, (*path, prop))
            elif isinstance(value, (dict, list)) and key not in _DATA_KEYS:
                yield from _formats(value, path)
    elif isinstance(schema, list):
        for item in schema:
            yield from _formats(item, path)
