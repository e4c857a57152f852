"""The mirror decides what a round's items mean: one change per version, a cancellation its own
change, a deletion with the last copy, starting soon once per start."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import mscal
from mscal.triggers.mirror import EventFields, Mirror, parse_time

SOURCE = mscal.load_connector().spec.trigger("event_changed").source
NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
WINDOW = (NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30))


def _mirror() -> Mirror:
    return Mirror(EventFields.from_spec(SOURCE["event"]), {})


def _item(event_id: str, start: str = "2026-12-08T10:00:00", **extra: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "changeKey": extra.pop("changeKey", "ck1"),
        "subject": "Planning",
        "start": {"dateTime": start + ".0000000", "timeZone": "UTC"},
        "end": {"dateTime": start[:11] + "23:00:00.0000000", "timeZone": "UTC"},
        **extra,
    }


def test_versions_collapse_and_a_new_changekey_alone_is_no_change() -> None:
    mirror = _mirror()
    assert mirror.apply([_item("e1"), _item("e1")], "@removed") == [("created", _item("e1"))]
    assert mirror.apply([_item("e1", changeKey="ck2")], "@removed") == []
    assert [c for c, _ in mirror.apply([_item("e1", subject="Moved")], "@removed")] == ["updated"]


def test_a_cancellation_is_its_own_change_and_a_deletion_carries_the_copy() -> None:
    mirror = _mirror()
    mirror.apply([_item("e1")], "@removed")
    cancelled = _item("e1", isCancelled=True, subject="Canceled: Planning")
    assert [c for c, _ in mirror.apply([cancelled], "@removed")] == ["cancelled"]
    found = mirror.apply([{"id": "e1", "@removed": {"reason": "deleted"}}], "@removed")
    assert found == [("deleted", {k: v for k, v in cancelled.items() if k != "body"})]
    assert mirror.events == {}


def test_a_full_round_forgets_what_left_the_window_quietly() -> None:
    mirror = _mirror()
    mirror.apply([_item("past", start="2026-12-01T10:00:00"), _item("gone")], "@removed")
    found = mirror.reconcile([], WINDOW, since=NOW, emit_new=False)
    assert [(c, e["id"]) for c, e in found] == [("deleted", "gone")]


def test_starting_soon_once_per_start_and_never_for_a_cancelled_event() -> None:
    mirror = _mirror()
    mirror.apply(
        [
            _item("soon", start="2026-12-07T12:10:00"),
            _item("later", start="2026-12-07T13:00:00"),
            _item("off", start="2026-12-07T12:05:00", isCancelled=True),
        ],
        "@removed",
    )
    announced: dict[str, str] = {}
    ahead = dt.timedelta(minutes=15)
    assert [e["id"] for _, e in mirror.starting_soon(NOW, ahead, announced)] == ["soon"]
    assert mirror.starting_soon(NOW, ahead, announced) == []
    mirror.apply([_item("soon", start="2026-12-07T12:14:00", subject="Moved")], "@removed")
    assert [e["id"] for _, e in mirror.starting_soon(NOW, ahead, announced)] == ["soon"]
    later = NOW + dt.timedelta(minutes=50)
    assert [e["id"] for _, e in mirror.starting_soon(later, ahead, announced)] == ["later"]


def test_a_late_look_still_announces_what_came_within_the_look_ahead_since_the_last() -> None:
    # NOW is 12:00. The last look was at 11:50; an event started at 11:58, unannounced (the
    # rounds were late): announced, late. One that started before the last look, or more than
    # the look-ahead ago, is not; a first look announces only what is ahead.
    mirror = _mirror()
    mirror.apply(
        [
            _item("missed", start="2026-12-07T11:58:00"),
            _item("before", start="2026-12-07T11:49:00"),
            _item("ahead", start="2026-12-07T12:20:00"),
        ],
        "@removed",
    )
    ahead = dt.timedelta(minutes=15)
    checked = NOW - dt.timedelta(minutes=10)
    first: dict[str, str] = {}
    assert mirror.starting_soon(NOW, ahead, first) == []
    announced: dict[str, str] = {}
    found = mirror.starting_soon(NOW, ahead, announced, checked)
    assert [e["id"] for _, e in found] == ["missed"]
    long_ago = NOW - dt.timedelta(hours=3)  # down for hours: at most the look-ahead late
    late = mirror.starting_soon(NOW, ahead, {}, long_ago)
    assert [e["id"] for _, e in late] == ["missed", "before"]
    # The next event to come within the look-ahead: "ahead", at 12:05.
    assert mirror.next_soon(NOW, ahead, announced) == NOW + dt.timedelta(minutes=5)
    assert mirror.next_soon(NOW + dt.timedelta(minutes=21), ahead, announced) is None


def test_graph_times_read_with_seven_digits() -> None:
    assert parse_time("2026-12-07T10:00:00.1234567Z") == dt.datetime(
        2026, 12, 7, 10, 0, 0, 123456, tzinfo=dt.UTC
    )
    assert parse_time("2026-12-07T10:00:00") == dt.datetime(2026, 12, 7, 10, tzinfo=dt.UTC)
    assert parse_time("not a time") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-07T22:44:23.7659470Z", "2026-12-07T22:44:23.765947+00:00"),  # Graph's form
        ("2026-12-07T22:44:23.7659470", "2026-12-07T22:44:23.765947+00:00"),  # UTC in the body
        ("2026-12-07T22:44:23.7659470+01:00", "2026-12-07T21:44:23.765947+00:00"),
        (" 2026-12-07T22:44:23.123456789012Z ", "2026-12-07T22:44:23.123456+00:00"),
        ("2026-12-07", "2026-12-07T00:00:00+00:00"),
    ],
)
def test_graph_times_read_as_utc(text: str, expected: str) -> None:
    parsed = parse_time(text)
    assert parsed is not None and parsed.isoformat() == expected


@pytest.mark.parametrize("text", ["", "soon", "2026-13-07T10:00:00Z", None, 1733572800])
def test_what_is_not_a_time_reads_as_none(text: object) -> None:
    assert parse_time(text) is None
