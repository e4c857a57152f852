"""What a spec template does, read from its syntax tree: the one template analysis the runtime
and the linter share.

An `Analysis` belongs to one spec (its `{% include %}` fragments) and parses each distinct
template source once: the names a template reads (`names_used`, following includes), whether
those can be known at all and whether it calls a function (`reads`), each name it prints with
the `{% if %}` tests that guard it (`printed`), and whether a string is a template at all
(`is_literal`). Nothing here renders a template, and nothing is remembered beyond the spec
that the `Analysis` was made for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, meta, nodes

from mscal.templates.filters import FILTERS, GLOBALS

_TEMPLATE = re.compile(r"\{\{|\{%")

# Parsing needs only the syntax (the delimiters are Jinja's defaults in every environment the
# runtime renders with); the filters and globals are there so unknown names fail as they would.
_PARSER = Environment()
_PARSER.filters.update(FILTERS)
_PARSER.globals.update(GLOBALS)

# Nodes that neither bind a name nor open a scope: in a tree made only of these, every name
# loaded is read from the render context, so the names can be collected from the tree directly.
# Anything else (for, set, with, macros, blocks, imports) goes through Jinja's own code
# generator, which knows its scoping rules.
_FLAT_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.If,
    nodes.Include,
    nodes.Name,
    nodes.Const,
    nodes.Filter,
    nodes.Test,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.Call,
    nodes.Keyword,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Neg,
    nodes.Pos,
    nodes.BinExpr,
    nodes.Concat,
    nodes.List,
    nodes.Tuple,
    nodes.Dict,
    nodes.Pair,
)


def is_literal(source: str) -> bool:
    """Whether a string is plain text, with neither `{{ }}` nor `{% %}` in it."""
    return _TEMPLATE.search(source) is None


def parse(source: str) -> nodes.Template:
    """A template's syntax tree; raises TemplateSyntaxError."""
    return _PARSER.parse(source)


@dataclass(frozen=True)
class TemplateFacts:
    """What one template source does on its own (its includes not followed)."""

    tree: nodes.Template
    names: frozenset[str]  # read from the context, the globals (uuid) left out
    includes: tuple[str | None, ...]  # the fragments it includes; None for a computed name
    calls: bool  # calls something (uuid(), a method): its output may differ each time


def _facts(source: str) -> TemplateFacts:
    tree = parse(source)
    return TemplateFacts(
        tree=tree,
        names=frozenset(_undeclared(tree)),
        includes=tuple(meta.find_referenced_templates(tree)),
        calls=any(True for _ in tree.find_all(nodes.Call)),
    )


def _undeclared(tree: nodes.Template) -> set[str]:
    """The names a template reads from its context, as `jinja2.meta.find_undeclared_variables`
    gives them, without running the code generator when the tree binds no names."""
    every = [tree, *tree.find_all(nodes.Node)]
    if not all(isinstance(node, _FLAT_NODES) for node in every) or _names_unknown(every):
        # Scoping, or an unknown filter or test: whether that fails depends on what Jinja's
        # compiler reaches after folding constants (`none and x is colour` never reaches the
        # test), so Jinja's own code generator answers.
        return set(meta.find_undeclared_variables(tree)) - set(_PARSER.globals)
    names = {n.name for n in every if isinstance(n, nodes.Name) and n.ctx == "load"}
    # `self` is bound by Jinja itself at the template's root (it names the template's blocks).
    return names - set(_PARSER.globals) - {"self"}


def _names_unknown(every: list[nodes.Node]) -> bool:
    """Whether a filter or test the environment does not know is named anywhere."""
    return any(
        (isinstance(n, nodes.Filter) and n.name not in _PARSER.filters)
        or (isinstance(n, nodes.Test) and n.name not in _PARSER.tests)
        for n in every
    )


