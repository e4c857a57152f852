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

import contextlib
import contextvars
import functools
import hashlib
import marshal
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from mscal.errors import SpecError
from mscal.templates.errors import TemplateOutputError, TemplateRenderError
from mscal.templates.filters import FILTERS, GLOBALS, blank_none, encode_segment
from mscal.templates.plain import lookup, names_in, text_renderer

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "FILTERS",
    "GLOBALS",
    "Compiled",
    "TemplateOutputError",
    "TemplateRenderError",
    "Templates",
    "ValueTemplate",
    "output_cap",
    "render",
]

# A string that is one `{{ expression }}`: evaluated to the expression's value, not to text.
_SINGLE_EXPRESSION = re.compile(r"^\{\{(?P<expr>(?:(?!\}\}|\{\{).)*)\}\}$", re.DOTALL)

Context = Mapping[str, Any]


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
        with _jinja_errors():
            for piece in template.generate(context):
                size += len(piece)
                if size > max_chars:
                    raise TemplateOutputError(
                        f"a template rendered more than {max_chars} characters"
                    )
                pieces.append(piece)
        return "".join(pieces)

    return render


class PlainForms(Protocol):
    """Where plain forms are kept between processes (the spec cache): `derive` returns what
    `compute` gives for `key`, computing it only when it is not kept."""

    def derive(self, key: bytes, compute: Callable[[], Any]) -> Any: ...


@contextlib.contextmanager
def _jinja_errors() -> Iterator[None]:
    """Jinja's own errors, raised while it renders, as the runtime's."""
    from jinja2 import TemplateError  # noqa: PLC0415  (Jinja is loaded: it is rendering)

    try:
        yield
    except TemplateError as exc:
        raise TemplateRenderError(str(exc)) from None


