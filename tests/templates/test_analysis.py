"""templates/analysis.py reads templates as Jinja does: the names it finds are the ones
`jinja2.meta.find_undeclared_variables` finds (its code generator), unknown filters and tests
fail where Jinja's compiler fails, and includes are followed into the spec's fragments."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import TemplateSyntaxError, meta

from mscal.spec.load import load_spec
from mscal.templates.analysis import Analysis, is_literal, parse

GLOBALS = {"uuid"}


def _jinja(source: str) -> tuple[str, object]:
    """Jinja's own answer: the undeclared names, or the compile error's message."""
    try:
        return "names", frozenset(meta.find_undeclared_variables(parse(source)) - GLOBALS)
    except TemplateSyntaxError as exc:
        return "error", exc.message


def _ours(source: str) -> tuple[str, object]:
    try:
        return "names", Analysis({}).facts(source).names
    except TemplateSyntaxError as exc:
        return "error", exc.message


def _shipped_sources() -> list[str]:
    spec = load_spec(lenient=True)
    found: list[str] = list(spec.fragments.values())

    def collect(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for operation in spec.operations.values():
        collect([operation.request, operation.result, operation.upload])
    return sorted(set(found))


def test_every_shipped_template_reads_the_names_jinja_finds() -> None:
    sources = _shipped_sources()
    assert len(sources) > 50
    assert {s: _ours(s) for s in sources} == {s: _jinja(s) for s in sources}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ a.b[c] ~ d | csv }}", ("names", frozenset({"a", "c", "d"}))),
        ("{{ f(a, k=b, *c, **d) }}", ("names", frozenset({"f", "a", "b", "c", "d"}))),
        ("{{ uuid() }}{{ true }}{{ none }}", ("names", frozenset())),
        ("{{ self }}{{ loop }}", ("names", frozenset({"loop"}))),  # Jinja binds only `self`
        ("{{ x | colour }}", ("error", "No filter named 'colour'.")),
        ("{{ x is colour }}", ("error", "No test named 'colour'.")),
        # Inside {% if %} or a conditional expression Jinja only fails when it gets there.
        ("{% if a %}{{ x | colour }}{% endif %}", ("names", frozenset({"a", "x"}))),
        ("{{ a if b else c | colour }}", ("names", frozenset({"a", "b", "c"}))),
        # Nor where it folds a constant away first (found by the Hypothesis test below).
        ("{{ (none and not a is colour) }}", ("names", frozenset({"a"}))),
        # Names bound by the template go through Jinja's own scoping.
        ("{% for x in xs %}{{ x }}{{ loop.index }}{% endfor %}", ("names", frozenset({"xs"}))),
        ("{% set y = a %}{{ y }}{{ z }}", ("names", frozenset({"a", "z"}))),
        ("{% with q = a %}{{ q }}{% endwith %}", ("names", frozenset({"a"}))),
    ],
)
def test_names_and_errors_match_jinja(source: str, expected: tuple[str, object]) -> None:
    assert _ours(source) == _jinja(source) == expected


_NAME = st.sampled_from(["a", "b", "c", "self", "loop", "uuid", "true", "none"])
_FILTER = st.sampled_from(["csv", "upper", "default", "colour"])
_TEST = st.sampled_from(["defined", "none", "colour"])


def _expressions() -> st.SearchStrategy[str]:
    leaves = _NAME | st.sampled_from(["1", "'text'", "[]"])
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(inner, _FILTER).map(lambda p: f"{p[0]} | {p[1]}"),
            st.tuples(inner, _TEST).map(lambda p: f"{p[0]} is {p[1]}"),
            st.tuples(inner, inner, inner).map(lambda p: f"({p[0]} if {p[1]} else {p[2]})"),
            st.tuples(inner, inner).map(lambda p: f"({p[0]} ~ {p[1]})"),
            st.tuples(inner, inner).map(lambda p: f"{p[0]}[{p[1]}]"),
            st.tuples(inner, inner).map(lambda p: f"({p[0]} and not {p[1]})"),
            inner.map(lambda e: f"{e}.attr"),
            st.tuples(_NAME, inner).map(lambda p: f"{p[0]}({p[1]}, k={p[1]})"),
        ),
        max_leaves=6,
    )


def _templates() -> st.SearchStrategy[str]:
    output = _expressions().map(lambda e: "{{ " + e + " }}")
    return st.recursive(
        output | st.just("text/"),
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map("".join),
            st.tuples(_expressions(), inner).map(lambda p: f"{{% if {p[0]} %}}{p[1]}{{% endif %}}"),
            st.tuples(_expressions(), inner, inner).map(
                lambda p: f"{{% if {p[0]} %}}{p[1]}{{% elif a %}}x{{% else %}}{p[2]}{{% endif %}}"
            ),
        ),
        max_leaves=5,
    )


@settings(max_examples=400, deadline=None)
@given(_templates())
def test_generated_templates_read_the_names_jinja_finds(source: str) -> None:
    assert _ours(source) == _jinja(source)


FRAGMENTS = {
    "mailbox": "{% if user_id %}/users/{{ user_id }}{% else %}/me{% endif %}",
    "fresh": "{{ uuid() }}",
}


def test_names_follow_includes_into_fragments() -> None:
    analysis = Analysis(FRAGMENTS)
    path = "{% include 'mailbox' %}/events/{{ event_id }}"
    assert analysis.names_used(path) == {"user_id", "event_id"}
    assert analysis.names_used({"a": [path, "{{ top }}"], "n": 3}) == {"user_id", "event_id", "top"}
    assert analysis.reads(path) == frozenset({"user_id", "event_id"})
    # Not a function of its names: a call, or an include that cannot be followed.
    assert analysis.reads("{% include 'fresh' %}") is None
    assert analysis.reads("{% include name %}") is None
    assert analysis.reads("{% include 'elsewhere' %}") is None


def test_printed_names_carry_the_if_tests_that_guard_them() -> None:
    analysis = Analysis(FRAGMENTS)
    printed = analysis.printed(
        "{% include 'mailbox' %}/calendars/{% if calendar_id %}{{ calendar_id }}/{% endif %}"
        "{{ event_id }}{% if a %}{% elif b %}{{ c }}{% endif %}"
    )
    assert sorted(printed) == sorted(
        [
            ("user_id", frozenset({"user_id"})),
            ("calendar_id", frozenset({"calendar_id"})),
            ("event_id", frozenset()),
            ("c", frozenset({"b"})),
        ]
    )


def test_each_source_is_parsed_once_per_spec() -> None:
    analysis = Analysis(FRAGMENTS)
    first = analysis.facts("{% include 'mailbox' %}/x")
    analysis.names_used(["{% include 'mailbox' %}/x", "{% include 'mailbox' %}/x"])
    assert analysis.facts("{% include 'mailbox' %}/x") is first
    assert analysis.facts(FRAGMENTS["mailbox"]) is analysis.facts(FRAGMENTS["mailbox"])


def test_is_literal() -> None:
    assert is_literal("Get a calendar group")
    assert not is_literal("Get {{ id }}")
    assert not is_literal("{% if a %}x{% endif %}")
