"""Expanding Graph's patternedRecurrence into occurrences, in the series' own time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from dateutil import rrule

from mscal.sandbox.domain.timezones import UTC, zone
from mscal.sandbox.errors import bad_request

_DAYS = {
    "monday": rrule.MO,
    "tuesday": rrule.TU,
    "wednesday": rrule.WE,
    "thursday": rrule.TH,
    "friday": rrule.FR,
    "saturday": rrule.SA,
    "sunday": rrule.SU,
}
_INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_FREQ: dict[str, Any] = {
    "daily": rrule.DAILY,
    "weekly": rrule.WEEKLY,
    "absoluteMonthly": rrule.MONTHLY,
    "relativeMonthly": rrule.MONTHLY,
    "absoluteYearly": rrule.YEARLY,
    "relativeYearly": rrule.YEARLY,
}
# A series with no end is expanded at most this far, so a query can never run forever.
MAX_OCCURRENCES = 100_000
MAX_INTERVAL = 999


def _invalid(detail: str) -> Exception:
    return bad_request(f"The recurrence is not valid: {detail}.", "ErrorPropertyValidationFailure")


def _whole(part: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    """A whole number of the pattern or range, within Graph's bounds: a series with interval 0
    or -1 stored once would make every later view of its mailbox fail."""
    value = part.get(name)
    if value is None or (value == 0 and default):
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _invalid(f"{name} must be a whole number from {low} to {high}")
    return value


def _days(pattern: dict[str, Any]) -> list[rrule.weekday]:
    names = pattern.get("daysOfWeek") or []
    try:
        return [_DAYS[name.lower()] for name in names]
    except (KeyError, AttributeError):
        raise _invalid(f"unknown day in daysOfWeek {names}") from None


def build_rule(recurrence: dict[str, Any], local_start: dt.datetime) -> rrule.rrule:
    """An rrule over naive local datetimes; the first occurrence is on or after range.startDate."""
    pattern = recurrence.get("pattern") or {}
    range_ = recurrence.get("range") or {}
    kind = pattern.get("type")
    if kind not in _FREQ:
        raise _invalid(f"pattern type {kind!r}")
    try:
        start_date = dt.date.fromisoformat(
            range_.get("startDate") or local_start.date().isoformat()
        )
    except ValueError:
        raise _invalid("range.startDate is not a date") from None
    options: dict[str, Any] = {
        "dtstart": dt.datetime.combine(start_date, local_start.time()),
        "interval": _whole(pattern, "interval", 1, 1, MAX_INTERVAL),
    }
    if kind == "weekly":
        options["byweekday"] = _days(pattern) or [_DAYS[local_start.strftime("%A").lower()]]
        options["wkst"] = _DAYS[(pattern.get("firstDayOfWeek") or "sunday").lower()]
    elif kind == "absoluteMonthly":
        options["bymonthday"] = _whole(pattern, "dayOfMonth", local_start.day, 1, 31)
    elif kind in {"relativeMonthly", "relativeYearly"}:
        days = _days(pattern)
        if not days:
            raise _invalid(f"{kind} needs daysOfWeek")
        options["byweekday"] = days
        options["bysetpos"] = _INDEX.get((pattern.get("index") or "first").lower(), 1)
    if kind == "absoluteYearly":
        options["bymonthday"] = _whole(pattern, "dayOfMonth", local_start.day, 1, 31)
    if kind in {"absoluteYearly", "relativeYearly"}:
        options["bymonth"] = _whole(pattern, "month", local_start.month, 1, 12)

    range_type = range_.get("type", "noEnd")
    if range_type == "endDate":
        try:
            end_date = dt.date.fromisoformat(range_["endDate"])
        except (KeyError, ValueError):
            raise _invalid("range.endDate is missing or not a date") from None
        options["until"] = dt.datetime.combine(end_date, dt.time(23, 59, 59))
    elif range_type == "numbered":
        options["count"] = _whole(range_, "numberOfOccurrences", 0, 1, MAX_OCCURRENCES)
    elif range_type != "noEnd":
        raise _invalid(f"range type {range_type!r}")
    return rrule.rrule(_FREQ[kind], **options)


def occurrences(
    recurrence: dict[str, Any],
    start_utc: dt.datetime,
    end_utc: dt.datetime,
    tz_name: str | None,
    window: tuple[dt.datetime, dt.datetime] | None = None,
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """(start, end) in naive UTC of each occurrence; those overlapping `window` if given."""
    tz = zone(tz_name)
    duration = end_utc - start_utc
    local_start = start_utc.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
    rule = build_rule(recurrence, local_start)
    for count, local in enumerate(rule):
        if count >= MAX_OCCURRENCES:
            return
        begin = local.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None)
        if window is not None:
            if begin >= window[1]:
                return
            if begin + duration <= window[0]:
                continue
        yield begin, begin + duration


def full_shape(recurrence: dict[str, Any], time_zone: str, local_start: dt.date) -> dict[str, Any]:
    """The recurrence as Graph echoes it: every pattern and range property present, Graph's
    defaults where none was given, day names lowercase."""
    pattern = recurrence.get("pattern") or {}
    range_ = recurrence.get("range") or {}
    range_type = range_.get("type") or "noEnd"
    return {
        "pattern": {
            "type": pattern.get("type"),
            "interval": int(pattern.get("interval") or 1),
            "month": int(pattern.get("month") or 0),
            "dayOfMonth": int(pattern.get("dayOfMonth") or 0),
            "daysOfWeek": [str(d).lower() for d in pattern.get("daysOfWeek") or []],
            "firstDayOfWeek": str(pattern.get("firstDayOfWeek") or "sunday").lower(),
            "index": str(pattern.get("index") or "first").lower(),
        },
        "range": {
            "type": range_type,
            "startDate": range_.get("startDate") or local_start.isoformat(),
            "endDate": range_.get("endDate") if range_type == "endDate" else "0001-01-01",
            "recurrenceTimeZone": range_.get("recurrenceTimeZone") or time_zone,
            "numberOfOccurrences": int(range_.get("numberOfOccurrences") or 0)
            if range_type == "numbered"
            else 0,
        },
    }
