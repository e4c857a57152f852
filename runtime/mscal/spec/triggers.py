"""Trigger files (connector.yaml `triggers:`): what starts a workflow, read like operations.

A trigger file says where changes are learnt (`source`: the delta operation and how its answer
reads, the subscription that says "look now") and declares triggers: name, title, description,
the changes each one emits, inputs (the file's shared ones plus its own), output and examples.
Each trigger's input and output schemas are registered as `$defs` of the file's resource, as
operations' are, so a `$ref` inside them resolves as it does anywhere in that file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mscal.errors import SpecError

# Every change a trigger can emit; a trigger file's `changes` name some of them.
CHANGES = ("created", "updated", "deleted", "cancelled", "starting_soon")


@dataclass(frozen=True)
class TriggerDefinition:
    """One trigger as declared: the changes it emits and its inputs, output and examples."""

    name: str
    title: str
    description: str
    group: str
    source_path: Path
    changes: tuple[str, ...]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    input_names: tuple[str, ...]
    examples: tuple[dict[str, Any], ...]
    # The file's `source` (delta round, event fields, subscription), shared by its triggers.
    source: Mapping[str, Any]


Read = Callable[..., Any]


def read_trigger_files(
    root: Path,
    manifest: Mapping[str, Any],
    read: Read,
    check: Any,
    schema_base: str,
    operations: Mapping[str, Any],
) -> tuple[dict[str, TriggerDefinition], list[tuple[str, dict[str, Any]]]]:
    """The triggers of every file `manifest["triggers"]` names, and each file's schema
    resource (uri, contents) to register."""
    triggers: dict[str, TriggerDefinition] = {}
    resources: list[tuple[str, dict[str, Any]]] = []
    for relative in manifest.get("triggers") or []:
        path = root / relative
        document = read(path, check=check)
        if not isinstance(document, dict) or not isinstance(document.get("triggers"), list):
            raise SpecError(f"{path}: expected a mapping with a 'triggers' list")
        source = document.get("source") or {}
        _check_operations(path, source, operations)
        file_uri = schema_base + "triggers." + path.name
        defs: dict[str, Any] = dict(document.get("$defs") or {})
        shared = dict(document.get("inputs") or {})
        for raw in document["triggers"]:
            trigger = _build(raw, document, path, file_uri, shared, defs, source)
            if trigger.name in triggers:
                raise SpecError(f"{path}: trigger {trigger.name!r} is declared twice")
            triggers[trigger.name] = trigger
        resources.append(
            (
                file_uri,
                {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs},
            )
        )
    return triggers, resources


def _check_operations(path: Path, source: Mapping[str, Any], operations: Mapping[str, Any]) -> None:
    """Every operation the source names must exist: a typo is found at load, not mid-watch."""
    named = [("source.delta.operation", (source.get("delta") or {}).get("operation"))]
    subscription = source.get("subscription") or {}
    named += [
        (f"source.subscription.operations.{job}", name)
        for job, name in (subscription.get("operations") or {}).items()
    ]
    for where, name in named:
        if name is not None and name not in operations:
            raise SpecError(f"{path}: {where}: unknown operation {name!r}")


def _build(
    raw: dict[str, Any],
    document: dict[str, Any],
    path: Path,
    file_uri: str,
    shared: dict[str, Any],
    defs: dict[str, Any],
    source: Mapping[str, Any],
) -> TriggerDefinition:
    name = str(raw["name"])
    properties = {**shared, **(raw.get("inputs") or {})}
    defs[f"{name}.input"] = {
        "type": "object",
        "title": raw.get("title", name),
        "properties": properties,
        "additionalProperties": False,
    }
    defs[f"{name}.output"] = raw.get("output") or {}
    return TriggerDefinition(
        name=name,
        title=str(raw.get("title", name)),
        description=str(raw.get("description", "")),
        group=str(document.get("group", "Other")),
        source_path=path,
        changes=tuple(raw.get("changes") or ()),
        input_schema={"$ref": f"{file_uri}#/$defs/{name}.input"},
        output_schema={"$ref": f"{file_uri}#/$defs/{name}.output"},
        input_names=tuple(properties),
        examples=tuple(raw.get("examples") or ()),
        source=source,
    )
