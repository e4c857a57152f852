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

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from jinja2 import DictLoader, StrictUndefined, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment

from mscal.errors import SpecError

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


# The filters spec templates may use, in every environment that reads them.
FILTERS: dict[str, Callable[..., Any]] = {"csv": _csv, "raw_path": _raw_path}


class ValueTemplate:
    """A compiled leaf: a native expression or a text template."""

    __slots__ = ("_render", "source")

    def __init__(self, source: str, render: Callable[[Context], Any]) -> None:
        self.source = source
        self._render = render

    def render(self, context: Context) -> Any:
        return self._render(context)


Compiled = ValueTemplate | dict[str, "Compiled"] | list["Compiled"] | int | float | bool | None


class Templates:
    """The two environments for one spec, with its shared path fragments."""

    def __init__(self, fragments: Mapping[str, str]) -> None:
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

    def path(self, source: str) -> ValueTemplate:
        try:
            template = self._paths.from_string(source)
        except TemplateError as exc:
            raise SpecError(f"path template {source!r}: {exc}") from None
        return ValueTemplate(source, template.render)

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
            match = _SINGLE_EXPRESSION.match(source.strip())
            if match:
                expression = self._values.compile_expression(
                    match.group("expr"), undefined_to_none=False
                )

                def evaluate(context: Context) -> Any:
                    result = expression(**context)
                    if isinstance(result, Undefined):
                        result._fail_with_undefined_error()
                    return result

                return ValueTemplate(source, evaluate)
            if "{{" not in source and "{%" not in source:
                return ValueTemplate(source, lambda _context: source)
            template = self._values.from_string(source)
        except TemplateError as exc:
            raise SpecError(f"template {source!r}: {exc}") from None
        return ValueTemplate(source, template.render)


def render(compiled: Compiled, context: Context) -> Any:
    """Render a compiled value; dict entries and list items that come out empty are dropped."""
    if isinstance(compiled, ValueTemplate):
        return compiled.render(context)
    if isinstance(compiled, dict):
        rendered = {key: render(item, context) for key, item in compiled.items()}
        return {key: value for key, value in rendered.items() if not _is_empty(value)}
    if isinstance(compiled, list):
        return [
            value for value in (render(item, context) for item in compiled) if not _is_empty(value)
        ]
    return compiled


def _is_empty(value: Any) -> bool:
    return value is None or value == ""
