"""What an operation sends: its method, its path (after the base URL, printing only inputs that
are sure to be given), a body only where the method takes one, and no header the runtime
owns."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jinja2 import TemplateSyntaxError

from mscal.call.guard import ALLOWED_METHODS, FORBIDDEN_HEADERS
from mscal.lint.report import Keys, Report
from mscal.spec.load import Operation
from mscal.spec.positions import Located
from mscal.templates.analysis import Analysis, is_literal

_ABSOLUTE = re.compile(r"^\w+://|^//")
_BODILESS = frozenset({"GET", "DELETE"})


def check_request(report: Report, document: Located, base: Keys, raw: dict[str, Any]) -> None:
    """The request as written: method, path, body and headers."""
    name = str(raw.get("name", ""))
    request: dict[str, Any] = raw["request"] if isinstance(raw.get("request"), dict) else {}
    method = request.get("method")
    if isinstance(method, str) and is_literal(method) and method.upper() not in ALLOWED_METHODS:
        report.at(
            document,
            (*base, "request", "method"),
            "method-invalid",
            f"operation {name!r}: {method!r} is not an HTTP method the connector sends",
        )
    path = request.get("path")
    if isinstance(path, str) and (not path.startswith(("/", "{%", "{{")) or _ABSOLUTE.match(path)):
        report.at(
            document,
            (*base, "request", "path"),
            "path-relative",
            f"operation {name!r}: path {path!r} must start with / after the base URL",
        )
    if isinstance(method, str) and method.upper() in _BODILESS and request.get("body") is not None:
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


def check_path_params(
    report: Report,
    document: Located,
    base: Keys,
    operation: Operation,
    analysis: Analysis,
    input_schema: Mapping[str, Any],
) -> None:
    """Each input the path prints is required, or printed only inside an `{% if %}` that tests
    it (or tests an input that requires it)."""
    inputs = set(operation.input_names)
    required = set(input_schema.get("required") or [])
    dependent: Mapping[str, list[str]] = input_schema.get("dependentRequired") or {}
    try:
        printed = analysis.printed(str(operation.request.get("path", "")))
    except TemplateSyntaxError:
        return  # reported as template-syntax
    optional = {
        name
        for name, guards in printed
        if name in inputs
        and name not in required
        and name not in guards
        and not any(name in dependent.get(guard, ()) for guard in guards)
    }
    for variable in sorted(optional):
        report.at(
            document,
            (*base, "request", "path"),
            "path-param-optional",
            f"operation {operation.name!r}: path prints {variable!r}, which is optional",
        )
