"""What a resource schema means on each side of a call.

A schema in schemas/ describes a Graph resource whole: what Graph answers. Sent, it is less:
read-only properties (Graph sets them) are not offered as inputs. They are left out of the
input view's `properties` and listed under `x-read-only`, so a refusal can say why rather than
call them unknown. Answered, it is more: Graph adds annotations (`@odata.etag`, ...) and new
properties, and fills the numbers a value does not use with 0, so the output view does not
close objects the schemas close for inputs, nor bound their integers.
"""

from __future__ import annotations

from typing import Any

READ_ONLY = "x-read-only"


def input_view(node: Any) -> Any:
    """The schema without its read-only properties, which `x-read-only` lists."""
    if isinstance(node, list):
        return [input_view(item) for item in node]
    if not isinstance(node, dict):
        return node
    view = {key: input_view(value) for key, value in node.items()}
    properties = view.get("properties")
    if isinstance(properties, dict):
        read_only = [
            name
            for name, schema in properties.items()
            if isinstance(schema, dict) and schema.get("readOnly") is True
        ]
        if read_only:
            view["properties"] = {k: v for k, v in properties.items() if k not in read_only}
            view[READ_ONLY] = read_only
            if isinstance(view.get("required"), list):
                view["required"] = [name for name in view["required"] if name not in read_only]
    return view


def output_view(node: Any) -> Any:
    """The schema with every object open to properties it does not name, and integers without
    bounds: Graph answers 0 for the numbers a value does not use (a weekly recurrence pattern's
    `month` and `dayOfMonth`, a `noEnd` range's `numberOfOccurrences`), which a request must
    not send."""
    if isinstance(node, list):
        return [output_view(item) for item in node]
    if not isinstance(node, dict):
        return node
    integer = node.get("type") == "integer"
    return {
        key: output_view(value)
        for key, value in node.items()
        if not (key == "additionalProperties" and value is False)
        and not (integer and key in _BOUNDS)
    }


_BOUNDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
