"""Compiling the spec's templates once, and rendering them with inputs as data.

Two environments, both sandboxed with StrictUndefined (a name the spec forgot to declare is an
error, not an empty string):

- paths: every value printed with `{{ }}` is percent-encoded with no safe characters, so an id
  containing `/ ? # %` stays one path segment. Only the `raw_path` filter lets a value through
  as a path (for the raw request, whose suffix the egress guard checks instead).
- values (query, headers, bodies, results): a string that is one `{{ expression }}` evaluates to
  the expression's Python value (a dict stays a dict, None stays None); any other string renders
  as text, with None printed as nothing.
- results read an answer, whose shape Graph decides: there a field the answer lacks
  (`body.meetingTimeSuggestions` of `{}` or `[]`) is null, at any depth, never an error. A name
  the spec did not declare is still one (the linter reports it).

Inputs are only ever passed as the render context, never compiled as template source.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from jinja2 import (
    ChainableUndefined,
    DictLoader,
    StrictUndefined,
    Template,
    TemplateError,
    Undefined,
    UndefinedError,
    meta,
)
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from mscal.errors import SpecError

# `{{ name }}` or `{{ name | filter }}`: evaluated without building a Jinja context.
_PLAIN_LOOKUP = re.compile(r"^\s*(?P<name>[A-Za-z_]\w*)\s*(?:\|\s*(?P<filter>[A-Za-z_]\w*)\s*)?$")
_SINGLE_EXPRESSION = re.compile(r"^\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}$", re.DOTALL)
# Text of literal pieces and plain lookups, perhaps inside one `{% if name %}`, is joined
# without Jinja (the same finalize, the same errors), compiled once at load.
_IF_BLOCK = re.compile(
    r"^\{%\s*if\s+(?P<name>[A-Za-z_]\w*)\s*%\}(?P<body>.*)\{%\s*endif\s*%\}$", re.DOTALL
)
_EXPRESSION = re.compile(r"\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}", re.DOTALL)

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


def _resource_of(scopes: Iterable[Any] | str | None) -> str | None:
    """The origin the first scope written as a URL names (https://graph.microsoft.com in
    https://graph.microsoft.com/.default), None when no scope names one."""
    for scope in [scopes] if isinstance(scopes, str) else scopes or ():
        scheme, separator, rest = str(scope).partition("://")
        if separator and scheme and rest.split("/", 1)[0]:
            return f"{scheme}://{rest.split('/', 1)[0]}"
    return None


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
    "resource_of": _resource_of,
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


# The output cap of the call being rendered: its operation's or session's `template_chars`
# (see `output_cap`); outside a call, the spec's default given to `Templates`.
_CALL_CAP: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "template_chars", default=None
)


@contextlib.contextmanager
def output_cap(max_chars: int) -> Iterator[None]:
    """Render with this text-output cap (a call's `limits.template_chars`)."""
    token = _CALL_CAP.set(max_chars)
    try:
        yield
    finally:
        _CALL_CAP.reset(token)


def _cap(default: int) -> int:
    cap = _CALL_CAP.get()
    return default if cap is None else cap


