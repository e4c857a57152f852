"""What the local service answers, through the connector, fits each operation's described output
schema: the schema a builder renders its output fields from. Graph adds annotations and fills
the numbers a value does not use with 0 (a weekly pattern's `month`), so the described output
is open and unbounded where a request's input is not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema
import pytest

import mscal
from mscal.io.session import Session
from mscal.sandbox.service import Sandbox
from tests.e2e.conftest import ALEX

WINDOW = {"start_date_time": "2026-11-01T00:00:00Z", "end_date_time": "2027-02-01T00:00:00Z"}


@pytest.fixture(scope="module")
def outputs(
    connector: mscal.Connector, sandbox: Sandbox, alex: mscal.Authentication
) -> dict[str, Any]:
    owner = sandbox.tenant.user_owner(ALEX)
    start = dt.date(2026, 12, 14)
    weekly, _ = sandbox.tenant.create_event(
        owner,
        None,
        {
            "subject": "Weekly review",
            "start": {"dateTime": f"{start}T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": f"{start}T09:30:00", "timeZone": "UTC"},
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                "range": {"type": "noEnd", "startDate": str(start)},
            },
        },
    )
    session: Session
    with connector.session(alex) as session:
        calendars = session.run("list_calendars", {})
        answered: dict[str, Any] = {
            "list_calendars": calendars,
            "get_calendar": session.run("get_calendar", {}),
            "list_calendar_groups": session.run("list_calendar_groups", {}),
            "list_events": session.run("list_events", {"max_items": 100}),
            "get_event": session.run("get_event", {"event_id": weekly["id"]}),
            "list_calendar_view": session.run("list_calendar_view", {**WINDOW, "max_items": 200}),
            "list_event_instances": session.run(
                "list_event_instances", {"event_id": weekly["id"], **WINDOW}
            ),
            "sync_calendar_view": session.run("sync_calendar_view", WINDOW),
            "list_reminders": session.run("list_reminders", WINDOW),
            "list_calendar_permissions": session.run("list_calendar_permissions", {}),
            "list_rooms": session.run("list_rooms", {}),
            "list_room_lists": session.run("list_room_lists", {}),
            "list_supported_time_zones": session.run("list_supported_time_zones", {}),
            "list_categories": session.run("list_categories", {}),
            "list_subscriptions": session.run("list_subscriptions", {}),
        }
    return answered


NAMES = [
    "list_calendars", "get_calendar", "list_calendar_groups", "list_events", "get_event",
    "list_calendar_view", "list_event_instances", "sync_calendar_view", "list_reminders",
    "list_calendar_permissions", "list_rooms", "list_room_lists", "list_supported_time_zones",
    "list_categories", "list_subscriptions",
]  # fmt: skip


@pytest.mark.parametrize("operation", NAMES)
def test_the_answer_fits_the_described_output(
    connector: mscal.Connector, outputs: dict[str, Any], operation: str
) -> None:
    schema = connector.describe(operation)["output_schema"]
    validator = jsonschema.Draft202012Validator(schema)
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(outputs[operation])
    ]
    assert errors == []


def test_a_weekly_series_answers_graphs_zeros_which_an_input_refuses(
    connector: mscal.Connector, outputs: dict[str, Any]
) -> None:
    pattern = outputs["get_event"]["recurrence"]["pattern"]
    assert (pattern["month"], pattern["dayOfMonth"]) == (0, 0)  # as Graph answers
    event = {"subject": "x", "recurrence": outputs["get_event"]["recurrence"]}
    with pytest.raises(mscal.InputError) as refused:  # the same sent back is refused
        connector.run(
            "create_event", {"event": event}, auth=connector.authentication(access_token="t")
        )
    assert "month" in str(refused.value) or "dayOfMonth" in str(refused.value)
