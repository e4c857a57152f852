"""`mscal lint`: check a connector spec and report every problem found, one line each."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, TemplateSyntaxError, meta
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from mscal.errors import ConnectorError
from mscal.guard import FORBIDDEN_HEADERS
from mscal.templating import FILTERS

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# What an operation's `result` expression sees besides its inputs.
RESULT_NAMES = frozenset({"body", "status_code", "headers"})


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    severity: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.severity} {self.rule} {self.message}"


def lint(path: str | Path | None = None, openapi: str | Path | None = None) -> list[Finding]:
    """Every finding for the connector at `path` (and, given an OpenAPI description of Graph,
    every mismatch with it); raises SpecError if the spec cannot be loaded."""
    from mscal.api import Connector
    from mscal.examples import example_problems
    from mscal.spec import load_spec

    connector = Connector(load_spec(path, fresh=True))
    spec = connector.spec
    findings: list[Finding] = []
    manifest_file = str(spec.root / "connector.yaml")

    def add(file: Path | str, severity: str, rule: str, message: str) -> None:
        findings.append(Finding(str(file), severity, rule, message))

    for field in spec.auth_fields:
        if re.search(r"secret|password|token", field.key) and not field.secret:
            add(
                manifest_file,
                "error",
                "auth-secret-unmarked",
                f"auth field {field.key!r} holds a credential but is not marked secret: true",
            )

    for name, operation in spec.operations.items():
        where = operation.source
        if not SNAKE_CASE.match(name):
            add(where, "error", "name-snake-case", f"operation {name!r} is not snake_case")
        for key in ("title", "description"):
            if not getattr(operation, key):
                add(where, "error", f"missing-{key}", f"operation {name!r} has no {key}")
        headers = operation.request.get("headers")
        if isinstance(headers, dict):
            for header in headers:
                if header.lower() in FORBIDDEN_HEADERS:
                    add(
                        where,
                        "error",
                        "forbidden-header",
                        f"operation {name!r} sets {header}, which the runtime owns",
                    )
        for template, allowed in (
            (operation.request, set(operation.input_names)),
            (operation.result, set(operation.input_names) | RESULT_NAMES),
            (operation.upload, set(operation.input_names) | RESULT_NAMES),
        ):
            try:
                unknown = names_used(template, spec.fragments) - allowed
            except TemplateSyntaxError as exc:
                add(where, "error", "template-syntax", f"operation {name!r}: {exc.message}")
                continue
            for variable in sorted(unknown):
                add(
                    where,
                    "error",
                    "template-undeclared",
                    f"operation {name!r} uses {variable!r}, which is not one of its inputs",
                )
        path = operation.request.get("path", "")
        if not str(path).startswith(("/", "{")):
            add(
                where,
                "error",
                "path-relative",
                f"operation {name!r}: path must start with / (relative to the base URL)",
            )
        try:
            described = connector.describe(name)
            for role in ("input_schema", "output_schema"):
                Draft202012Validator.check_schema(described[role])
            connector.compiled(name)
        except SchemaError as exc:
            add(where, "error", "schema-invalid", f"operation {name!r}: {exc.message}")
            continue
        except ConnectorError as exc:
            add(where, "error", "operation-invalid", f"operation {name!r}: {exc}")
            continue
        for index, example in enumerate(operation.examples):
            for problem in example_problems(connector, name, example):
                add(
                    where,
                    "error",
                    "example-mismatch",
                    f"operation {name!r} example {index + 1}: {problem}",
                )
    if openapi is not None:
        from mscal.lint_openapi import Description, openapi_findings

        findings.extend(openapi_findings(connector, Description.load(openapi)))
    return sorted(findings)


_PARSER = Environment()
_PARSER.filters.update(FILTERS)


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
    tree = _PARSER.parse(value)
    names = set(meta.find_undeclared_variables(tree)) - set(_PARSER.globals)
    for included in meta.find_referenced_templates(tree):
        if included is not None and included in fragments and included not in seen:
            names |= names_used(fragments[included], fragments, seen | {included})
    return names


def lint_command(path: str | None, openapi: str | None = None) -> int:
    try:
        findings = lint(path, openapi)
    except ConnectorError as exc:
        print(f"mscal lint: {exc}", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding)
    errors = sum(1 for f in findings if f.severity == "error")
    print(f"{len(findings)} finding(s), {errors} error(s)", file=sys.stderr)
    return 1 if errors else 0
