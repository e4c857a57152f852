"""`mscal lint`: every problem in a connector spec, each at the line and column it was written.

Three passes, one report: the files against their meta-schemas; the raw documents (names,
methods, paths, headers, literal places); then, with the spec loaded by the runtime, what only
the runtime can tell (templates and the inputs they use, schemas, examples, lookups, and the
optional OpenAPI cross-check).
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, meta, nodes
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from mscal.call.guard import ALLOWED_METHODS, FORBIDDEN_HEADERS
from mscal.call.paging import FOLLOW_ALL, MAX_ITEMS
from mscal.call.validation import FORMAT_CHECKER
from mscal.errors import ConnectorError, SpecError
from mscal.lint.rules import RULES, Finding
from mscal.spec.positions import Located, YamlError, load_located
from mscal.templates.render import FILTERS, GLOBALS

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# What an operation's `result` expression and `upload` step see besides its inputs.
RESULT_NAMES = frozenset({"body", "status_code", "headers"})
_LITERAL_KEYS = ("name", "title", "description", "group")
_TEMPLATE = re.compile(r"\{\{|\{%")
_PARSER = Environment()
_PARSER.filters.update(FILTERS)
_PARSER.globals.update(GLOBALS)
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)


@functools.lru_cache(maxsize=1024)
def _parse(source: str) -> nodes.Template:
    """Parse a template once: shared fragments are read by many operations."""
    return _PARSER.parse(source)


class LintAbortError(Exception):
    """The linter could not run (a file unreadable or not YAML); carries the positioned finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(str(finding))
        self.finding = finding


class Report:
    """Collects findings, placed at the line and column of the keys they are about."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.documents: dict[Path, Located] = {}

    def at(self, document: Located, keys: tuple[str | int, ...], rule: str, message: str) -> None:
        line, column = document.where(*keys)
        self.findings.append(Finding.make(str(document.path), line, column, rule, message))


def _load(report: Report, path: Path) -> Located:
    try:
        document = load_located(path)
    except YamlError as exc:
        raise LintAbortError(
            Finding.make(str(exc.path), exc.line, exc.column, "yaml-invalid", exc.message)
        ) from None
    report.documents[path] = document
    return document


def lint(path: str | Path | None = None, openapi: str | Path | None = None) -> list[Finding]:
    """Every finding for the connector at `path` (default: the shipped one). Raises LintAbortError
    when a file cannot be read as YAML."""
    from mscal.spec.load import default_spec_root

    root = Path(path) if path is not None else default_spec_root()
    root = (root.parent if root.is_file() else root).resolve()
    report = Report()
    manifest = _load(report, root / "connector.yaml")
    operation_files = [
        _load(report, root / str(p))
        for p in _list(manifest.data, "operations")
        if isinstance(p, str)
    ]
    schema_files = [_load(report, p) for p in sorted((root / "schemas").glob("*.yaml"))]

    _check_meta(report, manifest, operation_files)
    places = _check_raw(report, manifest, operation_files)
    connector = _runtime(report, root, manifest)
    if connector is not None:
        _check_loaded(report, connector, places, manifest, schema_files)
        if openapi is not None:
            from mscal.lint.openapi import Description, openapi_findings

            for name, rule, message in openapi_findings(connector, Description.load(openapi)):
                document, index = places[name]
                report.at(document, ("operations", index, "request", "path"), rule, message)
    return sorted(set(report.findings))


def _list(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, Mapping) else None
    return value if isinstance(value, list) else []


# -- pass 1: meta-schemas --------------------------------------------------------------------


META_SCHEMAS = ("connector.schema.json", "operations.schema.json")


def _meta_validator(name: str) -> Draft202012Validator:
    """A validator for one of the spec's meta-schemas (they refer to each other)."""
    from referencing import Registry, Resource

    from mscal.spec.load import default_spec_root

    loaded = {
        n: json.loads((default_spec_root() / "schemas" / n).read_text(encoding="utf-8"))
        for n in META_SCHEMAS
    }
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in loaded.values()
    )
    return Draft202012Validator(loaded[name], registry=registry)


