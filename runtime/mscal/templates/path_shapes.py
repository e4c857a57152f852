"""Rendering a path template once per shape instead of once per call.

Most path templates only test inputs for being given (`{% if calendar_id %}`) and print them
whole (`{{ event_id }}`, encoded as one segment). Their output is then fixed by which inputs
are given, with each given value encoded in its place. So the template is rendered once per
such pattern with a marker standing for each given value, and later calls only put the
encoded values where the markers are: no Jinja context per call, whatever the ids.

A template that does anything else with a value (a filter, a comparison, a loop) is not
eligible and is rendered by Jinja each time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from jinja2 import nodes

Render = Callable[[Mapping[str, Any]], str]

_MARK = "\x00{}\x00"
# How a marker comes out of the path environment, which percent-encodes what it prints.
_ENCODED_MARK = re.compile(r"%00([A-Za-z_]\w*)%00")
_GIVEN = object()
_ALLOWED = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Include,
    nodes.Const,
)


def eligible(trees: Iterable[nodes.Template]) -> bool:
    """True when a template (and the fragments it includes) only tests names and prints them."""
    for tree in trees:
        for node in tree.find_all(nodes.Node):
            if not isinstance(node, _ALLOWED):
                return False
            if isinstance(node, nodes.Include) and not isinstance(node.template, nodes.Const):
                return False
            if isinstance(node, nodes.Name) and node.ctx != "load":
                return False
    return True


def by_shape(render: Render, names: frozenset[str], max_chars: int) -> Render:
    ordered = tuple(sorted(names))
    shapes: dict[tuple[Any, ...], list[str]] = {}

    def shaped(context: Mapping[str, Any]) -> str:
        values = [context.get(name) for name in ordered]
        try:
            # A given value is only a marker; a value not given (None, "", 0) is rendered as
            # itself, with its type, since True == 1 but they print differently.
            key = tuple(_GIVEN if v else (v, type(v)) for v in values)
            parts = shapes.get(key)
        except TypeError:  # an empty list or dict: not worth a shape
            return render(context)
        if parts is None:
            marked = {**context}
            for name, value in zip(ordered, values, strict=True):
                if value:
                    marked[name] = _MARK.format(name)
            parts = _ENCODED_MARK.split(render(marked))
            shapes[key] = parts
        # parts alternate: literal text, a name, literal text, ... (a name is encoded as one
        # segment, as the path environment prints every value)
        out = [
            part if index % 2 == 0 else quote(str(context[part]), safe="")
            for index, part in enumerate(parts)
        ]
        text = "".join(out)
        if len(text) > max_chars:
            from mscal.templates.render import TemplateOutputError

            raise TemplateOutputError(f"a template rendered more than {max_chars} characters")
        return text

    return shaped
