"""Each limit takes effect at each level it can be set: the spec's `defaults.limits`, an
operation's `limits:`, and a session's `limits={...}`. Past it: an InputError naming the rule,
and nothing sent; under it, the request goes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpx2 import HTTPXMock

import mscal
from tests.conftest import CANARY_TOKEN, GRAPH

# Per limit: the operation it is tried on, a value, inputs past that value, inputs under it,
# and the rule of the error.
CASES: dict[str, tuple[str, int, dict[str, Any], dict[str, Any], str]] = {
    # A 200-character event id renders a path of over 200 characters (a Jinja text template).
    "template_chars": ("get_event", 100, {"event_id": "e" * 200}, {"event_id": "e" * 20}, "size"),
    "body_bytes": (
        "create_calendar",
        1000,
        {"calendar": {"name": "n" * 2000}},
        {"calendar": {"name": "n" * 10}},
        "size",
    ),
    # event > recurrence > pattern > daysOfWeek: four levels, all of them properties Graph takes.
    "input_depth": (
        "create_event",
        3,
        {
            "event": {
                "recurrence": {
                    "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                    "range": {"type": "noEnd", "startDate": "2026-11-23"},
                }
            }
        },
        {"event": {"subject": "s"}},
        "depth",
    ),
}
OPERATION_FILES = {
    "get_event": "events.yaml",
    "create_calendar": "calendars.yaml",
    "create_event": "events.yaml",
}


def _connector_with(spec_copy: Path, level: str, limit: str, value: int) -> mscal.Connector:
    if level == "spec":
        path = spec_copy / "connector.yaml"
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        document["defaults"]["limits"][limit] = value
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    elif level == "operation":
        operation = CASES[limit][0]
        path = spec_copy / "operations" / OPERATION_FILES[operation]
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        (entry,) = [op for op in document["operations"] if op["name"] == operation]
        entry.setdefault("limits", {})[limit] = value
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return mscal.load_connector(spec_copy)


def _answer(httpx2_mock: HTTPXMock, operation: str) -> None:
    if operation == "get_event":
        httpx2_mock.add_response(json={"id": "e"})
    else:
        httpx2_mock.add_response(status_code=201, json={"id": "c", "name": "n"})


@pytest.mark.parametrize("level", ["spec", "operation", "session"])
@pytest.mark.parametrize("limit", sorted(CASES))
def test_a_limit_takes_effect_at_each_level(
    httpx2_mock: HTTPXMock, spec_copy: Path, level: str, limit: str
) -> None:
    operation, value, past, under, rule = CASES[limit]
    connector = _connector_with(spec_copy, level, limit, value)
    auth = connector.authentication(access_token=CANARY_TOKEN)
    session_limits = {limit: value} if level == "session" else None
    with connector.session(auth, limits=session_limits) as session:
        with pytest.raises(mscal.InputError) as caught:
            session.run(operation, past)
        assert caught.value.rule == rule
        assert httpx2_mock.get_requests() == []  # nothing was sent
        _answer(httpx2_mock, operation)
        session.run(operation, under)
    (sent,) = httpx2_mock.get_requests()
    assert str(sent.url).startswith(GRAPH)


def test_the_limits_are_not_set_at_any_level_by_default(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    # The shipped defaults let every case's "past" inputs through, so the tests above prove
    # that the level they set is the one that refused.
    auth = connector.authentication(access_token=CANARY_TOKEN)
    for operation, _value, past, _under, _rule in CASES.values():
        _answer(httpx2_mock, operation)
        connector.run(operation, past, auth=auth)
    assert len(httpx2_mock.get_requests()) == len(CASES)
