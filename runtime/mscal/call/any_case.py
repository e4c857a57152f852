"""Graph's spellings, put in the spec's: property names and enum values are case-insensitive
to Graph (its docs write `"contentType": "HTML"`, `"Comment"`, `"ToRecipients"`), so where a
schema says `x-case-insensitive: true` (for itself and everything below it) an input spelled
otherwise is taken in the schema's spelling before it is validated and sent.

Only the inputs whose schema has such a mark are walked, and a value comes back as the same
object when nothing needed respelling: a call without Graph resources costs nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MARK = "x-case-insensitive"
_BRANCHES = ("anyOf", "oneOf", "allOf")


def _marked(node: Any) -> bool:
    if isinstance(node, dict):
        return node.get(MARK) is True or any(_marked(value) for value in node.values())
    if isinstance(node, list):
        return any(_marked(item) for item in node)
    return False


class AnyCase:
    """Respells one operation's inputs (its resolved input schema)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        properties = schema.get("properties") or {}
        self._inputs = {name: sub for name, sub in properties.items() if _marked(sub)}

    def apply(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The inputs in the schema's spelling (the same dict when nothing changes)."""
        respelled: dict[str, Any] | None = None
        for name, schema in self._inputs.items():
            if name in inputs:
                value = _respell(inputs[name], schema, insensitive=False)
                if value is not inputs[name]:
                    respelled = respelled if respelled is not None else dict(inputs)
                    respelled[name] = value
        return inputs if respelled is None else respelled


def _respell(value: Any, schema: Any, *, insensitive: bool) -> Any:
    if not isinstance(schema, dict):
        return value
    insensitive = insensitive or schema.get(MARK) is True
    for key in _BRANCHES:
        for branch in schema.get(key) or ():
            value = _respell(value, branch, insensitive=insensitive)
    if isinstance(value, dict):
        return _respell_object(value, schema, insensitive=insensitive)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        items = [_respell(item, schema["items"], insensitive=insensitive) for item in value]
        same = all(new is old for new, old in zip(items, value, strict=True))
        return value if same else items
    enum = schema.get("enum")
    if insensitive and isinstance(value, str) and isinstance(enum, list) and value not in enum:
        folded = value.casefold()
        for member in enum:
            if isinstance(member, str) and member.casefold() == folded:
                return member
    return value


def _respell_object(value: dict[str, Any], schema: dict[str, Any], *, insensitive: bool) -> Any:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return value
    names: dict[str, str] | None = None  # built only when a key is spelled otherwise
    result: dict[str, Any] | None = None
    for key, item in value.items():
        name = key
        if key not in properties and insensitive:
            if names is None:
                names = {name.casefold(): name for name in properties}
            wanted = names.get(key.casefold())
            # Only when the spec's spelling is not given as well: two spellings of one
            # property are left for validation to refuse (as unknown), never merged.
            if wanted is not None and wanted not in value:
                name = wanted
        new = _respell(item, properties.get(name), insensitive=insensitive)
        if name != key or new is not item:
            if result is None:
                result = {}
                for done, kept in value.items():
                    if done == key:
                        break
                    result[done] = kept
            result[name] = new
        elif result is not None:
            result[key] = item
    return value if result is None else result
