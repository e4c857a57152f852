"""An operation's input schema compiled by jsonschema-rs: the fast yes of validation.

It checks the same formats as jsonschema (`formats.py`, the same functions), and treats every
other `format` as an annotation, as jsonschema's checker does. It only ever says "valid" for
what it can read: a value jsonschema-rs cannot take (a lone surrogate, an integer past 64 bits)
is left to jsonschema, which then decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import jsonschema_rs

from mscal.call.formats import FORMATS


def formats_in(schema: Any) -> Iterator[str]:
    """Every `format` named anywhere in a schema document."""
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

    def __init__(
        self,
        schema: Mapping[str, Any],
        registry: jsonschema_rs.Registry | None = None,
        registry_formats: Iterable[str] = (),
    ) -> None:
        # The schema arrives with its $refs inlined; a cycle left as a $ref is served by the
        # registry, so the formats its documents name (`registry_formats`) are declared too:
        # one jsonschema-rs knows but jsonschema does not check stays an annotation on both.
        named = set(formats_in(dict(schema))) | set(registry_formats)
        formats: dict[str, Callable[[str], bool]] = {
            name: FORMATS.get(name, _annotation) for name in named
        }
        try:
            self._validator: Any = jsonschema_rs.Draft202012Validator(
                dict(schema),
                formats=formats,
                validate_formats=True,
                registry=registry,
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