def _check_meta(report: Report, manifest: Located, operation_files: list[Located]) -> None:
    for document, validator in [
        (manifest, _meta_validator("connector.schema.json")),
        *((d, _meta_validator("operations.schema.json")) for d in operation_files),
    ]:
        for error in validator.iter_errors(document.data):
            keys = tuple(error.absolute_path)
            if error.validator == "additionalProperties":
                extra = sorted(
                    set(error.instance) - set((error.schema or {}).get("properties", {}))
                )
                keys = (*keys, extra[0]) if extra else keys
                message = f"unknown key {extra[0]!r}" if extra else error.message
            elif error.validator == "required":
                message = error.message.replace(" is a required property", " is required")
            else:
                message = _short(error.message)
            where = ".".join(str(k) for k in error.absolute_path) or "the document"
            report.at(document, keys, "meta-schema", f"{where}: {message}")


def _short(text: str) -> str:
    return text if len(text) <= 160 else text[:157] + "..."


# -- pass 2: the raw documents ---------------------------------------------------------------


def _check_raw(
    report: Report, manifest: Located, operation_files: list[Located]
) -> dict[str, tuple[Located, int]]:
    traits = manifest.data.get("traits") if isinstance(manifest.data, dict) else None
    traits = traits if isinstance(traits, dict) else {}
    for index, field in enumerate(_list(manifest.data.get("authentication") or {}, "fields")):
        if (
            isinstance(field, dict)
            and re.search(r"secret|password|token", str(field.get("key", "")))
            and not field.get("secret")
        ):
            report.at(
                manifest,
                ("authentication", "fields", index, "key"),
                "auth-secret-unmarked",
                f"auth field {field.get('key')!r} holds a credential but is not marked secret",
            )
    _check_auth_templates(report, manifest)
    places: dict[str, tuple[Located, int]] = {}
    for document in operation_files:
        for index, raw in enumerate(_list(document.data, "operations")):
            if not isinstance(raw, dict):
                continue
            name = str(raw.get("name", ""))
            at = (document, ("operations", index))
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
            _check_operation(report, at, raw, traits)
    return places


def _check_auth_templates(report: Report, manifest: Located) -> None:
    """The OAuth templates are rendered with the auth form's fields (and `resource`) only."""
    authentication = (
        manifest.data.get("authentication") if isinstance(manifest.data, dict) else None
    )
    if not isinstance(authentication, dict) or not isinstance(authentication.get("oauth2"), dict):
        return
    fields = {str(f.get("key")) for f in _list(authentication, "fields") if isinstance(f, dict)}
    for key, template in authentication["oauth2"].items():
        try:
            unknown = names_used(template, {}) - fields - {"resource"}
        except TemplateSyntaxError as exc:
            report.at(
                manifest,
                ("authentication", "oauth2", key),
                "template-syntax",
                f"oauth2.{key}: {exc.message}",
            )
            continue
        for name in sorted(unknown):
            report.at(
                manifest,
                ("authentication", "oauth2", key),
                "template-undeclared",
                f"oauth2.{key} uses {name!r}, which is not an authentication field",
            )


def _check_operation(
    report: Report,
    at: tuple[Located, tuple[str | int, ...]],
    raw: dict[str, Any],
    traits: dict[str, Any],
) -> None:
    document, base = at
    name = str(raw.get("name", ""))
    if name and not SNAKE_CASE.match(name):
        report.at(
            document, (*base, "name"), "name-snake-case", f"operation {name!r} is not snake_case"
        )
    for key in _LITERAL_KEYS:
        if isinstance(raw.get(key), str) and _TEMPLATE.search(raw[key]):
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
    request: dict[str, Any] = raw["request"] if isinstance(raw.get("request"), dict) else {}
    method = request.get("method")
    if (
        isinstance(method, str)
        and not _TEMPLATE.search(method)
        and method.upper() not in ALLOWED_METHODS
    ):
        report.at(
            document,
            (*base, "request", "method"),
            "method-invalid",
            f"operation {name!r}: {method!r} is not an HTTP method the connector sends",
        )
    path = request.get("path")
    if (isinstance(path, str) and not path.startswith(("/", "{%", "{{"))) or (
        isinstance(path, str) and re.match(r"^\w+://|^//", path)
    ):
        report.at(
            document,
            (*base, "request", "path"),
            "path-relative",
            f"operation {name!r}: path {path!r} must start with / after the base URL",
        )
    if (
        isinstance(method, str)
        and method.upper() in {"GET", "DELETE"}
        and request.get("body") is not None
    ):
        report.at(
            document,
            (*base, "request", "body"),
            "body-not-allowed",
            f"operation {name!r}: {method.upper()} requests carry no body",
        )
    headers = request.get("headers")
    for header in headers if isinstance(headers, dict) else []:
        if str(header).lower() in FORBIDDEN_HEADERS:
            report.at(
                document,
                (*base, "request", "headers", header),
                "forbidden-header",
                f"operation {name!r} sets {header}, which the runtime owns",
            )


