"""What makes calls faster must not change what they do: memoised templates and remembered
validity. (The parsed-spec cache and cold-start tests are in tests/spec/test_cache.py.)"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import mscal
from mscal.call.validation import FORMAT_CHECKER
from mscal.templates.path_shapes import eligible
from mscal.templates.render import Templates, render


def test_memoised_templates_render_what_they_would_have() -> None:
    templates = Templates({"box": "{% if user_id %}/users/{{ user_id }}{% else %}/me{% endif %}"})
    path = templates.path("{% include 'box' %}/events/{{ event_id }}")
    assert render(path, {"user_id": None, "event_id": "a/b"}) == "/me/events/a%2Fb"
    assert render(path, {"user_id": "u", "event_id": "a/b"}) == "/users/u/events/a%2Fb"
    assert render(path, {"user_id": None, "event_id": "c"}) == "/me/events/c"
    text = templates.value("n={{ n }}")
    assert render(text, {"n": 1}) == "n=1"
    assert render(text, {"n": True}) == "n=True"  # equal keys, different types
    assert render(text, {"n": [1, 2]}) == "n=[1, 2]"  # not hashable: rendered, not remembered


def test_templates_calling_a_function_are_never_memoised() -> None:
    templates = Templates({})
    text = templates.value("id-{{ uuid() }}")
    assert render(text, {}) != render(text, {})


def test_remembered_valid_inputs_do_not_let_invalid_ones_through(
    connector: mscal.Connector,
) -> None:
    validator = connector.compiled("list_events").validator
    assert validator.validate({"top": 5, "user_id": "u"})["user_id"] == "u"
    assert validator.validate({"top": 5, "user_id": "u"})["top"] == 5  # remembered
    for invalid in ({"top": True, "user_id": "u"}, {"top": 0, "user_id": "u"}, {"top": "5"}):
        with pytest.raises(mscal.InputError):
            validator.validate(invalid)  # True == 1 and hashes alike: the type is in the key
    with pytest.raises(mscal.InputError):
        validator.validate({"top": 0, "user_id": "u"})  # an error is never remembered


_CONNECTOR = mscal.load_connector()
# Each operation's path: compiled by the runtime, and by Jinja alone as the reference.
_PATHS = [
    (
        name,
        _CONNECTOR.templates.path(op.request["path"]),
        _CONNECTOR.templates._paths.from_string(op.request["path"]),
        sorted(op.input_names),
    )
    for name, op in _CONNECTOR.spec.operations.items()
]


_VALUES = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(["a", "/", "%", "0", "\x00", "?", " ", "é", "."]), max_size=6),
    st.integers(-2, 2),
    st.booleans(),
)


@settings(max_examples=1000, deadline=None)
@given(path=st.sampled_from(range(len(_PATHS))), data=st.data())
def test_paths_rendered_by_shape_are_what_jinja_renders(path: int, data: st.DataObject) -> None:
    name, fast, reference, names = _PATHS[path]
    context = {n: data.draw(_VALUES, label=n) for n in names}
    try:
        expected: str | type[Exception] = reference.render(context)
    except Exception as exc:
        expected = type(exc)
    try:
        got: str | type[Exception] = render(fast, context)
    except Exception as exc:
        got = type(exc)
    assert got == expected, (name, context)


def test_shipped_paths_are_rendered_by_shape() -> None:
    templates = _CONNECTOR.templates
    shaped = [
        name
        for name, op in _CONNECTOR.spec.operations.items()
        if eligible(templates._trees(op.request["path"]))
    ]
    assert len(shaped) >= len(_CONNECTOR.spec.operations) - 1  # raw_http_request's is raw


def _fresh_validity(name: str) -> Draft202012Validator:
    schema = _CONNECTOR.describe(name)["input_schema"]
    return Draft202012Validator(
        schema, registry=_CONNECTOR.spec.registry, format_checker=FORMAT_CHECKER
    )


_OPERATIONS = sorted(_CONNECTOR.spec.operations)
_REFERENCE = {name: _fresh_validity(name) for name in _OPERATIONS}
_INPUT_VALUES = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.integers(-1, 3),
    st.booleans(),
    st.sampled_from(["2026-11-23T10:00:00Z", "nope", "https://graph.microsoft.com/v1.0/me"]),
)


@settings(max_examples=1000, deadline=None)
@given(operation=st.sampled_from(_OPERATIONS), data=st.data())
def test_remembered_validity_agrees_with_jsonschema(operation: str, data: st.DataObject) -> None:
    validator = _CONNECTOR.compiled(operation).validator
    names = sorted(_CONNECTOR.describe(operation)["input_schema"].get("properties") or {})
    chosen = data.draw(st.lists(st.sampled_from(names), max_size=4, unique=True), label="names")
    # Several inputs over the same names, each validated twice: later ones may come from what
    # earlier ones left remembered, which is what must never let an invalid input through.
    for _ in range(4):
        inputs = {name: data.draw(_INPUT_VALUES, label=name) for name in chosen}
        for _ in range(2):
            try:
                merged = validator.validate(inputs)
            except mscal.InputError:
                merged = None
            reference = {**validator._defaults, **inputs}
            assert (merged is not None) == _REFERENCE[operation].is_valid(reference), inputs
