"""Rendering a template's plain form, without Jinja.

Most of the spec's templates are paths and headers made of literal text, lookups of inputs and
`{% if %}` on inputs, with `{% include %}` of the spec's fragments. `analysis.plain_form`
derives their plain form from Jinja's own syntax tree once per spec (the spec cache keeps it),
and this module renders it: the same output, finalize, filters and errors as Jinja, at a
fraction of its cost per call, and without importing Jinja at all when every template the
process uses has a plain form (a cold `mscal run` saves the ~20 ms Jinja takes to import).

The form is plain data (lists, strings, booleans), so marshal can keep it:
    ["t", text]                          literal text
    ["o", name, filter | None]           print a lookup, through the environment's finalize
    ["if", [[name, negated, body]...], else_body]
    ["v", name, filter | None]           a whole template that is one lookup: its value
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mscal.templates.errors import TemplateOutputError, TemplateRenderError

Context = Mapping[str, Any]


def lookup(name: str, apply: Callable[[Any], Any] | None) -> Callable[[Context], Any]:
    """A lookup as Jinja's StrictUndefined makes it: a name not in the context is an error."""

    def value(context: Context) -> Any:
        try:
            found = context[name]
        except KeyError:
            raise TemplateRenderError(f"{name!r} is undefined") from None
        return apply(found) if apply else found

    return value


def text_renderer(
    form: list[Any],
    filters: Mapping[str, Callable[..., Any]],
    finalize: Callable[[Any], Any],
    cap: Callable[[], int],
) -> Callable[[Context], str]:
    """A renderer of a text template's plain form, with the call's output cap."""

    def piece(node: list[Any]) -> Callable[[Context, list[str]], None]:
        kind = node[0]
        if kind == "t":
            text = str(node[1])

            def literal(_context: Context, out: list[str]) -> None:
                out.append(text)

            return literal
        if kind == "o":
            get = lookup(node[1], filters[node[2]] if node[2] else None)

            def printed(context: Context, out: list[str]) -> None:
                out.append(str(finalize(get(context))))

            return printed
        branches = [(lookup(name, None), negated, block(body)) for name, negated, body in node[1]]
        otherwise = block(node[2])

        def choose(context: Context, out: list[str]) -> None:
            for test, negated, body in branches:
                if bool(test(context)) is not negated:
                    body(context, out)
                    return
            otherwise(context, out)

        return choose

    def block(nodes: Iterable[list[Any]]) -> Callable[[Context, list[str]], None]:
        pieces = [piece(node) for node in nodes]

        def run(context: Context, out: list[str]) -> None:
            for each in pieces:
                each(context, out)

        return run

    body = block(form)

    def render(context: Context) -> str:
        out: list[str] = []
        body(context, out)
        text = "".join(out)
        max_chars = cap()
        if len(text) > max_chars:
            raise TemplateOutputError(f"a template rendered more than {max_chars} characters")
        return text

    return render


def names_in(form: list[Any]) -> frozenset[str]:
    """Every name a plain form reads."""
    found: set[str] = set()
    stack = list(form)
    while stack:
        node = stack.pop()
        if node[0] in {"o", "v"}:
            found.add(node[1])
        elif node[0] == "if":
            for name, _negated, body in node[1]:
                found.add(name)
                stack.extend(body)
            stack.extend(node[2])
    return frozenset(found)