class Templates:
    """The spec's templates, compiled once: the plain form where a template has one (see
    `plain.py`), Jinja for the rest. Jinja is imported only when a template needs it.

    Two Jinja environments, both sandboxed with StrictUndefined: paths (values percent-encoded,
    fragments to include) and values. `plain=False` renders everything with Jinja (the tests
    that compare the two use it).
    """

    def __init__(
        self,
        fragments: Mapping[str, str],
        *,
        max_chars: int = 1024 * 1024,
        forms: PlainForms | None = None,
        plain: bool = True,
    ) -> None:
        self.max_chars = max_chars
        self._fragments = dict(fragments)
        self._forms = forms
        self._plain = plain
        self._fragments_key = marshal.dumps(sorted(self._fragments.items()))

    @functools.cached_property
    def _paths(self) -> SandboxedEnvironment:
        return self._environment(finalize=encode_segment, fragments=self._fragments)

    @functools.cached_property
    def _values(self) -> SandboxedEnvironment:
        return self._environment(finalize=blank_none, fragments=None)

    @functools.cached_property
    def _results(self) -> SandboxedEnvironment:
        # Results: an absent field of an answer reads as undefined through any chain of lookups
        # (`body.a.b`), and comes out as null (see `_absent_as_null`).
        return self._environment(finalize=blank_none, fragments=None, lenient=True)

    @staticmethod
    def _environment(
        finalize: Callable[[Any], Any],
        fragments: Mapping[str, str] | None,
        *,
        lenient: bool = False,
    ) -> SandboxedEnvironment:
        # Imported here: only a template without a plain form needs Jinja to render.
        from jinja2 import ChainableUndefined, DictLoader, StrictUndefined  # noqa: PLC0415
        from jinja2.sandbox import SandboxedEnvironment  # noqa: PLC0415

        env = SandboxedEnvironment(
            undefined=ChainableUndefined if lenient else StrictUndefined,
            loader=DictLoader(dict(fragments)) if fragments is not None else None,
            finalize=finalize,
            autoescape=False,
        )
        env.filters.update(FILTERS)
        env.globals.update(GLOBALS)
        return env

    def _cap(self) -> int:
        return _cap(self.max_chars)

    def _form(self, kind: str, source: str) -> list[Any] | None:
        """The plain form of a template (None: it has none), from the spec cache when kept."""
        if not self._plain:
            return None

        def compute() -> list[Any] | None:
            # Imported here: a warm start finds the forms in the spec cache and parses nothing.
            from jinja2 import TemplateSyntaxError  # noqa: PLC0415

            from mscal.templates import analysis  # noqa: PLC0415

            try:
                if kind == "path":
                    return analysis.plain_form(source, self._fragments, follow_includes=True)
                match = _SINGLE_EXPRESSION.match(source.strip())
                if match:
                    return analysis.plain_lookup(match.group("expr"))
                return analysis.plain_form(source, {}, follow_includes=False)
            except TemplateSyntaxError:
                return None  # Jinja compiles it next, and reports the error with its place

        if self._forms is None:
            return compute()
        key = hashlib.blake2b(
            marshal.dumps((kind, source)) + self._fragments_key, digest_size=16
        ).digest()
        form: list[Any] | None = self._forms.derive(b"template:" + key, compute)
        return form

    def path(self, source: str) -> ValueTemplate:
        form = self._form("path", source)
        if form is not None:
            return ValueTemplate(source, text_renderer(form, FILTERS, encode_segment, self._cap))
        from jinja2 import TemplateError  # noqa: PLC0415  (see _environment)

        try:
            template = self._paths.from_string(source)
        except TemplateError as exc:
            raise SpecError(f"path template {source!r}: {exc}") from None
        return ValueTemplate(source, _capped(template, self.max_chars))

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
        """Compile an operation's `result`: like `value`, but a field the answer lacks is null.
        (A plain form reads only top-level names, which must be defined in both.)"""
        if isinstance(source, str):
            return self._leaf(source, lenient=True)
        if isinstance(source, dict):
            return {str(key): self.result(item) for key, item in source.items()}
        if isinstance(source, list):
            return [self.result(item) for item in source]
        return source  # type: ignore[no-any-return]

    def _leaf(self, source: str, *, lenient: bool = False) -> ValueTemplate:
        if "{{" not in source and "{%" not in source and "{#" not in source:
            return ValueTemplate(source, lambda _context: source)
        form = self._form("value", source)
        if form is not None and form and form[0] == "v":
            _, name, filter_name = form
            return ValueTemplate(
                source,
                lookup(name, FILTERS[filter_name] if filter_name else None),
                frozenset({name}),
            )
        if form is not None:
            return ValueTemplate(
                source, text_renderer(form, FILTERS, blank_none, self._cap), names_in(form)
            )
        return self._jinja_leaf(source, lenient=lenient)

    def _jinja_leaf(self, source: str, *, lenient: bool) -> ValueTemplate:
        from jinja2 import TemplateError, meta  # noqa: PLC0415  (see _environment)

        env = self._results if lenient else self._values
        try:
            names = frozenset(meta.find_undeclared_variables(env.parse(source)))
            names -= frozenset(env.globals)
            match = _SINGLE_EXPRESSION.match(source.strip())
            if match:
                expression = env.compile_expression(match.group("expr"), undefined_to_none=False)
                default_chars = self.max_chars

                def evaluate(context: Context) -> Any:
                    with _jinja_errors():
                        result = _absent_as_null(expression(**context), context, lenient)
                    max_chars = _cap(default_chars)
                    if isinstance(result, str) and len(result) > max_chars:
                        raise TemplateOutputError(
                            f"an expression gave more than {max_chars} characters"
                        )
                    return result

                return ValueTemplate(source, evaluate, names)
            template = env.from_string(source)
        except TemplateError as exc:
            raise SpecError(f"template {source!r}: {exc}") from None
        return ValueTemplate(source, _capped(template, self.max_chars), names)


def _absent_as_null(value: Any, context: Context, lenient: bool) -> Any:
    """An expression's value; undefined fails as StrictUndefined does, except in a result
    (`lenient`), where every undefined field (one the answer lacked) is None, at any depth. An
    undefined top-level name is still the spec's mistake, and fails as in any template."""
    from jinja2 import StrictUndefined, Undefined  # noqa: PLC0415  (Jinja is rendering)
    from jinja2.utils import missing  # noqa: PLC0415

    if not lenient:
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()
        return value
    if isinstance(value, Undefined):
        name = getattr(value, "_undefined_name", None)
        if getattr(value, "_undefined_obj", None) is missing and name not in context:
            StrictUndefined(name=name)._fail_with_undefined_error()
        return None
    if isinstance(value, dict):
        return {key: _absent_as_null(item, context, lenient) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_absent_as_null(item, context, lenient) for item in value]
    return value


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
