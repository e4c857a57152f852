"""Text of literal pieces and plain lookups renders without Jinja, exactly as Jinja would."""

from __future__ import annotations

import pytest
from jinja2 import TemplateError, UndefinedError

from mscal.templates.render import TemplateOutputError, Templates, ValueTemplate, output_cap

SOURCES = ["/me/events/{{ event_id }}", "/users/{{ user }}/events/{{ event_id }}/attachments"]
VALUES = ["AAMk=", "a/b?c#d%e", "é 1", 42, "{{ x }}"]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("value", VALUES)
def test_plain_path_renders_as_jinja_does(source: str, value: object) -> None:
    templates = Templates({})
    fast = templates.path(source)
    jinja = templates.path(source + "{% if false %}{% endif %}")  # a statement keeps Jinja
    context = {"event_id": value, "user": value}
    assert fast.render(context) == jinja.render(context)


def test_plain_path_refuses_a_missing_or_none_value() -> None:
    path = Templates({}).path("/me/events/{{ event_id }}")
    with pytest.raises(UndefinedError):
        path.render({})
    with pytest.raises(TemplateError, match="a path value is missing"):
        path.render({"event_id": None})


def test_plain_path_keeps_the_call_cap() -> None:
    path = Templates({}).path("/me/events/{{ event_id }}")
    with output_cap(20), pytest.raises(TemplateOutputError, match="more than 20"):
        path.render({"event_id": "x" * 30})


PREFER = [
    '{% if time_zone %}outlook.timezone="{{ time_zone }}"{% endif %}',
    '{% if immutable_ids %}IdType="ImmutableId"{% endif %}',
    "Bearer {{ token }} and {{ other }}",
]


@pytest.mark.parametrize("source", PREFER)
@pytest.mark.parametrize("value", [None, "", False, True, 0, "Europe/Paris", ["a", "b"]])
def test_plain_text_renders_as_jinja_does(source: str, value: object) -> None:
    templates = Templates({})
    fast = templates.value(source)
    jinja = templates.value(source + "{# Jinja #}")  # a comment keeps Jinja
    assert isinstance(fast, ValueTemplate) and isinstance(jinja, ValueTemplate)
    context = dict.fromkeys(("time_zone", "immutable_ids", "token", "other"), value)
    assert fast.render(context) == jinja.render(context)
