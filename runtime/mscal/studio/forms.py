"""Input schemas as the form library (@json-editor/json-editor) reads them.

The spec's JSON Schema stays the one source: this adds only the library's display options,
from the spec's own annotations:

- `title`/`description` are the label and the help text; `examples` the placeholder;
- `x-enum-titles` names an enum's values (`options.enum_titles`);
- `x-condition: {field, in | not_in}` shows an input only while another has one of the values
  (`options.dependencies`);
- `x-advanced` (and an authentication field's `advanced`) folds the input into "Advanced";
- `readOnly` properties (what Graph sets) are hidden, `secret` fields masked;
- `x-lookup` stays as it is: the page fills it by running the lookup operation.

A `$ref` still present (a recursive schema) becomes a free JSON value: the library would
otherwise fetch it over the network.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from mscal.spec.load import AuthField

ADVANCED = "advanced"
_ADVANCED_TITLE = "Advanced"


def editor_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """One operation's input schema for the form: its top level's advanced inputs folded."""
    shown = _node(copy.deepcopy(dict(schema)))
    for prop in (shown.get("properties") or {}).values():
        _label_nested(prop)
    shown["options"] = {
        **shown.get("options", {}),
        "collapsed": False,
        "disable_collapse": True,
        "titleHidden": True,  # the page's heading names the operation
    }
    properties: dict[str, Any] = shown.get("properties") or {}
    advanced = [name for name, prop in properties.items() if prop.get("x-advanced")]
    return _fold(shown, advanced)


def auth_form_schema(fields: Iterable[AuthField], *, shared_available: bool) -> dict[str, Any]:
    """The "New authentication" dialog: a name, Personal or Organisational, then the spec's
    fields in the spec's order (advanced ones folded)."""
    properties: dict[str, Any] = {
        "name": {
            "type": "string",
            "title": "Name",
            "description": "A name to find this authentication by in a long list, e.g. Sandbox.",
            "minLength": 1,
        },
        "where": {
            "type": "string",
            "title": "Kind",
            "description": (
                "Personal: only you can use it. Organisational: saved in the shared directory "
                "(MSCAL_SHARED_AUTHENTICATIONS) for your team."
                + ("" if shared_available else " No shared directory is set on this machine.")
            ),
            "enum": ["personal", "shared"],
            "default": "personal",
            "format": "radio",
            "options": {"enum_titles": ["Personal", "Organisational"]},
        },
    }
    required = ["name", "where"]
    advanced: list[str] = []
    for field in fields:
        prop = _node(copy.deepcopy(dict(field.schema)))
        prop["title"] = field.title
        if field.help:
            prop["description"] = field.help
        if field.secret:
            prop["format"] = "password"
        if isinstance(prop.get("items"), dict):
            prop["items"].setdefault("title", field.title.rstrip("s") or field.title)
        if field.required:
            required.append(field.key)
        if field.advanced:
            advanced.append(field.key)
        properties[field.key] = prop
    schema: dict[str, Any] = {
        "type": "object",
        "title": "New authentication",
        "properties": properties,
        "required": required,
        "options": {"disable_collapse": True, "titleHidden": True},
    }
    return _fold(_ordered(schema), advanced)


def _label_nested(schema: dict[str, Any]) -> None:
    """Inside an input, a property is labelled by its name as Graph spells it (subject, start):
    the title a shared schema carries names its type (dateTimeTimeZone), which is kept as help
    when the property has none of its own."""
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if prop.get("title") and not prop.get("description"):
            prop["description"] = prop["title"]
        prop["title"] = name
        _label_nested(prop)
    if isinstance(schema.get("items"), dict):
        _label_nested(schema["items"])


def _fold(schema: dict[str, Any], advanced: list[str]) -> dict[str, Any]:
    """Move the named top-level properties into a folded "Advanced" object at the end."""
    if not advanced:
        return schema
    properties: dict[str, Any] = schema["properties"]
    required = list(schema.get("required") or [])
    folded = {name: properties.pop(name) for name in advanced}
    properties[ADVANCED] = _ordered(
        {
            "type": "object",
            "title": _ADVANCED_TITLE,
            "properties": folded,
            "required": [name for name in required if name in folded],
            "options": {"collapsed": True},
        }
    )
    properties[ADVANCED]["propertyOrder"] = 10_000
    schema["required"] = [name for name in required if name not in folded]
    return schema


def _ordered(schema: dict[str, Any]) -> dict[str, Any]:
    """The library sorts properties by `propertyOrder`: keep the spec's order."""
    for index, prop in enumerate((schema.get("properties") or {}).values()):
        if isinstance(prop, dict):
            prop.setdefault("propertyOrder", index + 1)
    return schema


