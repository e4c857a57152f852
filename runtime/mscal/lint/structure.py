"""The spec's shape, read from the raw documents: each file against its meta-schema, operation
names, traits, titles, credentials marked secret, and the $refs between files (with the schema
files nothing uses)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from mscal.lint.report import Keys, Place, Report, list_at, short
from mscal.lint.validators import CheckedSchema
from mscal.spec.positions import Located
from mscal.templates.analysis import is_literal

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_CREDENTIAL = re.compile(r"secret|password|token")
# Keys that are shown as written: a template there is never rendered.
_LITERAL_KEYS = ("name", "title", "description", "group")
# Keys whose values are data, not schema: a "$ref" inside them is not a reference.
_DATA_KEYS = frozenset({"examples", "default", "const", "enum"})


def check_meta(
    report: Report,
    meta_schemas: dict[str, CheckedSchema],
    manifest: Located,
    operation_files: list[Located],
    trigger_files: Sequence[Located] = (),
) -> None:
    """Each file against its meta-schema, every error at the key it is about."""
    for document, meta in [
        (manifest, meta_schemas["connector.schema.json"]),
        *((d, meta_schemas["operations.schema.json"]) for d in operation_files),
        *((d, meta_schemas["triggers.schema.json"]) for d in trigger_files),
    ]:
        if document.path in report.unreadable:
            continue  # reported as yaml-invalid; the other files are still checked
        for error in meta.errors(document.data):
            keys: Keys = tuple(error.absolute_path)
            if error.validator == "additionalProperties":
                schema = error.schema if isinstance(error.schema, dict) else {}
                instance = error.instance if isinstance(error.instance, dict) else {}
                extra = sorted(set(instance) - set(schema.get("properties", {})))
                keys = (*keys, extra[0]) if extra else keys
                message = f"unknown key {extra[0]!r}" if extra else error.message
            elif error.validator == "required":
                message = error.message.replace(" is a required property", " is required")
            else:
                message = short(error.message)
            where = ".".join(str(k) for k in error.absolute_path) or "the document"
            report.at(document, keys, "meta-schema", f"{where}: {message}")


def check_secret_fields(report: Report, manifest: Located) -> None:
    """An auth field that holds a credential is marked secret (so builders mask it)."""
    authentication = manifest.data.get("authentication") if isinstance(manifest.data, dict) else {}
    for index, field in enumerate(list_at(authentication or {}, "fields")):
        if (
            isinstance(field, dict)
            and _CREDENTIAL.search(str(field.get("key", "")))
            and not field.get("secret")
        ):
            report.at(
                manifest,
                ("authentication", "fields", index, "key"),
                "auth-secret-unmarked",
                f"auth field {field.get('key')!r} holds a credential but is not marked secret",
            )


def place_operations(report: Report, operation_files: list[Located]) -> dict[str, Place]:
    """Where each operation was first written; a name declared twice is reported."""
    places: dict[str, Place] = {}
    for document in operation_files:
        for index, raw in enumerate(list_at(document.data, "operations")):
            if not isinstance(raw, dict):
                continue
            name = str(raw.get("name", ""))
            if name in places:
                first = places[name][0].path.name
                report.at(
                    document,
                    ("operations", index, "name"),
                    "name-unique",
                    f"operation {name!r} is declared twice (first in {first})",
                )
            else:
                places[name] = (document, index)
    return places


def check_declaration(
    report: Report, document: Located, base: Keys, raw: dict[str, Any], traits: dict[str, Any]
) -> None:
    """One operation's name, literal keys, title, description, output and traits."""
    name = str(raw.get("name", ""))
    if name and not SNAKE_CASE.match(name):
        report.at(
            document, (*base, "name"), "name-snake-case", f"operation {name!r} is not snake_case"
        )
    for key in _LITERAL_KEYS:
        if isinstance(raw.get(key), str) and not is_literal(raw[key]):
            report.at(
                document,
                (*base, key),
                "template-in-literal",
                f"operation {name!r}: {key} is not rendered",
            )
    for key in ("title", "description"):
        if not raw.get(key):
            report.at(document, (*base, key), f"missing-{key}", f"operation {name!r} has no {key}")
    if not raw.get("output"):
        report.at(
            document,
            (*base, "output"),
            "missing-output",
            f"operation {name!r} has no output schema",
        )
    for index, trait in enumerate(raw.get("traits") or []):
        if trait not in traits:
            report.at(
                document,
                (*base, "traits", index),
                "trait-unknown",
                f"operation {name!r} uses unknown trait {trait!r}",
            )


def check_refs(report: Report, documents: list[Located], schema_files: list[Located]) -> set[str]:
    """Report each $ref that does not resolve, where it is written; return the schema files
    the spec uses (directly or through other schema files)."""
    by_name = {d.path.name: d for d in schema_files}
    used: set[str] = set()
    pending = list(documents)
    while pending:
        document = pending.pop()
        for keys, ref in _refs(document.data, ()):
            file, _, pointer = ref.partition("#")
            target = by_name.get(file) if file else document
            if target is None:
                report.at(
                    document, (*keys, "$ref"), "ref-unresolved", f"$ref {ref!r}: no schemas/{file}"
                )
                continue
            if file and file not in used:
                used.add(file)
                pending.append(target)
            if pointer and _pointer(target.data, pointer) is None:
                report.at(
                    document,
                    (*keys, "$ref"),
                    "ref-unresolved",
                    f"$ref {ref!r}: {pointer} is not in {target.path.name}",
                )
    return used


def check_unused_schema_files(
    report: Report, schema_files: list[Located], referenced: set[str]
) -> None:
    for document in schema_files:
        if document.path.name not in referenced:
            report.at(
                document,
                (),
                "schema-unused",
                f"schema {document.path.name} is used by no operation",
            )


def _refs(node: Any, keys: Keys) -> Iterator[tuple[Keys, str]]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield keys, node["$ref"]
        for key, value in node.items():
            if key not in _DATA_KEYS:
                yield from _refs(value, (*keys, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _refs(item, (*keys, index))


def _pointer(data: Any, pointer: str) -> Any:
    node = data
    for raw in pointer.strip("/").split("/") if pointer.strip("/") else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, dict) else None
    return node
