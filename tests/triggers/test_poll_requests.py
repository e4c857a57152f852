"""One poll step's exact requests: a first round over the window (UTC, big pages), the next
from the saved delta link, and on 410 SyncStateNotFound a full round that emits only what
differs from what was known."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from mscal.triggers.trigger import Trigger
from tests.conftest import GRAPH

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
FIRST = (
    f"{GRAPH}/users/adele%40contoso.com/calendars/c1/calendarView/delta"
    "?startDateTime=2026-12-06T12%3A00%3A00Z&endDateTime=2026-12-14T12%3A00%3A00Z"
)
LINK = f"{GRAPH}/users/adele%40contoso.com/calendars/c1/calendarView/delta?$deltatoken=d1"
LINK2 = LINK.replace("d1", "d2")


def _event(event_id: str, subject: str, created: str = "2026-12-01T08:00:00Z") -> dict[str, Any]:
    return {
        "id": event_id,
        "changeKey": f"ck-{subject}",
        "subject": subject,
        "createdDateTime": created,
        "lastModifiedDateTime": created,
        "start": {"dateTime": "2026-12-08T10:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-08T11:00:00.0000000", "timeZone": "UTC"},
    }


def _adeles_calendar() -> Trigger:
    """event_changed on one of Adele's calendars, a week ahead, at NOW, with a token."""
    connector = mscal.load_connector()
    return connector.trigger(
        "event_changed",
        {"user_id": "adele@contoso.com", "calendar_id": "c1", "window_days": 7},
        auth=connector.authentication(access_token="t"),
        clock=lambda: NOW,
    )


def test_a_poll_asks_for_the_window_then_follows_the_delta_link(httpx2_mock: HTTPXMock) -> None:
    trigger = _adeles_calendar()
    httpx2_mock.add_response(
        url=FIRST, json={"value": [_event("e1", "One")], "@odata.deltaLink": LINK}
    )
    first = trigger.poll(None)
    request = httpx2_mock.get_requests()[0]
    assert request.headers["Prefer"] == 'outlook.timezone="UTC", odata.maxpagesize=500'
    assert request.headers["Authorization"] == "Bearer t"
    assert first.changes == []  # the baseline
    assert first.state["delta_link"] == LINK
    assert first.state["window"] == ["2026-12-06T12:00:00Z", "2026-12-14T12:00:00Z"]

    changed = {**_event("e1", "Two"), "lastModifiedDateTime": "2026-12-07T11:00:00Z"}
    httpx2_mock.add_response(
        url=LINK,
        json={"value": [changed, changed, {"id": "e9", "@removed": {"reason": "deleted"}}],
              "@odata.deltaLink": LINK2},
    )  # fmt: skip
    second = trigger.poll(first.state)
    assert [(c.change, c.event_id, c.event["subject"]) for c in second.changes] == [
        ("updated", "e1", "Two")
    ]  # the repeat collapses; the unknown removal (never seen) is not a change
    assert second.state["delta_link"] == LINK2
    assert len(httpx2_mock.get_requests()) == 2


def test_an_expired_link_resyncs_and_emits_only_what_differs(httpx2_mock: HTTPXMock) -> None:
    trigger = _adeles_calendar()
    httpx2_mock.add_response(
        url=FIRST,
        json={"value": [_event("e1", "One"), _event("e2", "Gone")], "@odata.deltaLink": LINK},
    )
    first = trigger.poll(None)
    httpx2_mock.add_response(
        url=LINK,
        status_code=410,
        json={"error": {"code": "SyncStateNotFound", "message": "The sync state is gone."}},
    )
    new = _event("e3", "New", created="2026-12-07T11:30:00Z")
    httpx2_mock.add_response(
        url=FIRST, json={"value": [_event("e1", "One"), new], "@odata.deltaLink": LINK2}
    )
    second = trigger.poll(first.state)
    assert [(c.change, c.event_id) for c in second.changes] == [
        ("created", "e3"),
        ("deleted", "e2"),
    ]
    assert second.changes[1].event["subject"] == "Gone"  # the last known copy
    assert second.state["delta_link"] == LINK2
    assert [str(r.url) for r in httpx2_mock.get_requests()] == [FIRST, LINK, FIRST]


def test_a_round_follows_its_pages_one_call_each(httpx2_mock: HTTPXMock) -> None:
    trigger = _adeles_calendar()
    page2 = LINK.replace("$deltatoken=d1", "$skiptoken=s1")
    httpx2_mock.add_response(
        url=FIRST, json={"value": [_event("e1", "One")], "@odata.nextLink": page2}
    )
    httpx2_mock.add_response(
        url=page2, json={"value": [_event("e2", "Two")], "@odata.deltaLink": LINK}
    )
    result = trigger.poll(None, copy=True)
    assert sorted(result.state["events"]) == ["e1", "e2"]
    assert result.state["delta_link"] == LINK
    second = httpx2_mock.get_requests()[1]
    assert second.headers["Prefer"] == 'outlook.timezone="UTC", odata.maxpagesize=500'


def test_a_link_that_expires_after_the_first_page_fails_the_round_and_changes_nothing(
    httpx2_mock: HTTPXMock,
) -> None:
    # Pages are read as the round goes (a big first round never holds every event at once).
    # Only an expiry on the first page, before any item was used, can become a full round; on
    # a later page the round fails, and the next one starts again from the saved state.
    trigger = _adeles_calendar()
    httpx2_mock.add_response(
        url=FIRST, json={"value": [_event("e1", "One")], "@odata.deltaLink": LINK}
    )
    saved = trigger.poll(None).state
    page2 = LINK.replace("$deltatoken=d1", "$skiptoken=s2")
    changed = {**_event("e1", "Two"), "lastModifiedDateTime": "2026-12-07T11:00:00Z"}
    httpx2_mock.add_response(url=LINK, json={"value": [changed], "@odata.nextLink": page2})
    httpx2_mock.add_response(
        url=page2,
        status_code=410,
        json={"error": {"code": "SyncStateNotFound", "message": "The sync state is gone."}},
    )
    before = json.dumps(saved, sort_keys=True)
    with pytest.raises(mscal.GraphError) as failed:
        trigger.poll(saved)
    assert failed.value.status_code == 410
    assert json.dumps(saved, sort_keys=True) == before  # e1 is still "One": not lost
    assert [str(r.url) for r in httpx2_mock.get_requests()] == [FIRST, LINK, page2]
