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

    Keywords written beside a `$ref` win over the target's (a title or description overridden
    where the reference is used). A reference cycle is left as a `$ref` to stop the recursion.
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
    for key, value in node.items():
        if key == "$ref" or key in _DROP:
            continue
        result[key] = _inline(value, registry, base, seen)
    return result