def _node(schema: dict[str, Any]) -> dict[str, Any]:
    """Display options for one schema and everything under it."""
    if "$ref" in schema:
        return {
            "title": schema.get("title"),
            "description": schema.get("description", "A JSON value."),
            "type": ["object", "array", "string", "number", "boolean"],
        }
    schema = _simplified(schema)
    options: dict[str, Any] = dict(schema.get("options") or {})
    if schema.get("readOnly"):
        options["hidden"] = True
    if "x-enum-titles" in schema:
        options["enum_titles"] = list(schema["x-enum-titles"])
    examples = schema.get("examples")
    if examples and isinstance(examples[0], str | int | float):
        options["inputAttributes"] = {"placeholder": f"e.g. {examples[0]}"}
    if "enum" in schema and "default" not in schema and schema.get("type") == "string":
        # No value until one is chosen (the library would otherwise pick the first).
        titles = options.get("enum_titles") or [str(value) for value in schema["enum"]]
        schema["enum"] = ["", *schema["enum"]]
        options["enum_titles"] = ["(none)", *titles]
    if schema.get("type") == "object" and not schema.get("properties"):
        options["disable_properties"] = False  # a free-form object: keys are added by hand
    if schema.get("type") == "boolean":
        schema["format"] = "checkbox"
    if schema.get("format") == "date-time":
        # A local date and time picker; the runtime reads a value without an offset as UTC.
        schema["format"] = "datetime-local"
    for key in ("properties", "$defs"):
        if isinstance(schema.get(key), dict):
            schema[key] = {name: _node(dict(sub)) for name, sub in schema[key].items()}
    if schema.get("properties"):
        _ordered(schema)
        for name in schema.get("required") or []:
            # What must be filled in is open from the start; the rest is folded.
            required = schema["properties"].get(name)
            if isinstance(required, dict) and required.get("properties"):
                required.setdefault("options", {})["collapsed"] = False
        options.setdefault("collapsed", True)
        options.setdefault("disable_collapse", False)
        _conditions(schema)
    if isinstance(schema.get("items"), dict):
        schema["items"] = _node(dict(schema["items"]))
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list):
            schema[key] = [
                _node(dict(sub)) if isinstance(sub, dict) else sub for sub in schema[key]
            ]
    if "type" not in schema and not any(k in schema for k in ("enum", "const", "anyOf", "oneOf")):
        schema["type"] = ["object", "array", "string", "number", "boolean"]
    if options:
        schema["options"] = options
    return schema


# Rules across inputs (exclusive inputs, dependent ones) are the runtime's to check: its message
# is shown at the field. The form needs only the shape.
_RULES_ONLY = ("not", "if", "then", "else", "dependentRequired", "dependentSchemas")


def _simplified(schema: dict[str, Any]) -> dict[str, Any]:
    """`allOf` merged into one shape, rules dropped, `anyOf: [X, null]` read as an optional X."""
    for key in _RULES_ONLY:
        schema.pop(key, None)
    parts = schema.pop("allOf", None)
    if isinstance(parts, list):
        for given in parts:
            if not isinstance(given, dict):
                continue
            part = _simplified(dict(given))
            if part.get("properties"):
                merged = dict(part["properties"])
                merged.update(schema.get("properties") or {})
                schema["properties"] = merged
            if part.get("required"):
                schema["required"] = sorted({*schema.get("required", []), *part["required"]})
            for key, value in part.items():
                if key not in ("properties", "required"):
                    schema.setdefault(key, value)
    for key in ("anyOf", "oneOf"):
        choices = schema.get(key)
        if isinstance(choices, list):
            real = [c for c in choices if not (isinstance(c, dict) and c.get("type") == "null")]
            if len(real) == 1 and isinstance(real[0], dict):
                del schema[key]
                for name, value in _simplified(dict(real[0])).items():
                    schema.setdefault(name, value)
    return schema


def _conditions(schema: dict[str, Any]) -> None:
    """`x-condition` as the library's `dependencies`: the values that show the input."""
    properties: dict[str, Any] = schema["properties"]
    for prop in properties.values():
        condition = prop.get("x-condition") if isinstance(prop, dict) else None
        if not isinstance(condition, dict) or condition.get("field") not in properties:
            continue
        other = properties[condition["field"]]
        if "in" in condition:
            shown = list(condition["in"])
        elif "not_in" in condition and "enum" in other:
            shown = [value for value in other["enum"] if value not in condition["not_in"]]
        else:
            continue
        prop.setdefault("options", {})["dependencies"] = {condition["field"]: shown}
