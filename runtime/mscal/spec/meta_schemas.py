"""The shipped meta-schemas (schemas/connector.schema.json, schemas/operations.schema.json,
schemas/triggers.schema.json): what every connector.yaml, operation file and trigger file the
runtime loads must be.

`load_spec` checks each file once per content (the spec cache keeps the fact, see cache.py):
jsonschema-rs gives the quick yes, and only a file it refuses is read again by jsonschema, whose
`best_match` names the key path and the rule in the SpecError. The validators are compiled only
when a file has to be checked, so a warm start compiles nothing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from mscal.errors import SpecError
from mscal.spec.cache import digest

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

CONNECTOR = "connector.schema.json"
OPERATIONS = "operations.schema.json"
TRIGGERS = "triggers.schema.json"
# They refer to each other by their $id.
NAMES = (CONNECTOR, OPERATIONS, TRIGGERS)
_MESSAGE_CHARS = 200


class MetaSchemaCheck:
    """One meta-schema as a cache `Check`: keyed by the meta-schemas' bytes, so a runtime
    with other meta-schemas checks every file again."""

    def __init__(self, schemas: MetaSchemas, name: str) -> None:
        self.schemas = schemas
        self.name = name
        self.key = f"{name}:{schemas.fingerprint}"

    def __call__(self, document: Any, path: Path) -> None:
        error = self.schemas.best_error(self.name, document)
        if error is not None:
            raise SpecError(f"{path}: {describe(error)}")


class MetaSchemas:
    """The meta-schemas in one directory, read (and hashed) at once, compiled when needed."""

    def __init__(self, directory: Path) -> None:
        try:
            self._raw = {name: (directory / name).read_bytes() for name in NAMES}
        except OSError as exc:
            raise SpecError(f"{directory}: cannot read the meta-schemas: {exc.strerror}") from None
        self.fingerprint = digest(b"".join(self._raw[name] for name in NAMES)).hex()
        self.connector = MetaSchemaCheck(self, CONNECTOR)
        self.operations = MetaSchemaCheck(self, OPERATIONS)
        self.triggers = MetaSchemaCheck(self, TRIGGERS)

    @functools.cached_property
    def contents(self) -> dict[str, dict[str, Any]]:
        return {name: json.loads(raw) for name, raw in self._raw.items()}

    @functools.cached_property
    def _resources(self) -> dict[str, Any]:
        return {schema["$id"]: schema for schema in self.contents.values()}

    @functools.cached_property
    def _fast(self) -> dict[str, Any]:
        # Built here: a warm start finds every file checked in the spec cache and never
        # compiles a meta-schema.
        registry = jsonschema_rs.Registry(list(self._resources.items()))
        return {
            name: jsonschema_rs.validator_for(schema, registry=registry)
            for name, schema in self.contents.items()
        }

    @functools.cached_property
    def _explaining(self) -> dict[str, Draft202012Validator]:
        # Imported here: jsonschema only explains a file jsonschema-rs refused.
        from jsonschema import Draft202012Validator  # noqa: PLC0415
        from referencing import Registry, Resource  # noqa: PLC0415

        registry: Registry[Any] = Registry().with_resources(
            (uri, Resource.from_contents(contents)) for uri, contents in self._resources.items()
        )
        return {
            name: Draft202012Validator(schema, registry=registry)
            for name, schema in self.contents.items()
        }

    def errors(self, name: str, document: Any) -> list[ValidationError]:
        """Every error of `document` against meta-schema `name`; none when it is valid."""
        try:
            if self._fast[name].is_valid(document):
                return []
        except ValueError:
            pass  # data jsonschema-rs cannot take (a YAML date, an integer key): jsonschema says
        return list(self._explaining[name].iter_errors(document))

    def best_error(self, name: str, document: Any) -> ValidationError | None:
        errors = self.errors(name, document)
        if not errors:
            return None
        from jsonschema.exceptions import best_match  # noqa: PLC0415  (loaded by `errors`)

        best: ValidationError | None = best_match(errors)
        return best


def describe(error: ValidationError) -> str:
    """`key.path: what is wrong (rule: keyword)`, naming the missing or unknown key itself."""
    keys = [str(part) for part in error.absolute_path]
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    if error.validator == "required":
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [k for k in required if k not in instance]
        keys.append(str(missing[0]) if missing else "?")
        message = "is required"
    elif error.validator == "additionalProperties":
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        extra = sorted(set(instance) - set(schema.get("properties", {})))
        keys.append(str(extra[0]) if extra else "?")
        message = "is not a known key"
    else:
        message = error.message
        if len(message) > _MESSAGE_CHARS:
            message = message[: _MESSAGE_CHARS - 3] + "..."
    where = ".".join(keys) or "the document"
    return f"{where}: {message} (rule: {error.validator})"


@functools.cache
def meta_schemas(directory: Path) -> MetaSchemas:
    """The meta-schemas in `directory`, read once per process."""
    return MetaSchemas(directory)
