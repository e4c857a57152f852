"""Inlining `$ref`s, for the resolved description a builder renders as a form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from mscal.errors import SpecError

# Keywords that only make sense inside the document they were written in.
_DROP = frozenset({"$schema", "$id", "$defs", "$comment"})


def inline_refs(schema: Any, documents: Mapping[str, Any], base_uri: str = "") -> Any:
    """Return a copy of `schema` with every `$ref` replaced by what it points to.

    `documents` are the spec's schema documents by URI. The result means what the original
    means (a validator may use it in place of the original): keywords beside a `$ref` apply
    together with the target's. Annotations written beside it (a title, a description) replace
    the target's; `properties` merge, `required` adds up, and any other keyword both sides have
    is kept from each through `allOf`. A reference cycle is left as a `$ref` to stop the
    recursion. The written order of keys is kept (a builder shows properties in that order).
    """
    return _inline(schema, documents, base_uri, ())


def lookup(documents: Mapping[str, Any], uri: str) -> Any:
    """What a `$ref` URI points to: a document, and a JSON Pointer inside it (RFC 6901).

    The spec's `$ref`s name files and pointers only (no `$id`s or anchors: the meta-schemas
    keep it so), which is all this reads; a lookup in Python keeps the documents' key order
    and costs no import of a referencing library on a cold start.
    """
    document_uri, fragment = urldefrag(uri)
    if document_uri not in documents:
        raise SpecError(f"unresolvable $ref {uri!r}: no schema file is {document_uri}")
    node = documents[document_uri]
    if fragment and not fragment.startswith("/"):
        raise SpecError(f"unresolvable $ref {uri!r}: only JSON Pointers are supported")
    for raw in fragment.split("/")[1:] if fragment else ():
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise SpecError(f"unresolvable $ref {uri!r}: {fragment} is not there") from None
    return node


def _inline(node: Any, documents: Mapping[str, Any], base: str, seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, documents, base, seen) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    ref = node.get("$ref")
    if isinstance(ref, str):
        target_uri = urljoin(base, ref)
        if target_uri in seen:
            return {k: v for k, v in node.items() if k not in _DROP}
        contents = lookup(documents, target_uri)
        document_uri = urldefrag(target_uri).url
        target = _inline(contents, documents, document_uri, (*seen, target_uri))
        if isinstance(target, dict):
            result.update(target)
    siblings = {
        k: _inline(v, documents, base, seen)
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
