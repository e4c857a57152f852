"""Compiling the spec's templates once, and rendering them with inputs as data.

Two environments, both sandboxed with StrictUndefined (a name the spec forgot to declare is an
error, not an empty string):

- paths: every value printed with `{{ }}` is percent-encoded with no safe characters, so an id
  containing `/ ? # %` stays one path segment. Only the `raw_path` filter lets a value through
  as a path (for the raw request, whose suffix the egress guard checks instead).
- values (query, headers, bodies, results): a string that is one `{{ expression }}` evaluates to
  the expression's Python value (a dict stays a dict, None stays None); any other string renders
  as text, with None printed as nothing.

Inputs are only ever passed as the render context, never compiled as template source.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from jinja2 import (
    DictLoader,
    StrictUndefined,
    Template,
    TemplateError,
    Undefined,
    UndefinedError,
    meta,
    nodes,
)
from jinja2.sandbox import SandboxedEnvironment

from mscal.errors import SpecError
from mscal.templates.path_shapes import by_shape, eligible

# `{{ name }}` or `{{ name | filter }}`: evaluated without building a Jinja context.
_PLAIN_LOOKUP = re.compile(r"^\s*(?P<name>[A-Za-z_]\w*)\s*(?:\|\s*(?P<filter>[A-Za-z_]\w*)\s*)?$")
_SINGLE_EXPRESSION = re.compile(r"^\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}$", re.DOTALL)

Context = Mapping[str, Any]


class RawPath(str):
    """A path fragment the spec chose not to encode (the egress guard still checks it)."""

    __slots__ = ()


def _encode_segment(value: Any) -> str:
    if isinstance(value, RawPath):
        return str(value)
    if value is None:
        raise TemplateError("a path value is missing")
    return quote(str(value), safe="")


def _blank_none(value: Any) -> Any:
    return "" if value is None else value


def _csv(value: Iterable[Any] | str | None) -> str:
    """Join a list with commas, as OData's $select and $orderby take it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return ",".join(str(item) for item in value)


def _raw_path(value: Any) -> RawPath:
    return RawPath("" if value is None else str(value))


def _base64_decode(value: str | None) -> bytes:
    return base64.b64decode(value or "", validate=True)


def _base64_size(value: str | None) -> int:
    """The decoded length of base64 text, without decoding it."""
    text = (value or "").strip()
    return len(text) * 3 // 4 - text[-2:].count("=")


def _new_uuid() -> str:
    return str(uuid.uuid4())


# Functions spec templates may call (e.g. a client-chosen id that makes a create safe to retry).
GLOBALS: dict[str, Callable[..., Any]] = {"uuid": _new_uuid}

# The filters spec templates may use, in every environment that reads them.
FILTERS: dict[str, Callable[..., Any]] = {
    "csv": _csv,
    "raw_path": _raw_path,
    "base64_decode": _base64_decode,
    "base64_size": _base64_size,
}


class ValueTemplate:
    """A compiled leaf: a native expression or a text template, and the inputs it reads."""

    __slots__ = ("_render", "names", "source")

    def __init__(
        self, source: str, render: Callable[[Context], Any], names: frozenset[str] = frozenset()
    ) -> None:
        self.source = source
        self._render = render
        self.names = names

    def render(self, context: Context) -> Any:
        return self._render(context)


Compiled = ValueTemplate | dict[str, "Compiled"] | list["Compiled"] | int | float | bool | None


class TemplateOutputError(TemplateError):
    """A template rendered more text than the spec's limit (limits.template_chars)."""


def _capped(template: Template, max_chars: int) -> Callable[[Context], str]:
    """Render text, stopping as soon as it passes `max_chars` (before building it whole)."""

    def render(context: Context) -> str:
        pieces: list[str] = []
        size = 0
        for piece in template.generate(context):
            size += len(piece)
            if size > max_chars:
                raise TemplateOutputError(f"a template rendered more than {max_chars} characters")
            pieces.append(piece)
        return "".join(pieces)

    return render


_MISSING = object()
MEMO_SIZE = 512


def _memoized(render: Callable[[Context], str], names: frozenset[str]) -> Callable[[Context], str]:
    """Remember a text template's output by the values of the names it reads.

    Rendering is a pure function of those values (templates that call a function such as
    uuid() are never memoized), and building a Jinja context costs more than the rest of
    rendering: a workflow calling one operation again and again for the same mailbox or
    calendar renders its path once. Values that cannot be a dict key are rendered each time.
    """
    ordered = tuple(sorted(names))
    missing = (_MISSING,) * len(ordered)
    memo: dict[tuple[Any, ...], str] = {}

    def remembered(context: Context) -> str:
        # The type is part of the key: True == 1, but they render differently.
        key = tuple((value, type(value)) for value in map(context.get, ordered, missing))
        try:
            hit = memo.get(key)
        except TypeError:  # a list or dict value
            return render(context)
        if hit is None:
            hit = render(context)
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[key] = hit
        return hit

    return remembered


