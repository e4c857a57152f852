"""Request bodies read as Graph's OData layer reads them, from Graph's types
(`graph_types.yaml`, written from Microsoft's description by `tools/sandbox_types.py`).

An unknown property, a read-only one, a value of the wrong type, or null where the type does not
allow it is Graph's 400 (`RequestBodyRead`, or `ErrorInvalidPropertyForOperation` for a
read-only property), before any handler acts. Property and parameter names match whatever their
case (`Subject`, `StartTime` as msgraph-sdk writes action parameters) and come out spelled as
Graph's documentation spells them; enum members match whatever their case (`HTML`) and come out
as Graph writes them (`html`). Annotations (`@odata.type`) pass through.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mscal.sandbox.errors import GraphHTTPError, bad_request

TYPES_FILE = Path(__file__).resolve().parents[1] / "graph_types.yaml"
# Base types whose values are always one of their derived types.
ABSTRACT = {"outlookItem", "attachment", "entity"}
_STRINGS = {"string", "dateTimeOffset", "date", "timeOfDay", "duration", "guid", "binary"}
_EDM = {
    "string": "Edm.String",
    "dateTimeOffset": "Edm.DateTimeOffset",
    "date": "Edm.Date",
    "timeOfDay": "Edm.TimeOfDay",
    "duration": "Edm.Duration",
    "guid": "Edm.Guid",
    "binary": "Edm.Binary",
    "boolean": "Edm.Boolean",
    "int32": "Edm.Int32",
    "int64": "Edm.Int64",
    "double": "Edm.Double",
}


@dataclass(frozen=True)
class Kind:
    """One property's type, read from the notation: `readonly [T]`, `T?`."""

    name: str
    nullable: bool
    collection: bool
    readonly: bool

    @classmethod
    def parse(cls, text: str) -> Kind:
        readonly = text.startswith("readonly ")
        text = text.removeprefix("readonly ")
        nullable = text.endswith("?")
        text = text.rstrip("?")
        collection = text.startswith("[")
        return cls(text.strip("[]"), nullable, collection, readonly)

    def edm(self) -> str:
        name = _EDM.get(self.name, f"microsoft.graph.{self.name}")
        return f"Collection({name})" if self.collection else name


@functools.cache
def facts() -> dict[str, Any]:
    """Graph's types, enums and action parameters (read once)."""
    loaded: dict[str, Any] = yaml.safe_load(TYPES_FILE.read_text(encoding="utf-8"))
    return loaded


def _read_error(message: str) -> GraphHTTPError:
    return bad_request(message, "RequestBodyRead")


def entity_body(body: Any, type_name: str) -> dict[str, Any]:
    """A create or update body of an entity type, checked and spelled as Graph spells it."""
    if not isinstance(body, dict):
        raise bad_request("Empty Payload. JSON content expected.", "BadRequest")
    declared = str(body.get("@odata.type") or "").removeprefix("#microsoft.graph.")
    if declared in facts()["types"] and type_name == "attachment":
        type_name = declared  # an attachment's kind is its @odata.type
    if type_name not in facts()["types"]:
        return body
    return _object(body, type_name, "", top=True)


def action_body(body: Any, action: str) -> dict[str, Any]:
    """An action's parameters, names matched whatever their case and spelled as Graph's
    documentation does (camelCase: `schedules`, `startTime`)."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("Empty Payload. JSON content expected.", "BadRequest")
    parameters: dict[str, str] = facts()["actions"][action]
    lookup = {name.lower(): name for name in parameters}
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key.startswith("@"):
            out[key] = value
            continue
        name = lookup.get(key.lower())
        if name is None:
            raise _read_error(
                f"The parameter '{key}' in the request payload is not a valid parameter for "
                f"the operation '{action}'."
            )
        out[name[:1].lower() + name[1:]] = _value(value, Kind.parse(parameters[name]), key)
    return out


def _object(value: dict[str, Any], type_name: str, path: str, *, top: bool) -> dict[str, Any]:
    properties: dict[str, str] = facts()["types"][type_name]
    lookup = {name.lower(): name for name in properties}
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key.startswith("@"):
            out[key] = item
            continue
        name = key if key in properties else lookup.get(key.lower())
        if name is None:
            raise _read_error(
                f"The property '{key}' does not exist on type 'microsoft.graph.{type_name}'. "
                "Make sure to only use property names that are defined by the type or mark "
                "the type as open type."
            )
        kind = Kind.parse(properties[name])
        if kind.readonly and top:
            raise bad_request(
                f"The property '{name}' is read-only and cannot be set.",
                "ErrorInvalidPropertyForOperation",
            )
        out[name] = _value(item, kind, f"{path}{name}")
    return out


def _value(value: Any, kind: Kind, path: str) -> Any:
    if value is None:
        if kind.nullable:
            return None
        raise _read_error(
            f"A null value was found for the property named '{path}', which has the expected "
            f"type '{kind.edm()}[Nullable=False]'. The expected type "
            f"'{kind.edm()}[Nullable=False]' does not allow null values."
        )
    if kind.collection:
        if not isinstance(value, list):
            raise _node(path, _node_kind(value), "StartArray")
        item_kind = Kind(kind.name, nullable=False, collection=False, readonly=False)
        return [_value(item, item_kind, path) for item in value]
    return _single(value, kind, path)


def _single(value: Any, kind: Kind, path: str) -> Any:
    types, enums = facts()["types"], facts()["enums"]
    if kind.name in types:
        if not isinstance(value, dict):
            raise _node(path, _node_kind(value), "StartObject")
        # A derived type named by its @odata.type (an item attachment's event) is read as
        # that type; a base type's own properties are too few to judge it by.
        derived = str(value.get("@odata.type") or "").removeprefix("#microsoft.graph.")
        if derived in types:
            return _object(value, derived, f"{path}/", top=False)
        if kind.name in ABSTRACT:
            return value
        return _object(value, kind.name, f"{path}/", top=False)
    if isinstance(value, dict | list):
        raise _node(path, _node_kind(value), "PrimitiveValue")
    if kind.name in enums:
        members: list[str] = enums[kind.name]
        found = next(
            (m for m in members if isinstance(value, str) and m.lower() == value.lower()), None
        )
        if found is None:
            raise _read_error(f"Requested value '{value}' was not found.")
        return found
    if kind.name in _STRINGS:
        ok = isinstance(value, str)
    elif kind.name == "boolean":
        ok = isinstance(value, bool)
    elif kind.name in {"int32", "int64"}:
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and (kind.name == "int64" or -(2**31) <= value < 2**31)
    else:  # double
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise _read_error(
            f"Cannot convert the literal '{_literal(value)}' to the expected type "
            f"'{kind.edm()}' (property '{path}')."
        )
    return value


def _literal(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _node_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "StartObject"
    if isinstance(value, list):
        return "StartArray"
    return "PrimitiveValue"


def _node(path: str, found: str, expected: str) -> GraphHTTPError:
    return _read_error(
        f"An unexpected '{found}' node was found for property named '{path}' when reading from "
        f"the JSON reader. A '{expected}' node was expected."
    )
