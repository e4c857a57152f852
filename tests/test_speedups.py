"""What makes calls and cold starts faster must not change what they do: the parsed-spec cache
and memoised templates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import mscal
from mscal.call.limits import Limits
from mscal.call.validation import FORMAT_CHECKER
from mscal.spec.cache import ENV, ParsedFiles
from mscal.spec.load import load_spec, read_yaml
from mscal.templates.path_shapes import eligible
from mscal.templates.render import Templates, render


def test_a_parsed_file_comes_from_the_cache_until_it_changes(tmp_path: Path) -> None:
    source = tmp_path / "a.yaml"
    source.write_text("a: 1\n")
    cache = tmp_path / "cache"
    first = ParsedFiles(tmp_path, cache)
    assert first.get(source, read_yaml) == {"a": 1}
    first.save()
    second = ParsedFiles(tmp_path, cache)
    document = second.get(source, read_yaml)
    assert (document, second.hits) == ({"a": 1}, 1)
    document["a"] = 99  # a caller changing its copy does not change the cache
    assert ParsedFiles(tmp_path, cache).get(source, read_yaml) == {"a": 1}
    source.write_text("a: 22\n")  # another size: parsed again
    third = ParsedFiles(tmp_path, cache)
    assert (third.get(source, read_yaml), third.hits) == ({"a": 22}, 0)


def test_documents_marshal_cannot_hold_are_parsed_each_time(tmp_path: Path) -> None:
    source = tmp_path / "a.yaml"
    source.write_text("when: 2026-11-23\n")  # a YAML timestamp
    files = ParsedFiles(tmp_path, tmp_path / "cache")
    assert str(files.get(source, read_yaml)["when"]) == "2026-11-23"
    files.save()
    assert not (tmp_path / "cache").exists()


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "off")
    source = tmp_path / "a.yaml"
    source.write_text("a: 1\n")
    files = ParsedFiles(tmp_path, tmp_path / "cache")
    files.get(source, read_yaml)
    files.save()
    assert not (tmp_path / "cache").exists()


def test_a_broken_cache_file_is_ignored(tmp_path: Path) -> None:
    source = tmp_path / "a.yaml"
    source.write_text("a: 1\n")
    cache = tmp_path / "cache"
    files = ParsedFiles(tmp_path, cache)
    cache.mkdir()
    files.path.write_bytes(b"not marshal at all")
    assert ParsedFiles(tmp_path, cache).get(source, read_yaml) == {"a": 1}


def test_a_cached_spec_is_the_same_spec(spec_copy: Path, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    script = (
        "import json, sys; from mscal.spec.load import load_spec; "
        "s = load_spec(sys.argv[1]); "
        "print(json.dumps([sorted(s.operations), s.manifest], sort_keys=True, default=str))"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, str(spec_copy)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert list((tmp_path / "xdg").rglob("spec-*.marshal"))  # the second run read the cache
    edited = (spec_copy / "connector.yaml").read_text().replace("title:", "title: Edited #", 1)
    (spec_copy / "connector.yaml").write_text(edited)
    assert load_spec(spec_copy, fresh=True).manifest["title"].startswith("Edited")


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


def test_phase_timeouts_are_left_alone_until_the_deadline_is_near() -> None:
    limits = Limits()
    assert limits.timeouts(None) is None
    assert limits.timeouts(120) is None
    assert limits.timeouts(5) == {"connect": 5, "read": 5, "write": 5, "pool": 5}
    assert limits.timeouts(20) == {"connect": 10.0, "read": 20, "write": 20, "pool": 20}


def test_a_sync_cli_call_does_not_import_the_event_loop(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    script = (
        "import sys, mscal.cli.main; from mscal.connector import load_connector; load_connector(); "
        "load_connector().compiled('list_calendars'); "
        "lazy = ('asyncio', 'mscal.call.batching', 'mscal.io.bulk'); "
        "print(sorted(m for m in lazy if m in sys.modules))"
    )
    for _ in range(2):  # the second run reads the spec from the cache: no YAML parser either
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout
    assert out.strip() == "[]"
    assert mscal.load_connector().batch is not None


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