# -- pass 3: with the runtime ------------------------------------------------------------------


def _runtime(report: Report, root: Path, manifest: Located) -> Any:
    from mscal.connector import Connector
    from mscal.spec.load import load_spec

    try:
        return Connector(load_spec(root, lenient=True))
    except SpecError as exc:
        message = str(exc)
        named = [d for d in report.documents.values() if message.startswith(f"{d.path}:")]
        document = named[0] if named else manifest
        report.at(document, (), "spec-load", message.removeprefix(f"{document.path}: "))
        return None


def _check_loaded(
    report: Report,
    connector: Any,
    places: dict[str, tuple[Located, int]],
    manifest: Located,
    schema_files: list[Located],
) -> None:
    from mscal.lint.examples import example_problems

    spec = connector.spec
    referenced = _check_refs(
        report, [manifest, *{d.path: d for d, _ in places.values()}.values()], schema_files
    )
    broken = _check_schema_files(report, schema_files)
    for name, operation in spec.operations.items():
        document, index = places.get(name, (manifest, 0))
        base: tuple[str | int, ...] = ("operations", index)
        try:
            described = connector.describe(name)
        except ConnectorError:
            continue  # an unresolvable $ref, reported where it is written
        _check_templates(
            report,
            document,
            base,
            operation,
            spec.fragments,
            set(described["input_schema"].get("required") or []),
            described["input_schema"].get("dependentRequired") or {},
        )
        own = {
            role: spec.registry.resolver().lookup(getattr(operation, role)["$ref"]).contents
            for role in ("input_schema", "output_schema")
        }
        if not _check_schemas(report, document, base, name, described, own) or broken:
            continue  # the runtime cannot validate with a broken schema
        _check_hints(report, connector, document, base, name, described)
        try:
            connector.compiled(name)
        except ConnectorError as exc:
            report.at(document, (*base, "request"), "template-syntax", f"operation {name!r}: {exc}")
            continue
        for number, example in enumerate(operation.examples):
            for problem in example_problems(connector, name, example):
                rule = (
                    "example-invalid"
                    if problem.startswith("does not render")
                    else "example-mismatch"
                )
                report.at(
                    document,
                    (*base, "examples", number),
                    rule,
                    f"operation {name!r} example {number + 1}: {problem}",
                )
            output_schema = Draft202012Validator(
                described["output_schema"], format_checker=FORMAT_CHECKER
            )
            if "output" in example and not output_schema.is_valid(example["output"]):
                report.at(
                    document,
                    (*base, "examples", number, "output"),
                    "example-output-schema",
                    f"operation {name!r} example {number + 1}: output does not fit its schema",
                )
    for document in schema_files:
        if document.path.name not in referenced:
            report.at(
                document,
                (),
                "schema-unused",
                f"schema {document.path.name} is used by no operation",
            )


def _check_refs(report: Report, documents: list[Located], schema_files: list[Located]) -> set[str]:
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