class Templates:
    """The two environments for one spec, with its shared path fragments."""

    def __init__(self, fragments: Mapping[str, str], *, max_chars: int = 1024 * 1024) -> None:
        self.max_chars = max_chars
        self._fragments = dict(fragments)
        self._paths = SandboxedEnvironment(
            undefined=StrictUndefined,
            loader=DictLoader(dict(fragments)),
            finalize=_encode_segment,
            autoescape=False,
        )
        self._values = SandboxedEnvironment(
            undefined=StrictUndefined, finalize=_blank_none, autoescape=False
        )
        for env in (self._paths, self._values):
            env.filters.update(FILTERS)
            env.globals.update(GLOBALS)

    def path(self, source: str) -> ValueTemplate:
        try:
            template = self._paths.from_string(source)
            names = self._reads(self._paths, source)
        except TemplateError as exc:
            raise SpecError(f"path template {source!r}: {exc}") from None
        render = _capped(template, self.max_chars)
        if names is None:
            return ValueTemplate(source, render)
        if eligible(self._trees(source)):
            return ValueTemplate(source, by_shape(render, names, self.max_chars))
        return ValueTemplate(source, _memoized(render, names))

    def _trees(self, source: str) -> list[nodes.Template]:
        """A path template's syntax tree and those of the fragments it includes."""
        trees = [self._paths.parse(source)]
        seen: set[str] = set()
        for tree in trees:
            for included in meta.find_referenced_templates(tree):
                if included in self._fragments and included not in seen:
                    seen.add(included)
                    trees.append(self._paths.parse(self._fragments[included]))
        return trees

    def _reads(self, env: SandboxedEnvironment, source: str) -> frozenset[str] | None:
        """Every name a template reads, through its includes too; None when that cannot be
        known (a computed include) or when it calls a function (its output may differ)."""
        ast = env.parse(source)
        if any(True for _ in ast.find_all(nodes.Call)):
            return None  # uuid(), lipsum(), a method: the output may differ each time
        names = set(meta.find_undeclared_variables(ast))
        for included in meta.find_referenced_templates(ast):
            if included is None or included not in self._fragments:
                return None
            inner = self._reads(env, self._fragments[included])
            if inner is None:
                return None
            names |= inner
        return frozenset(names)

    def value(self, source: Any) -> Compiled:
        """Compile a spec value: strings become templates, containers are compiled deeply."""
        if isinstance(source, str):
            return self._leaf(source)
        if isinstance(source, dict):
            return {str(key): self.value(item) for key, item in source.items()}
        if isinstance(source, list):
            return [self.value(item) for item in source]
        return source  # type: ignore[no-any-return]

    def _leaf(self, source: str) -> ValueTemplate:
        try:
            names = frozenset(meta.find_undeclared_variables(self._values.parse(source)))
            names -= frozenset(self._values.globals)
            match = _SINGLE_EXPRESSION.match(source.strip())
            plain = _PLAIN_LOOKUP.match(match.group("expr")) if match else None
            if plain and (plain.group("filter") is None or plain.group("filter") in FILTERS):
                return ValueTemplate(
                    source, _lookup(plain.group("name"), plain.group("filter")), names
                )
            if match:
                expression = self._values.compile_expression(
                    match.group("expr"), undefined_to_none=False
                )

                max_chars = self.max_chars

                def evaluate(context: Context) -> Any:
                    result = expression(**context)
                    if isinstance(result, Undefined):
                        result._fail_with_undefined_error()
                    if isinstance(result, str) and len(result) > max_chars:
                        raise TemplateOutputError(
                            f"an expression gave more than {max_chars} characters"
                        )
                    return result

                return ValueTemplate(source, evaluate, names)
            if "{{" not in source and "{%" not in source:
                return ValueTemplate(source, lambda _context: source)
            template = self._values.from_string(source)
            reads = self._reads(self._values, source)
        except TemplateError as exc:
            raise SpecError(f"template {source!r}: {exc}") from None
        render = _capped(template, self.max_chars)
        if reads is not None:
            render = _memoized(render, reads)
        return ValueTemplate(source, render, names)


def _lookup(name: str, filter_name: str | None) -> Callable[[Context], Any]:
    apply = FILTERS[filter_name] if filter_name else None

    def lookup(context: Context) -> Any:
        try:
            value = context[name]
        except KeyError:
            raise UndefinedError(f"{name!r} is undefined") from None
        return apply(value) if apply else value

    return lookup


def render(compiled: Compiled, context: Context) -> Any:
    """Render a compiled value.

    Inside a mapping or a list, an entry is sent only when at least one input it reads is
    given (entries that read no input always are), and entries that come out empty are
    dropped. Skipping unread entries is what keeps a call with few inputs cheap.
    """
    if isinstance(compiled, ValueTemplate):
        return compiled.render(context)
    if isinstance(compiled, dict):
        rendered: dict[str, Any] = {}
        for key, item in compiled.items():
            if _wanted(item, context):
                value = render(item, context)
                if value is not None and value != "":
                    rendered[key] = value
        return rendered
    if isinstance(compiled, list):
        parts = (render(item, context) for item in compiled if _wanted(item, context))
        return [value for value in parts if not _is_empty(value)]
    return compiled


def _wanted(item: Compiled, context: Context) -> bool:
    if not isinstance(item, ValueTemplate) or not item.names:
        return True
    for name in item.names:  # noqa: SIM110 - a loop, not any(): this runs for every entry of every call
        if context.get(name) is not None:
            return True
    return False


def _is_empty(value: Any) -> bool:
    return value is None or value == ""
