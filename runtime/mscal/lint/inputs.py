"""The names templates read: each one an input of its operation (or, in the OAuth templates,
a field of the authentication form), and each input read by something."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import TemplateSyntaxError

from mscal.call.paging import FOLLOW_ALL, MAX_ITEMS
from mscal.lint.report import Keys, Report, list_at
from mscal.spec.load import Operation
from mscal.spec.positions import Located
from mscal.templates.analysis import Analysis

# What an operation's `result` expression and `upload` step see besides its inputs.
RESULT_NAMES = frozenset({"body", "status_code", "headers"})
# What the OAuth templates see besides the authentication form's fields.
AUTH_NAMES = frozenset({"resource"})


def check_auth_templates(report: Report, manifest: Located, analysis: Analysis) -> None:
    """The OAuth templates are rendered with the auth form's fields (and `resource`) only."""
    authentication = (
        manifest.data.get("authentication") if isinstance(manifest.data, dict) else None
    )
    if not isinstance(authentication, dict) or not isinstance(authentication.get("oauth2"), dict):
        return
    fields = {str(f.get("key")) for f in list_at(authentication, "fields") if isinstance(f, dict)}
    for key, template in authentication["oauth2"].items():
        where = ("authentication", "oauth2", key)
        try:
            unknown = analysis.names_used(template) - fields - AUTH_NAMES
        except TemplateSyntaxError as exc:
            report.in_template(
                manifest, where, exc.lineno or 1, "template-syntax", f"oauth2.{key}: {exc.message}"
            )
            continue
        for name in sorted(unknown):
            report.at(
                manifest,
                where,
                "template-undeclared",
                f"oauth2.{key} uses {name!r}, which is not an authentication field",
            )


def check_operation_templates(
    report: Report, document: Located, base: Keys, operation: Operation, analysis: Analysis
) -> None:
    """Every name the request, result and upload read is declared; every input is read."""
    name = operation.name
    inputs = set(operation.input_names)
    used: set[str] = set()
    parts: tuple[tuple[str, Any, set[str] | frozenset[str]], ...] = (
        ("request", operation.request, inputs),
        ("result", operation.result, inputs | RESULT_NAMES),
        ("upload", operation.upload, inputs | RESULT_NAMES),
    )
    for key, template, allowed in parts:
        try:
            names = analysis.names_used(template)
        except TemplateSyntaxError as exc:
            where, line, message = _broken_string(analysis, template, (*base, key), exc)
            report.in_template(
                document, where, line, "template-syntax", f"operation {name!r}: {message}"
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


def _broken_string(
    analysis: Analysis, template: Any, keys: Keys, error: TemplateSyntaxError
) -> tuple[Keys, int, str]:
    """Which string of a request (a dict of templates) does not parse, and at which of its
    lines: the finding goes there, not to the `request:` key. A fragment it includes that does
    not parse leaves the error at `keys`."""
    for sub, text in _strings(template, ()):
        try:
            analysis.facts(text)
        except TemplateSyntaxError as exc:
            return (*keys, *sub), exc.lineno or 1, str(exc.message)
    return keys, 1, str(error.message)


def _strings(value: Any, keys: Keys) -> Iterator[tuple[Keys, str]]:
    if isinstance(value, str):
        yield keys, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(inner, (*keys, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _strings(inner, (*keys, index))