def _refs(node: Any, keys: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield keys, node["$ref"]
        for key, value in node.items():
            if key not in {"examples", "default", "const", "enum"}:
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


def _check_templates(
    report: Report,
    document: Located,
    base: tuple[str | int, ...],
    operation: Any,
    fragments: Mapping[str, str],
    required: set[str],
    dependent: Mapping[str, list[str]],
) -> None:
    name = operation.name
    inputs = set(operation.input_names)
    used: set[str] = set()
    for key, template, allowed in (
        ("request", operation.request, inputs),
        ("result", operation.result, inputs | RESULT_NAMES),
        ("upload", operation.upload, inputs | RESULT_NAMES),
    ):
        try:
            names = names_used(template, fragments)
        except TemplateSyntaxError as exc:
            report.at(
                document, (*base, key), "template-syntax", f"operation {name!r}: {exc.message}"
            )
            continue
        used |= names
        for variable in sorted(names - allowed):
            report.at(
                document,
                (*base, key),
                "template-undeclared",
                f"operation {name!r} uses {variable!r}, which is not one of its inputs",
            )
    # The pager, not a template, reads the paging inputs and the links a listing resumes from.
    paging = {FOLLOW_ALL, MAX_ITEMS, *operation.pagination.get("resume_inputs", ["next_link"])}
    for unused in sorted(inputs - used - (paging if operation.paginated else set())):
        report.at(
            document,
            (*base, "inputs", unused),
            "input-unused",
            f"operation {name!r}: input {unused!r} is not used by the request",
        )
    path = str(operation.request.get("path", ""))
    try:
        printed = _printed(path, fragments)
    except TemplateSyntaxError:
        return
    for variable in sorted(
        {
            name
            for name, guards in printed
            if name in inputs and not _present(name, guards, required, dependent)
        }
    ):
        report.at(
            document,
            (*base, "request", "path"),
            "path-param-optional",
            f"operation {name!r}: path prints {variable!r}, which is optional",
        )


def _present(
    name: str, guards: frozenset[str], required: set[str], dependent: Mapping[str, list[str]]
) -> bool:
    """Whether an input is sure to be given where it is printed: it is required, an enclosing
    {% if %} tests it, or an input that an enclosing {% if %} tests requires it."""
    return name in required or name in guards or any(name in dependent.get(g, ()) for g in guards)


def _names(expression: nodes.Node) -> set[str]:
    """Variable names in an expression, the expression itself included (find_all skips it)."""
    found = {n.name for n in expression.find_all(nodes.Name)}
    if isinstance(expression, nodes.Name):
        found.add(expression.name)
    return found


def _printed(
    source: str, fragments: Mapping[str, str], seen: frozenset[str] = frozenset()
) -> list[tuple[str, frozenset[str]]]:
    """Each name printed with {{ }}, with the names its enclosing {% if %} tests guard it by."""
    tree = _parse(source)
    found: list[tuple[str, frozenset[str]]] = []

    def walk(node: nodes.Node, guards: frozenset[str]) -> None:
        if isinstance(node, nodes.If):
            for child in node.body:
                walk(child, guards | _names(node.test))
            for child in [*node.elif_, *node.else_]:
                walk(child, guards)
            return
        if isinstance(node, nodes.Output):
            for expression in node.nodes:
                if not isinstance(expression, nodes.TemplateData):
                    found.extend((name, guards) for name in _names(expression))
            return
        if isinstance(node, nodes.Include):
            target = getattr(node.template, "value", None)
            if isinstance(target, str) and target in fragments and target not in seen:
                inner = _printed(fragments[target], fragments, seen | {target})
                found.extend((name, guards | inner_guards) for name, inner_guards in inner)
            return
        for child in node.iter_child_nodes():
            walk(child, guards)

    walk(tree, frozenset())
    return found


def _check_schemas(
    report: Report,
    document: Located,
    base: tuple[str | int, ...],
    name: str,
    described: dict[str, Any],
    raw: dict[str, Any],
) -> bool:
    """Report invalid schemas and unknown formats; whether both schemas are valid."""
    valid = True
    for role, key in (("input_schema", "inputs"), ("output_schema", "output")):
        # The operation's own schema, as written: referenced files are checked once each.
        error = best_match(_META.iter_errors(raw[role]))
        if error is not None:
            valid = False
            report.at(
                document,
                (*base, key),
                "schema-invalid",
                f"operation {name!r}: {_short(error.message)}",
            )
        for where, fmt in _formats(described[role]):
            if fmt not in FORMAT_CHECKER.checkers:
                report.at(
                    document,
                    (*base, key, *where),
                    "format-unknown",
                    f"operation {name!r}: format {fmt!r} is not checked by the validator",
                )
    return valid


def _check_schema_files(report: Report, schema_files: list[Located]) -> bool:
    """Check each schema file once; whether any is broken."""
    broken = False
    for document in schema_files:
        error = best_match(_META.iter_errors(document.data))
        if error is not None:
            broken = True
            report.at(
                document,
                tuple(error.absolute_path),
                "schema-invalid",
                f"{document.path.name}: {_short(error.message)}",
            )
    return broken


def _formats(schema: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(schema, dict):
        if isinstance(schema.get("format"), str):
            yield path, schema["format"]
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                for prop, sub in value.items():
                    yield from _formats(sub, (*path, prop))
            elif isinstance(value, (dict, list)) and key not in {
                "examples",
                "default",
                "const",
                "enum",
            }:
                yield from _formats(value, path)
    elif isinstance(schema, list):
        for item in schema:
            yield from _formats(item, path)


def _check_hints(
    report: Report,
    connector: Any,
    document: Located,
    base: tuple[str | int, ...],
    name: str,
    described: dict[str, Any],
) -> None:
    """UI hints: lookups (dynamic dropdowns) and conditions refer to things that exist."""
    properties = described["input_schema"].get("properties") or {}
    for field, schema in properties.items():
        lookup = schema.get("x-lookup") if isinstance(schema, dict) else None
        if isinstance(lookup, dict):
            target = str(lookup.get("operation", ""))
            if target not in connector.spec.operations:
                report.at(
                    document,
                    (*base, "inputs", field),
                    "lookup-operation",
                    f"operation {name!r}: input {field!r} looks up unknown operation {target!r}",
                )
            else:
                items = (
                    (connector.describe(target)["output_schema"].get("properties") or {})
                    .get("value", {})
                    .get("items", {})
                )
                for role in ("value", "label"):
                    if not _has_path(items, str(lookup.get(role, ""))):
                        report.at(
                            document,
                            (*base, "inputs", field),
                            "lookup-path",
                            f"operation {name!r}: input {field!r} looks up {role} "
                            f"{lookup.get(role)!r}, which {target} does not return",
                        )
        condition = schema.get("x-condition") if isinstance(schema, dict) else None
        if isinstance(condition, dict) and condition.get("field") not in properties:
            report.at(
                document,
                (*base, "inputs", field),
                "condition-field",
                f"operation {name!r}: input {field!r} depends on unknown input "
                f"{condition.get('field')!r}",
            )


def _has_path(schema: Any, dotted: str) -> bool:
    node = schema
    for part in dotted.split(".") if dotted else []:
        props = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(props, dict) or part not in props:
            return False
        node = props[part]
    return bool(dotted)


def names_used(
    value: object, fragments: Mapping[str, str], seen: frozenset[str] = frozenset()
) -> set[str]:
    """Every variable the templates in `value` read, following {% include %} into fragments."""
    if isinstance(value, dict):
        return set().union(*(names_used(v, fragments, seen) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(names_used(v, fragments, seen) for v in value))
    if not isinstance(value, str):
        return set()
    tree = _parse(value)
    names = set(meta.find_undeclared_variables(tree)) - set(_PARSER.globals)
    for included in meta.find_referenced_templates(tree):
        if included is not None and included in fragments and included not in seen:
            names |= names_used(fragments[included], fragments, seen | {included})
    return names


# -- the command ---------------------------------------------------------------------------


def lint_command(
    path: str | None, openapi: str | None = None, output: str = "text", diff: str | None = None
) -> int:
    from mscal.lint.output import render

    try:
        findings = lint(path, openapi)
        if diff is not None:
            from mscal.lint.diff import breaking_changes

            findings = sorted(set(findings) | set(breaking_changes(diff, path)))
    except LintAbortError as exc:
        sys.stdout.write(render([exc.finding], output))
        print("the linter could not run", file=sys.stderr)
        return 2
    except ConnectorError as exc:
        print(f"mscal lint: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(findings, output))
    errors = sum(1 for f in findings if f.severity == "error")
    print(f"{len(findings)} finding(s), {errors} error(s)", file=sys.stderr)
    return 1 if errors else 0


__all__ = ["RULES", "Finding", "LintAbortError", "lint", "lint_command", "names_used"]
