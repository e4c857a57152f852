"""Schemas the linter checks documents against, each built once: jsonschema-rs says quickly
whether a document is valid, and only an invalid one is read again by jsonschema, whose errors
(their paths, `best_match`) the findings are made of."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

# The spec's own meta-schemas, which refer to each other by their $id.
SPEC_META_SCHEMAS = ("connector.schema.json", "operations.schema.json", "triggers.schema.json")


class CheckedSchema:
    """One schema, compiled once for the yes-or-no answer and explained only when it is no."""

    def __init__(self, schema: Mapping[str, Any], resources: Mapping[str, Any] | None = None):
        self.schema = dict(schema)
        self.resources = dict(resources or {})
        registry = jsonschema_rs.Registry(list(self.resources.items())) if resources else None
        self._fast = jsonschema_rs.validator_for(self.schema, registry=registry)

    @functools.cached_property
    def _explaining(self) -> Draft202012Validator:
        registry: Registry[Any] = Registry().with_resources(
            (uri, Resource.from_contents(contents)) for uri, contents in self.resources.items()
        )
        return Draft202012Validator(self.schema, registry=registry)

    def errors(self, instance: Any) -> list[ValidationError]:
        """Every error jsonschema reports for `instance`; none when jsonschema-rs accepts it."""
        try:
            if self._fast.is_valid(instance):
                return []
        except ValueError:
            pass  # data jsonschema-rs cannot take (a YAML date, an integer key): jsonschema decides
        return list(self._explaining.iter_errors(instance))

    def best_error(self, instance: Any) -> ValidationError | None:
        """The error jsonschema's `best_match` picks, or None when `instance` is valid."""
        best: ValidationError | None = best_match(self.errors(instance))
        return best


@functools.cache
def json_schema_meta() -> CheckedSchema:
    """The JSON Schema 2020-12 meta-schema: what every schema in a spec must be."""
    return CheckedSchema(Draft202012Validator.META_SCHEMA)


def spec_meta_schemas(directory: Path) -> dict[str, CheckedSchema]:
    """The spec's meta-schemas in `directory`, by file name, each able to follow the other."""
    loaded = {
        name: json.loads((directory / name).read_text(encoding="utf-8"))
        for name in SPEC_META_SCHEMAS
    }
    resources = {schema["$id"]: schema for schema in loaded.values()}
    return {name: CheckedSchema(schema, resources) for name, schema in loaded.items()}
