"""calendarView delta rounds against the local service: each change shows up exactly once."""

from __future__ import annotations

import httpx2
import pytest

import mscal
from mscal.io.session import Session

RANGE = {"start_date_time": "2026-12-14T00:00:00Z", "end_date_time": "2026-12-21T00:00:00Z"}


def _event(subject: str, day: int, hour: int = 10, **extra: object) -> dict[str, object]:
    return {
        "subject": subject,
        "start": {"dateTime": f"2026-12-{day:02d}T{hour:02d}:00:00", "timeZone": "UTC"},
        "end": {"dateTime": f"2026-12-{day:02d}T{hour:02d}:30:00", "timeZone": "UTC"},
        **extra,
    }


def _ids(result: dict[str, object]) -> tuple[set[str], set[str]]:
    items = result["value"]
    assert isinstance(items, list)
    present = {i["id"] for i in items if "@removed" not in i}
    removed = {i["id"] for i in items if "@removed" in i}
    assert len(present) + len(removed) == len(items)  # each item once per round
    return present, removed


def test_delta_rounds_report_creates_updates_and_deletes_once(me: Session) -> None:
    calendar = me.run("create_calendar", {"calendar": {"name": "E2E delta"}})["id"]
    scope = {"calendar_id": calendar}
    keep = me.run("create_event", {**scope, "event": _event("Keep", 14)})
    change = me.run("create_event", {**scope, "event": _event("Change", 15)})
    drop = me.run("create_event", {**scope, "event": _event("Drop", 16)})
    outside = me.run("create_event", {**scope, "event": _event("Outside", 28)})

    first = me.run("sync_calendar_view", {**scope, **RANGE, "page_size": 2})
    assert _ids(first) == ({keep["id"], change["id"], drop["id"]}, set())
    assert first["next_link"] is None and first["delta_link"]

    quiet = me.run("sync_calendar_view", {**scope, "delta_link": first["delta_link"]})
    assert quiet["value"] == [] and quiet["delta_link"]

    added = me.run("create_event", {**scope, "event": _event("Added", 17)})
    me.run("update_event", {**scope, "event_id": change["id"], "event": {"subject": "Changed"}})
    me.run(
        "update_event", {**scope, "event_id": change["id"], "event": {"subject": "Changed twice"}}
    )
    me.run("delete_event", {**scope, "event_id": drop["id"]})
    me.run(
        "update_event", {**scope, "event_id": outside["id"], "event": {"subject": "Still outside"}}
    )
    me.run(
        "update_event",
        {
            **scope,
            "event_id": keep["id"],
            "event": {
                "start": {"dateTime": "2026-12-30T10:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2026-12-30T11:00:00", "timeZone": "UTC"},
            },
        },
    )

    second = me.run(
        "sync_calendar_view", {**scope, "delta_link": quiet["delta_link"], "page_size": 1}
    )
    present, removed = _ids(second)
    assert present == {added["id"], change["id"]}
    assert removed == {
        drop["id"],
        keep["id"],
        outside["id"],
    }  # moved out of range counts as removed
    subjects = {i["id"]: i.get("subject") for i in second["value"]}
    assert subjects[change["id"]] == "Changed twice"

    third = me.run("sync_calendar_view", {**scope, "delta_link": second["delta_link"]})
    assert third["value"] == []
    me.run("delete_calendar", {"calendar_id": calendar})


def test_delta_covers_series_occurrences(me: Session) -> None:
    calendar = me.run("create_calendar", {"calendar": {"name": "E2E delta series"}})["id"]
    scope = {"calendar_id": calendar}
    series = me.run(
        "create_event",
        {
            **scope,
            "event": _event(
                "Daily",
                14,
                recurrence={
                    "pattern": {"type": "daily", "interval": 1},
                    "range": {
                        "type": "numbered",
                        "startDate": "2026-12-14",
                        "numberOfOccurrences": 5,
                    },
                },
            ),
        },
    )
    first = me.run("sync_calendar_view", {**scope, **RANGE})
    occurrences = sorted(first["value"], key=lambda o: o["start"]["dateTime"])
    assert len(occurrences) == 5 and {o["seriesMasterId"] for o in occurrences} == {series["id"]}
    me.run("delete_event", {"event_id": occurrences[2]["id"]})
    second = me.run("sync_calendar_view", {**scope, "delta_link": first["delta_link"]})
    present, removed = _ids(second)
    assert removed == {occurrences[2]["id"]}
    assert present == {o["id"] for o in occurrences} - removed
    me.run("delete_calendar", {"calendar_id": calendar})


def test_an_expired_delta_token_needs_a_full_sync(me: Session, service: str) -> None:
    first = me.run("sync_calendar_view", RANGE)
    assert httpx2.post(f"{service}/_sandbox/expire-delta-tokens").status_code == 204
    with pytest.raises(mscal.GraphError) as caught:
        me.run("sync_calendar_view", {"delta_link": first["delta_link"]})
    assert (caught.value.status_code, caught.value.code) == (410, "SyncStateNotFound")
