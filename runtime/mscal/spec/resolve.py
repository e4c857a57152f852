"""Inlining `$ref`s, for the resolved description a builder renders as a form."""

from __future__ import annotations

from typing import Any
from urllib.parse import urldefrag, urljoin

from referencing import Registry
from referencing.exceptions import Unresolvable

from mscal.errors import SpecError

# Keywords that only make sense inside the document they were written in.
_DROP = frozenset({"$schema", "$id", "$defs", "$comment"})


def inline_refs(schema: Any, registry: Registry[Any], base_uri: str = "") -> Any:
    """Return a copy of `schema` with every `$ref` replaced by what it points to.

    The result means what the original means (a validator may use it in place of the original):
    keywords beside a `$ref` apply together with the target's. Annotations written beside it
    (a title, a description) replace the target's; `properties` merge, `required` adds up, and
    any other keyword both sides have is kept from each through `allOf`. A reference cycle is
    left as a `$ref` to stop the recursion.
    """
    return _inline(schema, registry, base_uri, ())


def _inline(node: Any, registry: Registry[Any], base: str, seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, registry, base, seen) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    ref = node.get("$ref")
    if isinstance(ref, str):
        target_uri = urljoin(base, ref)
        if target_uri in seen:
            return {k: v for k, v in node.items() if k not in _DROP}
        try:
            resolved = registry.resolver().lookup(target_uri)
        except Unresolvable as exc:
            raise SpecError(f"unresolvable $ref {ref!r}: {exc}") from None
        document_uri = urldefrag(target_uri).url
        target = _inline(resolved.contents, registry, document_uri, (*seen, target_uri))
        if isinstance(target, dict):
            result.update(target)
    siblings = {
        k: _inline(v, registry, base, seen)
        for k, v in node.items()
        if k != "$ref" and k not in _DROP
    }
    return merge(result, siblings) if result else siblings


_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "examples",
        "default",
        "readOnly",
        "writeOnly",
        "deprecated",
        "contentEncoding",
        "contentMediaType",
    }
)


def merge(target: dict[str, Any], siblings: dict[str, Any]) -> dict[str, Any]:
    """Both schemas at once, as one schema (see inline_refs)."""
    merged = dict(target)
    both: dict[str, Any] = {}
    for key, value in siblings.items():
        if key not in merged or key in _ANNOTATIONS:
            merged[key] = value
        elif key == "properties" and isinstance(value, dict) and isinstance(merged[key], dict):
            properties = dict(merged[key])
            for name, schema in value.items():
                current = properties.get(name)
                fits = isinstance(current, dict) and isinstance(schema, dict)
                properties[name] = merge(current, schema) if fits else schema  # type: ignore[arg-type]
            merged[key] = properties
        elif key == "required" and isinstance(value, list):
            merged[key] = list(dict.fromkeys([*merged[key], *value]))
        elif merged[key] != value:
            both[key] = value
    if both:
        merged["allOf"] = [*merged.get("allOf", []), both]
    return merged
