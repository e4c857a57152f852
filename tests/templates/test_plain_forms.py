"""Templates with a plain form render without Jinja, exactly as Jinja renders them."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mscal import load_connector
from mscal.templates.render import (
    TemplateOutputError,
    TemplateRenderError,
    Templates,
    ValueTemplate,
    output_cap,
)

CONNECTOR = load_connector()
SPEC = CONNECTOR.spec
POOL: list[Any] = [None, "", "AAMk=", "a/b?c#d%e", "é 1", "{{ x }}", 0, 42, True, False, ["a", "b"]]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _shipped_templates() -> list[tuple[str, str]]:
    """Every template string in the shipped spec: (kind, source)."""
    found: set[tuple[str, str]] = set()
    for operation in SPEC.operations.values():
        found.add(("path", operation.request["path"]))
        for key, value in operation.request.items():
            if key != "path":
                found.update(("value", s) for s in _strings(value) if "{" in s)
        if operation.result:
            found.add(("value", operation.result))
    found.update(("path", source) for source in SPEC.fragments.values())
    return sorted(found)


def _outcome(render: Callable[[dict[str, Any]], Any], context: dict[str, Any]) -> Any:
    try:
        return ("ok", json.dumps(render(context), sort_keys=True))
    except Exception as exc:  # a filter given the wrong type fails alike on both sides
        return ("error", type(exc).__name__)


def _compile(templates: Templates, kind: str, source: str) -> ValueTemplate:
    compiled = templates.path(source) if kind == "path" else templates.value(source)
    assert isinstance(compiled, ValueTemplate)
    return compiled


@pytest.mark.parametrize(("kind", "source"), _shipped_templates())
def test_every_shipped_template_renders_as_jinja_does(kind: str, source: str) -> None:
    plain = _compile(Templates(SPEC.fragments), kind, source)
    jinja = _compile(Templates(SPEC.fragments, plain=False), kind, source)
    rng = random.Random(source)
    read = sorted({n for op in SPEC.operations.values() for n in op.input_names} | {"response"})
    for _ in range(40):
        context = {name: rng.choice(POOL) for name in read}
        if "uuid" in source:
            continue  # a fresh value each render: compared below by shape only
        assert _outcome(plain.render, context) == _outcome(jinja.render, context), context


def test_shipped_paths_and_headers_have_plain_forms() -> None:
    templates = Templates(SPEC.fragments)
    for kind, source in _shipped_templates():
        if kind == "path":
            assert templates._form("path", source) is not None, source
    prefer = '{% if time_zone %}outlook.timezone="{{ time_zone }}"{% endif %}'
    assert templates._form("value", prefer) is not None


PREFER = [
    '{% if time_zone %}outlook.timezone="{{ time_zone }}"{% endif %}',
    '{% if not immutable_ids %}x{% elif token %}IdType="ImmutableId"{% else %}{% endif %}',
    "Bearer {{ token }} and {{ other | csv }}{# a comment #}",
    "{{ token }}",
    "  {{ other | csv }} ",
]


@pytest.mark.parametrize("source", PREFER)
@pytest.mark.parametrize("value", POOL)
def test_plain_text_renders_as_jinja_does(source: str, value: object) -> None:
    plain = _compile(Templates({}), "value", source)
    jinja = _compile(Templates({}, plain=False), "value", source)
    context = dict.fromkeys(("time_zone", "immutable_ids", "token", "other"), value)
    assert _outcome(plain.render, context) == _outcome(jinja.render, context)
    assert plain.names == jinja.names


@pytest.mark.parametrize("plain", [True, False])
def test_a_missing_or_none_path_value_is_refused(plain: bool) -> None:
    path = Templates({}, plain=plain).path("/me/events/{{ event_id }}")
    with pytest.raises(TemplateRenderError, match="undefined"):
        path.render({})
    with pytest.raises(TemplateRenderError, match="a path value is missing"):
        path.render({"event_id": None})


@pytest.mark.parametrize("plain", [True, False])
def test_the_call_cap_holds(plain: bool) -> None:
    path = Templates({}, plain=plain).path("/me/events/{{ event_id }}")
    with output_cap(20), pytest.raises(TemplateOutputError, match="more than 20"):
        path.render({"event_id": "x" * 30})


def test_what_has_no_plain_form_stays_with_jinja() -> None:
    templates = Templates({"frag": "/x/{{ a }}"})
    for source in (
        "{{ uuid() }}",
        "{{ {'deleted': true} }}",
        "{% for x in a %}{{ x }}{% endfor %}",
    ):
        assert templates._form("value", source) is None
    assert templates._form("path", "{% include b %}") is None  # a computed include
    assert templates.value("{{ {'deleted': true} }}").render({}) == {"deleted": True}  # type: ignore[union-attr]
    assert templates.path("{% include 'frag' %}/y").render({"a": "1/2"}) == "/x/1%2F2/y"


class _Kept:
    def __init__(self) -> None:
        self.values: dict[bytes, Any] = {}
        self.computed = 0

    def derive(self, key: bytes, compute: Callable[[], Any]) -> Any:
        if key not in self.values:
            self.computed += 1
            self.values[key] = compute()
        return self.values[key]


def test_plain_forms_are_derived_once_per_spec_and_kept() -> None:
    kept = _Kept()
    Templates(SPEC.fragments, forms=kept).path("{% include 'event_owner' %}/events/{{ event_id }}")
    assert kept.computed == 1
    Templates(SPEC.fragments, forms=kept).path("{% include 'event_owner' %}/events/{{ event_id }}")
    assert kept.computed == 1  # a second process finds it kept
    Templates({**SPEC.fragments, "mailbox": "/me"}, forms=kept).path(
        "{% include 'event_owner' %}/events/{{ event_id }}"
    )
    assert kept.computed == 2  # another fragment, another form


def test_a_warm_cli_call_loads_neither_jinja_nor_jsonschema(tmp_path: Any) -> None:
    """What a cold `mscal run` imports once the spec cache is warm: no Jinja, no jsonschema."""
    script = (
        "import sys\n"
        "from mscal import load_connector\n"
        "c = load_connector()\n"
        "s = c.session(auth=c.authentication(access_token='t'))\n"
        "s.prepare('list_calendars', {'top': 3, 'select': ['name']})\n"
        "s.prepare('get_event', {'event_id': 'e1', 'time_zone': 'UTC'})\n"
        "s.prepare('list_events', {'user_id': 'u1', 'filter': \"subject eq 'x'\"})\n"
        "print(sorted(m for m in ('jinja2', 'jsonschema', 'referencing') if m in sys.modules))\n"
    )
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs[1] == "[]", runs  # the first run derived and kept the plain forms