class Analysis:
    """The templates of one spec, each parsed once however many operations share it."""

    def __init__(self, fragments: Mapping[str, str]) -> None:
        self.fragments = dict(fragments)
        self._facts: dict[str, TemplateFacts] = {}

    def facts(self, source: str) -> TemplateFacts:
        """The facts of one template source; raises TemplateSyntaxError."""
        found = self._facts.get(source)
        if found is None:
            found = self._facts[source] = _facts(source)
        return found

    def names_used(self, value: object) -> frozenset[str]:
        """Every name the templates in `value` (a string, or a dict or list of them) read,
        following `{% include %}` into the spec's fragments."""
        return frozenset(self._names(value, frozenset()))

    def _names(self, value: object, seen: frozenset[str]) -> set[str]:
        if isinstance(value, dict):
            return set().union(*(self._names(v, seen) for v in value.values()))
        if isinstance(value, list):
            return set().union(*(self._names(v, seen) for v in value))
        if not isinstance(value, str):
            return set()
        facts = self.facts(value)
        names = set(facts.names)
        for included in facts.includes:
            if included is not None and included in self.fragments and included not in seen:
                names |= self._names(self.fragments[included], seen | {included})
        return names

    def reads(self, source: str) -> frozenset[str] | None:
        """Every name a template reads through its includes, or None when its output is not a
        function of those names: an include that cannot be followed, or a call (uuid())."""
        facts = self.facts(source)
        if facts.calls:
            return None
        names = set(facts.names)
        for included in facts.includes:
            if included is None or included not in self.fragments:
                return None
            inner = self.reads(self.fragments[included])
            if inner is None:
                return None
            names |= inner
        return frozenset(names)

    def printed(self, source: str) -> list[tuple[str, frozenset[str]]]:
        """Each name printed with `{{ }}`, with the names the enclosing `{% if %}` tests guard it
        by (through includes too)."""
        return self._printed(source, frozenset())

    def _printed(self, source: str, seen: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
        found: list[tuple[str, frozenset[str]]] = []

        def walk(node: nodes.Node, guards: frozenset[str]) -> None:
            if isinstance(node, nodes.If):
                for child in node.body:
                    walk(child, guards | _names_in(node.test))
                for child in [*node.elif_, *node.else_]:
                    walk(child, guards)
                return
            if isinstance(node, nodes.Output):
                for expression in node.nodes:
                    if not isinstance(expression, nodes.TemplateData):
                        found.extend((name, guards) for name in _names_in(expression))
                return
            if isinstance(node, nodes.Include):
                target = getattr(node.template, "value", None)
                if isinstance(target, str) and target in self.fragments and target not in seen:
                    inner = self._printed(self.fragments[target], seen | {target})
                    found.extend((name, guards | inner_guards) for name, inner_guards in inner)
                return
            for child in node.iter_child_nodes():
                walk(child, guards)

        walk(self.facts(source).tree, frozenset())
        return found


def _names_in(expression: nodes.Node) -> frozenset[str]:
    """Variable names in an expression, the expression itself included (find_all skips it)."""
    found = {n.name for n in expression.find_all(nodes.Name)}
    if isinstance(expression, nodes.Name):
        found.add(expression.name)
    return frozenset(found)


# The plain form of a template ----------------------------------------------------------------
# A template made only of literal text, `{{ name }}` and `{{ name | filter }}` lookups,
# `{% if name %}`/`{% elif %}`/`{% else %}` on names (or `not name`) and `{% include %}` of a
# fragment by its literal name is rendered without Jinja (`templates/plain.py`). The form is
# derived from Jinja's own syntax tree, so Jinja's lexer decides what the text is (whitespace,
# comments, raw blocks); anything else returns None and stays with Jinja.


def plain_form(
    source: str, fragments: Mapping[str, str], *, follow_includes: bool
) -> list[Any] | None:
    """The plain form of a text template (see `plain.py`), or None; raises TemplateSyntaxError."""
    return _plain_body(parse(source).body, fragments if follow_includes else {}, frozenset())


def plain_lookup(expression: str) -> list[Any] | None:
    """`["v", name, filter]` when a `{{ expression }}` is one lookup; else None."""
    body = parse("{{" + expression + "}}").body
    if len(body) != 1 or not isinstance(body[0], nodes.Output) or len(body[0].nodes) != 1:
        return None
    found = _lookup(body[0].nodes[0])
    return None if found is None else ["v", *found]


def _plain_body(
    body: list[nodes.Node], fragments: Mapping[str, str], seen: frozenset[str]
) -> list[Any] | None:
    out: list[Any] = []
    for node in body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    out.append(["t", child.data])
                    continue
                found = _lookup(child)
                if found is None:
                    return None
                out.append(["o", *found])
        elif isinstance(node, nodes.If):
            branches: list[Any] = []
            for branch in [node, *node.elif_]:
                test = _test(branch.test)
                inner = _plain_body(branch.body, fragments, seen)
                if test is None or inner is None:
                    return None
                branches.append([*test, inner])
            otherwise = _plain_body(node.else_, fragments, seen)
            if otherwise is None:
                return None
            out.append(["if", branches, otherwise])
        elif isinstance(node, nodes.Include):
            target = node.template.value if isinstance(node.template, nodes.Const) else None
            if (
                not isinstance(target, str)
                or target not in fragments
                or target in seen
                or node.ignore_missing
                or not node.with_context
            ):
                return None
            inner = _plain_body(parse(fragments[target]).body, fragments, seen | {target})
            if inner is None:
                return None
            out.extend(inner)
        else:
            return None
    return out


def _lookup(node: nodes.Node) -> list[Any] | None:
    """`[name, filter or None]` for `name` or `name | filter` (a known filter, no arguments)."""
    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in GLOBALS:
        return [node.name, None]
    if (
        isinstance(node, nodes.Filter)
        and node.name in FILTERS
        and node.node is not None
        and not (node.args or node.kwargs or node.dyn_args or node.dyn_kwargs)
    ):
        inner = _lookup(node.node)
        if inner is not None and inner[1] is None:
            return [inner[0], node.name]
    return None


def _test(node: nodes.Node) -> list[Any] | None:
    """`[name, negated]` for `name` or `not name`."""
    if isinstance(node, nodes.Not):
        inner = _test(node.node)
        return None if inner is None or inner[1] else [inner[0], True]
    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in GLOBALS:
        return [node.name, False]
    return None
