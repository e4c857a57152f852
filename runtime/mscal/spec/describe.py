"""The resolved description a builder renders: auth form and operations, `$ref`s inlined."""

from __future__ import annotations

from typing import Any

from mscal.spec.load import Operation, Spec
from mscal.spec.resolve import inline_refs
from mscal.spec.triggers import TriggerDefinition
from mscal.spec.views import input_view, output_view


def describe_connector(spec: Spec, *, operations: bool = True) -> dict[str, Any]:
    manifest = spec.manifest
    description: dict[str, Any] = {
        key: manifest[key]
        for key in ("name", "title", "version", "description", "icon", "documentation", "base_url")
        if key in manifest
    }
    description["authentication"] = {
        "fields": [
            {
                "key": f.key,
                "title": f.title,
                "help": f.help,
                "required": f.required,
                "secret": f.secret,
                "advanced": f.advanced,
                "schema": f.schema,
            }
            for f in spec.auth_fields
        ]
    }
    if operations:
        description["operations"] = [
            describe_operation(spec, op) for op in spec.operations.values()
        ]
        description["triggers"] = [describe_trigger(spec, t) for t in spec.triggers.values()]
    return description


def required_permissions(spec: Spec, operation: Operation) -> dict[str, list[str]]:
    """The least Graph permissions: the operation's own, else the default for reads or writes."""
    if operation.permissions is not None:
        return dict(operation.permissions)
    # A request without a method is only seen in the linter's lenient load (which reports it).
    kind = "read" if str(operation.request.get("method")).upper() == "GET" else "write"
    return spec.defaults.permissions[kind].to_dict()


def describe_operation(spec: Spec, operation: Operation) -> dict[str, Any]:
    return {
        "name": operation.name,
        "title": operation.title,
        "description": operation.description,
        "group": operation.group,
        "paginated": operation.paginated,
        "permissions": required_permissions(spec, operation),
        "input_schema": input_view(inline_refs(operation.input_schema, spec.documents)),
        "output_schema": output_view(inline_refs(operation.output_schema, spec.documents)),
        "examples": list(operation.examples),
    }


def describe_trigger(spec: Spec, trigger: TriggerDefinition) -> dict[str, Any]:
    """A trigger as a builder renders it: its inputs form, what it emits, examples."""
    subscription = trigger.source.get("subscription")
    return {
        "name": trigger.name,
        "title": trigger.title,
        "description": trigger.description,
        "group": trigger.group,
        "changes": list(trigger.changes),
        "modes": ["polling", "webhook"] if subscription else ["polling"],
        "input_schema": inline_refs(trigger.input_schema, spec.documents),
        "output_schema": output_view(inline_refs(trigger.output_schema, spec.documents)),
        "examples": list(trigger.examples),
    }
