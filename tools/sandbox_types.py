"""Writes runtime/mscal/sandbox/graph_types.yaml: the Graph types the local service checks
request bodies against, read from Microsoft's description beside the checkout.

Each type lists its properties in a compact notation (`string`, `int32`, `boolean`, `double`,
`dateTimeOffset`, `date`, `timeOfDay`, `duration`, a complex or enum type's name; `?` when null
is allowed; `[T]` for a collection; a leading `readonly ` for what Graph computes). Enums list
their members; actions their parameters. Run it again when the description changes:

    python -m tools.sandbox_types
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from tools.graph_fuzz import DESCRIPTION

TARGET = Path(__file__).resolve().parents[1] / "runtime/mscal/sandbox/graph_types.yaml"
# The entity types whose bodies the service takes, and the actions whose parameters it reads.
ENTITIES = [
    "event",
    "calendar",
    "calendarGroup",
    "calendarPermission",
    "fileAttachment",
    "itemAttachment",
    "referenceAttachment",
    "outlookCategory",
]
ACTIONS = {
    "accept": "/me/events/{event-id}/accept",
    "decline": "/me/events/{event-id}/decline",
    "tentativelyAccept": "/me/events/{event-id}/tentativelyAccept",
    "cancel": "/me/events/{event-id}/cancel",
    "forward": "/me/events/{event-id}/forward",
    "snoozeReminder": "/me/events/{event-id}/snoozeReminder",
    "dismissReminder": "/me/events/{event-id}/dismissReminder",
    "permanentDelete": "/me/events/{event-id}/permanentDelete",
    "createUploadSession": "/me/events/{event-id}/attachments/createUploadSession",
    "getSchedule": "/me/calendar/getSchedule",
    "findMeetingTimes": "/me/findMeetingTimes",
}
_FORMATS = {
    "date-time": "dateTimeOffset",
    "date": "date",
    "time": "timeOfDay",
    "duration": "duration",
    "int32": "int32",
    "int64": "int64",
    "double": "double",
    "uuid": "guid",
    "base64url": "binary",
}
PREFIX = "microsoft.graph."
# What Graph computes, beyond what the description's texts call read-only (Graph's event
# resource documentation lists these as read-only).
COMPUTED = {
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "bodyPreview",
    "hasAttachments",
    "isOrganizer",
    "webLink",
    "seriesMasterId",
    "originalStart",
    "iCalUId",
    "type",
    "cancelledOccurrences",
    "responseStatus",
}
# Related items a new event may carry inline (Graph takes them on create).
NAVIGATION = {
    "attachment",
    "calendar",
    "event",
    "extension",
    "multiValueLegacyExtendedProperty",
    "singleValueLegacyExtendedProperty",
}
# Read-only once made, but what a new one is made from.
GIVEN_ON_CREATE = {("calendarPermission", "emailAddress"), ("outlookCategory", "displayName")}


def notation(schema: dict[str, Any], wanted: set[str]) -> str:
    nullable = bool(schema.get("nullable"))
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf") or []
        refs = [o for o in options if "$ref" in o and "ReferenceNumeric" not in o["$ref"]]
        nullable = nullable or any(o.get("nullable") for o in options)
        inner = notation(refs[0] if refs else options[0], wanted)
        return inner.rstrip("?") + ("?" if nullable else "")
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1].removeprefix(PREFIX)
        wanted.add(name)
        return name + ("?" if nullable else "")
    if schema.get("type") == "array":
        return f"[{notation(schema.get('items', {}), wanted).rstrip('?')}]"
    kind = schema.get("type", "string")
    base = _FORMATS.get(schema.get("format", ""), "int32" if kind == "integer" else kind)
    if base == "number":
        base = "double"
    return base + ("?" if nullable else "")


def properties(
    schemas: dict[str, Any], name: str, wanted: set[str], entity: str | None = None
) -> dict[str, str]:
    """A type's properties, its base types' included; `entity` is the entity type being read
    (read-only marks are Graph's for entities; complex types inside them are taken whole)."""
    entity = entity or (name if name in ENTITIES else None)
    schema = schemas[PREFIX + name]
    parts = schema.get("allOf", [schema])
    found: dict[str, str] = {}
    for part in parts:
        if "$ref" in part:
            base = part["$ref"].rsplit(".", 1)[-1]
            found.update(properties(schemas, base, wanted, entity))
            continue
        for prop, spec in (part.get("properties") or {}).items():
            if prop.startswith("@odata"):
                continue
            text = notation(spec, wanted)
            said = "read-only" in str(spec.get("description", "")).lower()
            navigation = text.strip("[]?") in NAVIGATION
            computed = prop in COMPUTED and entity is not None
            readonly = spec.get("readOnly") or prop == "id" or computed
            given = (entity, prop) in GIVEN_ON_CREATE
            readonly = readonly or (said and entity is not None and not navigation and not given)
            found[prop] = ("readonly " if readonly else "") + text
    return found


def build(description: dict[str, Any]) -> dict[str, Any]:
    schemas = description["components"]["schemas"]
    wanted: set[str] = set()
    actions = {}
    for action, path in ACTIONS.items():
        body = description["paths"][path]["post"].get("requestBody")
        schema = body["content"]["application/json"]["schema"] if body else {"properties": {}}
        actions[action] = {p: notation(s, wanted) for p, s in schema["properties"].items()}
    types: dict[str, Any] = {}
    enums: dict[str, list[str]] = {}
    queue = list(ENTITIES) + sorted(wanted)
    while queue:
        name = queue.pop(0)
        if name in types or name in enums or PREFIX + name not in schemas:
            continue
        schema = schemas[PREFIX + name]
        if "enum" in schema:
            enums[name] = list(schema["enum"])
            continue
        before = set(wanted)
        types[name] = properties(schemas, name, wanted)
        queue += sorted(wanted - before)
    return {"types": types, "enums": enums, "actions": actions}


def main() -> int:
    if not DESCRIPTION.is_file():
        print(f"no description at {DESCRIPTION}", file=sys.stderr)
        return 2
    data = build(yaml.safe_load(DESCRIPTION.read_text(encoding="utf-8")))
    header = (
        "# Graph's types as the local service checks request bodies; written by\n"
        "# `python -m tools.sandbox_types` from Microsoft's description of the calendar API.\n"
        "# Notation: a type name; `?` null allowed; `[T]` a collection; `readonly` computed.\n"
    )
    TARGET.write_text(header + yaml.safe_dump(data, sort_keys=True, width=100), encoding="utf-8")
    print(f"wrote {TARGET}: {len(data['types'])} types, {len(data['enums'])} enums")
    return 0


if __name__ == "__main__":
    sys.exit(main())
