"""An operation's input schema compiled by jsonschema-rs: the fast yes of validation.

It checks the same formats as jsonschema (`formats.py`, the same functions), and treats every
other `format` as an annotation, as jsonschema's checker does. It only ever says "valid" for
what it can read: a value jsonschema-rs cannot take (a lone surrogate, an integer past 64 bits)
is left to jsonschema, which then decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jsonschema_rs
from referencing import Registry

from mscal.call.formats import FORMATS


def _formats_in(schema: Any) -> Iterator[str]:
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            value = node.get("format")
            if isinstance(value, str):
                yield value
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _annotation(_value: str) -> bool:
    return True


class CompiledSchema:
    """`accepts(instance)`: True only when jsonschema-rs finds the instance valid."""

    def __init__(self, schema: Mapping[str, Any], registry: Registry[Any]) -> None:
        resources = [(uri, registry[uri].contents) for uri in registry]
        named = set(_formats_in(dict(schema)))
        for _uri, contents in resources:
            named.update(_formats_in(contents))
        formats: dict[str, Callable[[str], bool]] = {
            name: FORMATS.get(name, _annotation) for name in named
        }
        try:
            self._validator: Any = jsonschema_rs.Draft202012Validator(
                dict(schema),
                formats=formats,
                validate_formats=True,
                registry=jsonschema_rs.Registry(resources) if resources else None,
            )
        except (ValueError, jsonschema_rs.ReferencingError):
            # A schema jsonschema-rs cannot compile (an unresolvable $ref in a spec being
            # linted): jsonschema decides every call, and reports the problem as it always has.
            self._validator = None

    def accepts(self, instance: Any) -> bool:
        if self._validator is None:
            return False
        try:
            return bool(self._validator.is_valid(instance))
        except (ValueError, TypeError, OverflowError):
            return False  # not representable on the Rust side: jsonschema decides
