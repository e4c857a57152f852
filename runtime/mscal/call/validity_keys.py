"""Keys under which an operation remembers inputs it found valid.

Validation is a pure function of the inputs, so inputs made of plain values (strings, numbers,
booleans, null) are remembered once valid, by their values with their types (True == 1, but a
schema tells them apart).

Ids are different on almost every call, so remembering them by value would rarely help. But
when the schema checks an input only for being a string of some length, and tests it nowhere
else but for being given, its validity depends on its length alone; such an input is keyed by
where its length falls, not by its value. Any schema keyword this module does not know turns
that off for the operation, so a schema it cannot read is validated in full every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Key = frozenset[tuple[Any, ...]]
Lengths = dict[str, tuple[int, int | None]]

_SCALARS = (str, int, float, bool, type(None))
# Keywords of an input's own schema that leave a string's validity to its length.
_LENGTH_ONLY = frozenset(
    {"type", "minLength", "maxLength", "title", "description", "examples", "default"}
)
# Keywords of the schema around the inputs that look only at which inputs are given.
_PRESENCE_ONLY = frozenset(
    {
        "type",
        "title",
        "description",
        "required",
        "dependentRequired",
        "minProperties",
        "maxProperties",
        "additionalProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "$schema",
        "examples",
    }
)
_SUBSCHEMAS = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else")


def length_only_inputs(schema: Mapping[str, Any]) -> Lengths:
    """Inputs whose validity is their length's: name -> (minLength, maxLength)."""
    if not _presence_only({k: v for k, v in schema.items() if k != "properties"}, top=True):
        return {}
    lengths: Lengths = {}
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, Mapping):
            continue
        keywords = {k for k in prop if not k.startswith("x-")}
        types = prop.get("type")
        types = types if isinstance(types, list) else [types]
        if keywords <= _LENGTH_ONLY and "string" in types:
            lengths[name] = (int(prop.get("minLength", 0)), prop.get("maxLength"))
    return lengths


def _presence_only(schema: Any, *, top: bool = False) -> bool:
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, Mapping):
        return False
    for keyword, value in schema.items():
        if keyword.startswith("x-"):
            continue
        if keyword not in _PRESENCE_ONLY:
            return False
        if keyword == "type" and not (top and value == "object"):
            return False
        if keyword == "additionalProperties" and not isinstance(value, bool):
            return False
        if keyword in _SUBSCHEMAS:
            parts = value if isinstance(value, list) else [value]
            if not all(_presence_only(part) for part in parts):
                return False
    return True


def validity_key(inputs: Mapping[str, Any], lengths: Lengths) -> Key | None:
    """The key for these inputs, or None when they hold a list or an object."""
    parts: list[tuple[Any, ...]] = []
    for name, value in inputs.items():
        if not isinstance(value, _SCALARS):
            return None
        bounds = lengths.get(name)
        if bounds is not None and isinstance(value, str):
            shortest, longest = bounds
            parts.append(
                (name, str, len(value) < shortest, longest is not None and len(value) > longest)
            )
        else:
            parts.append((name, value, type(value)))
    return frozenset(parts)
