"""Paging never loses or repeats: 1,000 events read in chunks of 3, 7 and 13 in turn (`max_items`,
then each run resumed from the `next_link` the one before returned, alone) come back exactly
once each, in the order one full listing gives; the same for the calendar view and for every
supported time zone. Chunks of 3, 7 and 13 against pages of 10 stop inside pages, at their
ends, and inside pages already resumed into. Over real loopback sockets against the local
service (one reading of 1,000 in turns costs ~130 runs; each size alone would cost 550)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

import mscal
from mscal.io.session import Session
from mscal.sandbox.service import Sandbox
from tests.e2e.conftest import ADELE

COUNT = 1000
CHUNKS = (3, 7, 13)
VIEW = {"start_date_time": "2027-05-03T00:00:00Z", "end_date_time": "2027-05-08T00:00:00Z"}


@pytest.fixture(scope="module")
def calendar(sandbox: Sandbox) -> str:
    """A calendar of 1,000 events over five days, written straight into the service's store."""
    owner = sandbox.tenant.user_owner(ADELE)
    created = sandbox.tenant.create_calendar(owner, {"name": "Paging"})
    for number in range(COUNT):
        day, minute = 3 + number // 200, (number % 200) * 5
        start = f"2027-05-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:00"
        sandbox.tenant.create_event(
            owner,
            created["id"],
            {
                "subject": f"Event {number}",
                "start": {"dateTime": start, "timeZone": "UTC"},
                "end": {"dateTime": start.replace(":00:00", ":01:00"), "timeZone": "UTC"},
            },
        )
    return str(created["id"])


@pytest.fixture(scope="module")
def session(connector: mscal.Connector, adele: mscal.Authentication) -> Any:
    with connector.session(adele) as opened:
        yield opened


def _in_chunks(session: Session, operation: str, first: dict[str, Any]) -> list[Any]:
    """Every item, 3, 7, 13, 3... at a time: the first run with the operation's inputs, every
    later run with nothing but the link the one before returned."""
    sizes = itertools.cycle(CHUNKS)
    chunk = next(sizes)
    result = session.run(operation, {**first, "max_items": chunk})
    items = list(result["value"])
    runs = 1
    while result["next_link"] is not None:
        assert len(result["value"]) == chunk  # a short chunk only at the very end
        chunk = next(sizes)
        result = session.run(operation, {"next_link": result["next_link"], "max_items": chunk})
        items += result["value"]
        runs += 1
        assert runs <= COUNT, "paging does not end"
    return items


CASES = {
    "list_events": lambda calendar: {"calendar_id": calendar},
    "list_calendar_view": lambda calendar: {"calendar_id": calendar, **VIEW},
}


@pytest.mark.parametrize("operation", CASES)
def test_a_thousand_events_in_chunks_come_back_exactly_once(
    session: Session, calendar: str, operation: str
) -> None:
    whole = session.run(operation, {**CASES[operation](calendar), "top": COUNT})
    expected = [event["id"] for event in whole["value"]]
    assert len(expected) == len(set(expected)) == COUNT

    items = _in_chunks(session, operation, CASES[operation](calendar))

    ids = [event["id"] for event in items]
    assert len(ids) == len(set(ids)) == COUNT  # none lost, none repeated
    assert ids == expected
    assert {event["subject"] for event in items} == {f"Event {n}" for n in range(COUNT)}


def test_every_time_zone_in_chunks_comes_back_exactly_once(session: Session) -> None:
    whole = session.run("list_supported_time_zones", {"all_pages": True})
    expected = [zone["alias"] for zone in whole["value"]]
    assert len(expected) == len(set(expected)) > 3 * sum(CHUNKS)

    items = _in_chunks(session, "list_supported_time_zones", {})

    assert [zone["alias"] for zone in items] == expected
