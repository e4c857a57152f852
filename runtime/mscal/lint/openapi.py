"""`mscal lint --openapi FILE`: check every operation against an OpenAPI description of Graph.

For each operation, every owner form it can take (each combination of the optional inputs that
shape its path, as far as its input schema allows) is rendered with placeholders and looked up:
the path and method must exist, each query option must be accepted there, and each property the
operation can send in a body must be a property of the request schema (or of a type derived from
it, as OData's @odata.type allows). Names compare case-insensitively (Microsoft's descriptions
name action parameters in PascalCase), `fn()` matches `fn`, and `@odata.type` is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateError

from mscal.errors import ConnectorError
from mscal.spec.load import Operation, read_yaml
from mscal.spec.owner_forms import owner_forms
from mscal.templates.analysis import Analysis

if TYPE_CHECKING:
    from mscal.connector import Connector


def normalize(path: str) -> str:
    path = re.sub(r"ZZP\d+ZZ", "{}", path)
    path = re.sub(r"\{[^}/]*\}", "{}", path)
    path = re.sub(r"\(\)(?=/|$)", "", path)
    return path.lower()


class Description:
    """An OpenAPI document, indexed by normalized path."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.paths: dict[str, tuple[str, dict[str, Any]]] = {}
        for raw, item in (document.get("paths") or {}).items():
            self.paths[normalize(raw)] = (raw, item)
        self.schemas: dict[str, Any] = (document.get("components") or {}).get("schemas") or {}

    @classmethod
    def load(cls, path: str | Path) -> Description:
        document = read_yaml(Path(path))
        if not isinstance(document, dict) or "paths" not in document:
            raise ConnectorError(f"{path}: not an OpenAPI document (no 'paths')")
        return cls(document)

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            node = self._pointer(node["$ref"])
        return node

    def _pointer(self, ref: str) -> Any:
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = (
                node.get(part.replace("~1", "/").replace("~0", "~"))
                if isinstance(node, dict)
                else None
            )
        return node

    def parameters(self, path_item: Mapping[str, Any], operation: Mapping[str, Any]) -> set[str]:
        found = set()
        for parameter in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
            resolved = self.resolve(parameter)
            if isinstance(resolved, dict) and resolved.get("in") == "query":
                found.add(str(resolved.get("name", "")).lower())
        return found

    def body_properties(self, operation: Mapping[str, Any]) -> set[str] | None:
        """Property names the request body accepts (lower-cased), or None if it takes no body."""
        body = self.resolve(operation.get("requestBody"))
        if not isinstance(body, dict):
            return None
        schema = ((body.get("content") or {}).get("application/json") or {}).get("schema")
        if schema is None:
            return None
        names = self._properties(schema)
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if isinstance(ref, str):
            for derived in self._derived(ref):
                names |= self._properties({"$ref": derived})
        return names

    def _properties(self, schema: Any, seen: frozenset[str] = frozenset()) -> set[str]:
        names: set[str] = set()
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            if schema["$ref"] in seen:
                return names
            seen = seen | {schema["$ref"]}
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return names
        names |= {str(k).lower() for k in (schema.get("properties") or {})}
        for key in ("allOf", "anyOf", "oneOf"):
            for part in schema.get(key) or []:
                names |= self._properties(part, seen)
        return names

    def _derived(self, ref: str) -> Iterator[str]:
        """Component schemas that extend `ref` (allOf with a $ref to it), transitively."""
        pending, seen = [ref], {ref}
        while pending:
            base = pending.pop()
            for name, schema in self.schemas.items():
                candidate = f"#/components/schemas/{name}"
                bases = [
                    p.get("$ref") for p in (schema or {}).get("allOf") or [] if isinstance(p, dict)
                ]
                if base in bases and candidate not in seen:
                    seen.add(candidate)
                    pending.append(candidate)
                    yield candidate


def openapi_findings(
    connector: Connector, description: Description, analysis: Analysis | None = None
) -> list[tuple[str, str, str]]:
    """(operation, rule, message) for each mismatch; the linter places them in the spec.
    `analysis`: the spec's templates as the linter already parsed them."""
    analysis = analysis or Analysis(connector.spec.fragments)
    findings: list[tuple[str, str, str]] = []
    for operation in connector.spec.operations.values():
        compiled = connector.compiled(operation.name)
        for inputs in owner_forms(connector, operation, analysis):
            findings.extend(_check_form(connector, description, operation, compiled, inputs))
    return sorted(set(findings))


def _check_form(
    connector: Connector,
    description: Description,
    operation: Operation,
    compiled: Any,
    inputs: dict[str, str],
) -> list[tuple[str, str, str]]:
    def finding(rule: str, message: str) -> tuple[str, str, str]:
        return (operation.name, rule, message)

    context = compiled.builder.context(inputs)
    try:
        path = compiled.builder._path.render(context)
        method = str(operation.request["method"]).lower()
    except TemplateError as exc:
        return [finding("openapi-render", f"operation {operation.name!r}: {exc}")]
    shown = re.sub(r"ZZP\d+ZZ", "{…}", path)
    entry = description.paths.get(normalize(path))
    if entry is None:
        return [
            finding(
                "openapi-path",
                f"operation {operation.name!r}: {method.upper()} {shown} is not in the description",
            )
        ]
    raw, item = entry
    if method not in item:
        allowed = ", ".join(m.upper() for m in item if m != "parameters")
        return [
            finding(
                "openapi-method",
                f"operation {operation.name!r}: {raw} has no {method.upper()} (it has {allowed})",
            )
        ]
    problems = []
    accepted = description.parameters(item, item[method])
    query = operation.request.get("query")
    for name in query if isinstance(query, dict) else []:
        if name.lower() not in accepted:
            problems.append(
                finding(
                    "openapi-query",
                    f"operation {operation.name!r}: {method.upper()} {raw} does not accept {name}",
                )
            )
    sent = _body_names(connector, operation)
    if sent:
        known = description.body_properties(item[method])
        if known is None:
            problems.append(
                finding(
                    "openapi-body",
                    f"operation {operation.name!r}: {method.upper()} {raw} takes no request body",
                )
            )
        else:
            for name in sorted(sent - {"@odata.type"}):
                if name.lower() not in known:
                    problems.append(
                        finding(
                            "openapi-body",
                            f"operation {operation.name!r}: {name!r} is not a property of the "
                            f"request body of {method.upper()} {raw}",
                        )
                    )
    return problems


def _body_names(connector: Connector, operation: Operation) -> set[str]:
    """Top-level property names the operation can send in its JSON body."""
    body = operation.request.get("body")
    if isinstance(body, dict):
        return {str(k) for k in body}
    if isinstance(body, str):
        match = re.fullmatch(r"\s*\{\{\s*(\w+)\s*\}\}\s*", body)
        if match:
            schema = (
                connector.describe(operation.name)["input_schema"]["properties"].get(match.group(1))
                or {}
            )
            return _schema_properties(schema)
    return set()


def _schema_properties(schema: dict[str, Any]) -> set[str]:
    names = set(schema.get("properties") or {})
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or []:
            if isinstance(part, dict):
                names |= _schema_properties(part)
    return names
