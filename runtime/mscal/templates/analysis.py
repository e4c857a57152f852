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

from jinja2 import Environment, meta, nodes
from jinja2.exceptions import TemplateAssertionError

from mscal.templates.render import FILTERS, GLOBALS

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
    if not all(isinstance(node, _FLAT_NODES) for node in every):
        return set(meta.find_undeclared_variables(tree)) - set(_PARSER.globals)
    _check_filters_and_tests(tree, soft=False)
    names = {n.name for n in every if isinstance(n, nodes.Name) and n.ctx == "load"}
    # `self` is bound by Jinja itself at the template's root (it names the template's blocks).
    return names - set(_PARSER.globals) - {"self"}


def _check_filters_and_tests(node: nodes.Node, *, soft: bool) -> None:
    """Fail on an unknown filter or test as Jinja's compiler does: everywhere except inside an
    `{% if %}` or a conditional expression, where it only fails when it is reached."""
    if isinstance(node, (nodes.Filter, nodes.Test)) and not soft:
        known = _PARSER.filters if isinstance(node, nodes.Filter) else _PARSER.tests
        if node.name not in known:
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            raise TemplateAssertionError(f"No {kind} named {node.name!r}.", node.lineno)
    soft = soft or isinstance(node, (nodes.If, nodes.CondExpr))
    for child in node.iter_child_nodes():
        _check_filters_and_tests(child, soft=soft)


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