def _capped(template: Template, default_chars: int) -> Callable[[Context], str]:
    """Render text, stopping as soon as it passes the cap (before building it whole)."""

    def render(context: Context) -> str:
        max_chars = _cap(default_chars)
        pieces: list[str] = []
        size = 0
        for piece in template.generate(context):
            size += len(piece)
            if size > max_chars:
                raise TemplateOutputError(f"a template rendered more than {max_chars} characters")
            pieces.append(piece)
        return "".join(pieces)

    return render


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
        # Results: an absent field of an answer reads as undefined through any chain of lookups
        # (`body.a.b`), and comes out as null (see `_absent_as_null`).
        self._results = SandboxedEnvironment(
            undefined=ChainableUndefined, finalize=_blank_none, autoescape=False
        )
        for env in (self._paths, self._values, self._results):
            env.filters.update(FILTERS)
            env.globals.update(GLOBALS)

    def path(self, source: str) -> ValueTemplate:
        try:
            template = self._paths.from_string(source)
        except TemplateError as exc:
            raise SpecError(f"path template {source!r}: {exc}") from None
        joined = _plain_text(source, _encode_segment, self.max_chars)
        return ValueTemplate(source, joined or _capped(template, self.max_chars))

    def value(self, source: Any) -> Compiled:
        """Compile a spec value: strings become templates, containers are compiled deeply."""
        if isinstance(source, str):
            return self._leaf(source)
        if isinstance(source, dict):
            return {str(key): self.value(item) for key, item in source.items()}
        if isinstance(source, list):
            return [self.value(item) for item in source]
        return source  # type: ignore[no-any-return]

    def result(self, source: Any) -> Compiled:
        """Compile an operation's `result`: like `value`, but a field the answer lacks is null."""
        if isinstance(source, str):
            return self._leaf(source, lenient=True)
        if isinstance(source, dict):
            return {str(key): self.result(item) for key, item in source.items()}
        if isinstance(source, list):
            return [self.result(item) for item in source]
        return source  # type: ignore[no-any-return]

    def _leaf(self, source: str, *, lenient: bool = False) -> ValueTemplate:
        env = self._results if lenient else self._values
        try:
            names = frozenset(meta.find_undeclared_variables(env.parse(source)))
            names -= frozenset(env.globals)
            match = _SINGLE_EXPRESSION.match(source.strip())
            plain = _PLAIN_LOOKUP.match(match.group("expr")) if match else None
            if plain and (plain.group("filter") is None or plain.group("filter") in FILTERS):
                return ValueTemplate(
                    source, _lookup(plain.group("name"), plain.group("filter")), names
                )
            if match:
                expression = env.compile_expression(match.group("expr"), undefined_to_none=False)

                default_chars = self.max_chars

                def evaluate(context: Context) -> Any:
                    result = expression(**context)
                    if lenient:
                        result = _absent_as_null(result, context)
                    elif isinstance(result, Undefined):
                        result._fail_with_undefined_error()
                    max_chars = _cap(default_chars)
                    if isinstance(result, str) and len(result) > max_chars:
                        raise TemplateOutputError(
                            f"an expression gave more than {max_chars} characters"
                        )
                    return result

                return ValueTemplate(source, evaluate, names)
            if "{{" not in source and "{%" not in source:
                return ValueTemplate(source, lambda _context: source)
            template = env.from_string(source)
        except TemplateError as exc:
            raise SpecError(f"template {source!r}: {exc}") from None
        joined = _plain_text(source, _blank_none, self.max_chars)
        return ValueTemplate(source, joined or _capped(template, self.max_chars), names)


def _absent_as_null(value: Any, context: Context) -> Any:
    """A result with every undefined field (one the answer lacked) as None, at any depth; an
    undefined top-level name is still the spec's mistake, and fails as in any template."""
    if isinstance(value, Undefined):
        name = getattr(value, "_undefined_name", None)
        if getattr(value, "_undefined_obj", None) is missing and name not in context:
            StrictUndefined(name=name)._fail_with_undefined_error()
        return None
    if isinstance(value, dict):
        return {key: _absent_as_null(item, context) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_absent_as_null(item, context) for item in value]
    return value


def _plain_text(
    source: str, finalize: Callable[[Any], Any], default_chars: int
) -> Callable[[Context], str] | None:
    """A renderer for text that is literal and `{{ name }}` lookups, optionally all inside one
    `{% if name %}...{% endif %}`; None for anything else.

    The same finalize and cap as the Jinja environment, compiled once at load. Anything Jinja
    might read differently (other statements, comments, whitespace control, a newline it would
    trim, a global such as `uuid`) stays with Jinja.
    """
    guard: str | None = None
    condition = _IF_BLOCK.match(source)
    if condition:
        guard, source = condition.group("name"), condition.group("body")
    if guard in GLOBALS or any(mark in source for mark in ("{%", "{#", "%}", "#}", "\n")):
        return None
    pieces: list[str | Callable[[Context], Any]] = []
    end = 0
    for match in _EXPRESSION.finditer(source):
        plain = _PLAIN_LOOKUP.match(match.group("expr"))
        if not plain or plain.group("name") in GLOBALS:
            return None
        if plain.group("filter") is not None and plain.group("filter") not in FILTERS:
            return None
        pieces.append(source[end : match.start()])
        pieces.append(_lookup(plain.group("name"), plain.group("filter")))
        end = match.end()
    tail = source[end:]
    if "{{" in tail or "}}" in tail:
        return None
    pieces.append(tail)
    test = _lookup(guard, None) if guard else None

    def render(context: Context) -> str:
        if test is not None and not test(context):
            return ""
        text = "".join(
            piece if isinstance(piece, str) else str(finalize(piece(context))) for piece in pieces
        )
        max_chars = _cap(default_chars)
        if len(text) > max_chars:
            raise TemplateOutputError(f"a template rendered more than {max_chars} characters")
        return text

    return render


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
