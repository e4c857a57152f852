"""`lint()`: every problem in a connector spec, each at the line and column it was written.

Three passes, one report: the files against their meta-schemas (structure.py); the raw
documents, as written (structure.py, requests.py, inputs.py); then, with the spec loaded by the
runtime, what only the runtime can tell: the inputs templates use (inputs.py, requests.py),
schemas (schemas.py), UI hints (hints.py), examples replayed (examples.py), and the optional
OpenAPI cross-check (openapi.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mscal.connector import Connector
from mscal.errors import ConnectorError, SpecError
from mscal.lint.accidents import check_schema_accidents
from mscal.lint.examples import check_examples
from mscal.lint.hints import Describe, check_hints
from mscal.lint.inputs import check_auth_templates, check_operation_templates
from mscal.lint.openapi import Description, openapi_findings
from mscal.lint.report import Keys, LintAbortError, Place, Report, list_at
from mscal.lint.requests import check_path_params, check_request
from mscal.lint.rules import RULES, Finding
from mscal.lint.schemas import check_operation_schemas, check_schema_files
from mscal.lint.structure import (
    check_declaration,
    check_meta,
    check_refs,
    check_secret_fields,
    check_unused_schema_files,
    place_operations,
)
from mscal.lint.triggers import check_trigger_examples
from mscal.lint.validators import spec_meta_schemas
from mscal.spec.cache import ParsedFiles, cache_dir
from mscal.spec.load import default_spec_root, load_spec
from mscal.spec.positions import Located
from mscal.templates.analysis import Analysis


def lint(path: str | Path | None = None, openapi: str | Path | None = None) -> list[Finding]:
    """Every finding for the connector at `path` (default: the shipped one). A file that cannot
    be read as YAML is a yaml-invalid finding; the other files are still checked."""
    root = Path(path) if path is not None else default_spec_root()
    root = (root.parent if root.is_file() else root).resolve()
    # Apart from the loader's cache of the same files: these entries carry positions too.
    files = ParsedFiles(root, cache_dir() / "lint")
    report = Report(files)
    manifest = report.load(root / "connector.yaml")
    operation_files = [
        report.load(root / str(p))
        for p in list_at(manifest.data, "operations")
        if isinstance(p, str)
    ]
    trigger_files = [
        report.load(root / str(p)) for p in list_at(manifest.data, "triggers") if isinstance(p, str)
    ]
    schema_files = [report.load(p) for p in sorted((root / "schemas").glob("*.yaml"))]

    # The meta-schemas shipped with the runtime describe every spec it can load.
    meta_schemas = spec_meta_schemas(default_spec_root() / "schemas")
    check_meta(report, meta_schemas, manifest, operation_files, trigger_files)
    places = _check_raw(report, manifest, operation_files)
    check_schema_accidents(report, manifest, operation_files, schema_files)
    # The runtime cannot load a spec with a file that is not YAML: the checks that need it wait
    # until that file is fixed; every other file's findings are in this run.
    connector = None if report.unreadable else _runtime(report, root, manifest)
    if connector is not None:
        analysis = Analysis(connector.spec.fragments)
        _check_loaded(report, connector, analysis, places, manifest, schema_files)
        check_trigger_examples(report, connector, trigger_files)
        if openapi is not None:
            description = Description.load(openapi)
            for name, rule, message in openapi_findings(connector, description, analysis):
                document, index = places[name]
                report.at(document, ("operations", index, "request", "path"), rule, message)
    files.save()
    return report.sorted()


def _check_raw(
    report: Report, manifest: Located, operation_files: list[Located]
) -> dict[str, Place]:
    """Pass 2, on the documents as written; returns where each operation is."""
    traits = manifest.data.get("traits") if isinstance(manifest.data, dict) else None
    traits = traits if isinstance(traits, dict) else {}
    check_secret_fields(report, manifest)
    # The OAuth templates include no fragments: they are rendered outside any operation.
    check_auth_templates(report, manifest, Analysis({}))
    places = place_operations(report, operation_files)
    for document in operation_files:
        for index, raw in enumerate(list_at(document.data, "operations")):
            if isinstance(raw, dict):
                check_declaration(report, document, ("operations", index), raw, traits)
                check_request(report, document, ("operations", index), raw)
    return places


def _runtime(report: Report, root: Path, manifest: Located) -> Connector | None:
    """The spec as the runtime loads it, or None (reported) when it cannot."""
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
    connector: Connector,
    analysis: Analysis,
    places: dict[str, Place],
    manifest: Located,
    schema_files: list[Located],
) -> None:
    """Pass 3, on the spec the runtime loaded."""
    spec = connector.spec
    documents = [manifest, *{d.path: d for d, _ in places.values()}.values()]
    referenced = check_refs(report, documents, schema_files)
    broken = check_schema_files(report, schema_files)
    for name, operation in spec.operations.items():
        document, index = places.get(name, (manifest, 0))
        base: Keys = ("operations", index)
        try:
            described = connector.describe(name)
        except ConnectorError:
            continue  # an unresolvable $ref, reported where it is written
        check_operation_templates(report, document, base, operation, analysis)
        check_path_params(report, document, base, operation, analysis, described["input_schema"])
        resolver = spec.registry.resolver()
        own = {
            role: resolver.lookup(getattr(operation, role)["$ref"]).contents
            for role in ("input_schema", "output_schema")
        }
        if not check_operation_schemas(report, document, base, name, own, described) or broken:
            continue  # the runtime cannot validate with a broken schema
        check_hints(report, document, base, name, described["input_schema"], _describer(connector))
        try:
            connector.compiled(name)
        except ConnectorError as exc:
            if not report.has("template-syntax", document, f"operation {name!r}:"):
                report.at(
                    document, (*base, "request"), "template-syntax", f"operation {name!r}: {exc}"
                )
            continue
        check_examples(report, document, base, connector, name, described["output_schema"])
    check_unused_schema_files(report, schema_files, referenced)


def _describer(connector: Connector) -> Describe:
    """What x-lookup targets resolve to: the described operation, None for an unknown name."""

    def describe(name: str) -> dict[str, Any] | None:
        return connector.describe(name) if name in connector.spec.operations else None

    return describe


__all__ = ["RULES", "Finding", "LintAbortError", "lint"]
