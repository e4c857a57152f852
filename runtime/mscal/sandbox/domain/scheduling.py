"""Free/busy (getSchedule) and meeting-time suggestions (findMeetingTimes), computed from the
events stored in the service."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from mscal.sandbox.domain.directory import Directory
from mscal.sandbox.domain.events import Events
from mscal.sandbox.domain.occurrences import overlaps
from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.domain.timezones import UTC, from_utc, to_utc, zone
from mscal.sandbox.errors import bad_request

_STATUS_CODE = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}
# When items overlap, the slot shows the most telling status.
_PRECEDENCE = {"free": 0, "unknown": 0, "workingElsewhere": 1, "tentative": 2, "busy": 3, "oof": 4}
WORK_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]
WORK_START, WORK_END = dt.time(8), dt.time(17)
_REASON = "Suggested because it is one of the nearest times when {} attendees are available."
MAX_DURATION = dt.timedelta(days=14)
MAX_SCHEDULE_WINDOW = dt.timedelta(days=62)
# findMeetingTimes looks at most this many half-hour candidates per time slot.
MAX_CANDIDATES_SCANNED = 6000
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _window(
    body: dict[str, Any], start_key: str, end_key: str
) -> tuple[dt.datetime, dt.datetime, str]:
    start, end = body.get(start_key), body.get(end_key)
    if not isinstance(start, dict) or not isinstance(end, dict):
        raise bad_request(
            f"'{start_key}' and '{end_key}' are required dateTimeTimeZone values.",
            "ErrorInvalidParameter",
        )
    begin = to_utc(str(start.get("dateTime")), start.get("timeZone"))
    finish = to_utc(str(end.get("dateTime")), end.get("timeZone"))
    if finish <= begin:
        raise bad_request("The end must be after the start.", "ErrorInvalidParameter")
    return begin, finish, str(start.get("timeZone") or "UTC")


def duration(text: str) -> dt.timedelta:
    match = _DURATION.match(text or "")
    if not match or not any(match.groups()):
        raise bad_request(
            f"'{text}' is not an ISO 8601 duration such as PT1H.", "ErrorInvalidParameter"
        )
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    try:
        length = dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        length = dt.timedelta.max
    if length > MAX_DURATION:
        raise bad_request(
            f"'{text}' is longer than a meeting can be ({MAX_DURATION.days} days).",
            "ErrorInvalidParameter",
        )
    return length


def _typed(body: dict[str, Any], name: str, kind: Any, default: Any) -> Any:
    """A parameter of the body, which must be of `kind` when given (null: the default)."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise bad_request(
            f"Cannot convert the value of '{name}' to the expected type.", "BadRequest"
        )
    return value


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"Each item of '{name}' must be an object.", "BadRequest")
    return value


class Scheduling:
    def __init__(self, directory: Directory, events: Events) -> None:
        self.directory = directory
        self.events = events

    def _busy(
        self, address: str, start: dt.datetime, end: dt.datetime
    ) -> list[dict[str, Any]] | None:
        """A person's non-free, non-cancelled items in a window, or None if unknown here."""
        owner = self.directory.mailbox_of(address)
        if owner is None:
            return None
        return [
            e
            for e in self.events.calendar_view(owner, None, start, end)
            if e.get("showAs", "busy") != "free" and not e.get("isCancelled")
        ]

    def get_schedule(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        schedules = body.get("schedules")
        if not isinstance(schedules, list) or not schedules:
            raise bad_request(
                "'schedules' must list at least one address.", "ErrorInvalidParameter"
            )
        if len(schedules) > 100:
            raise bad_request(
                "At most 100 schedules can be requested at once.", "ErrorInvalidParameter"
            )
        start, end, tz = _window(body, "startTime", "endTime")
        if end - start > MAX_SCHEDULE_WINDOW:
            raise bad_request(
                f"The requested time window exceeds {MAX_SCHEDULE_WINDOW.days} days.",
                "ErrorInvalidParameter",
            )
        interval = _typed(body, "availabilityViewInterval", int, 30)
        if not 5 <= interval <= 1440:
            raise bad_request(
                "availabilityViewInterval must be between 5 and 1440.", "ErrorInvalidParameter"
            )
        return [self._schedule(str(address), start, end, tz, interval) for address in schedules]

    def _schedule(
        self, address: str, start: dt.datetime, end: dt.datetime, tz: str, interval: int
    ) -> dict[str, Any]:
        items = self._busy(address, start, end)
        if items is None:
            return {
                "scheduleId": address,
                "availabilityView": "",
                "scheduleItems": [],
                "error": {
                    "message": f"The user '{address}' could not be found.",
                    "responseCode": "ErrorMailRecipientNotFound",
                },
            }
        view = []
        slot = start
        while slot < end:
            window = (slot, min(slot + dt.timedelta(minutes=interval), end))
            statuses = [e.get("showAs", "busy") for e in items if overlaps(e, window)]
            best = max(statuses, key=lambda s: _PRECEDENCE.get(s, 0), default="free")
            view.append(_STATUS_CODE.get(best, "0"))
            slot = window[1]
        schedule_items = []
        for event in items:
            private = event.get("sensitivity") in {"private", "confidential"}
            item = {
                "isPrivate": private,
                "status": event.get("showAs", "busy"),
                "start": from_utc(dt.datetime.fromisoformat(event["_start"]), tz),
                "end": from_utc(dt.datetime.fromisoformat(event["_end"]), tz),
            }
            if not private:
                item["subject"] = event.get("subject", "")
                item["location"] = (event.get("location") or {}).get("displayName", "")
            schedule_items.append(item)
        return {
            "scheduleId": address,
            "availabilityView": "".join(view),
            "scheduleItems": schedule_items,
            "workingHours": {
                "daysOfWeek": WORK_DAYS,
                "startTime": "08:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": {"name": tz},
            },
        }

    def find_meeting_times(self, organizer: Owner, body: dict[str, Any]) -> dict[str, Any]:
        length = duration(_typed(body, "meetingDuration", str, "PT30M") or "PT30M")
        constraint = _typed(body, "timeConstraint", dict, {})
        domain = _typed(constraint, "activityDomain", str, "work")
        slots = [_object(s, "timeSlots") for s in _typed(constraint, "timeSlots", list, [])]
        windows = [_window(s, "start", "end") for s in slots] if slots else [self._default_window()]
        attendees = [_object(a, "attendees") for a in _typed(body, "attendees", list, [])]
        addresses = [
            str(_typed(_typed(a, "emailAddress", dict, {}), "address", str, "")) for a in attendees
        ]
        minimum = _typed(body, "minimumAttendeePercentage", (int, float), 50)
        organizer_optional = _typed(body, "isOrganizerOptional", bool, False)
        most = _typed(body, "maxCandidates", int, 5)
        candidates = []
        for begin, finish, tz in windows:
            busy = {a: self._busy(a, begin, finish) for a in [organizer.address, *addresses]}
            slot, scanned = begin, 0
            while slot + length <= finish and scanned < MAX_CANDIDATES_SCANNED:
                scanned += 1
                window = (slot, slot + length)
                if domain != "work" or _working(window, tz):
                    candidates.append(self._suggest(window, tz, organizer.address, addresses, busy))
                slot += dt.timedelta(minutes=30)
        kept = [
            c
            for c in candidates
            if c["confidence"] >= minimum
            and (organizer_optional or c["organizerAvailability"] == "free")
        ]
        kept.sort(key=lambda c: (-c["confidence"], c["meetingTimeSlot"]["start"]["dateTime"]))
        kept = kept[: most or 5]
        places = _typed(_typed(body, "locationConstraint", dict, {}), "locations", list, [])
        locations = [
            {"displayName": str(_typed(_object(p, "locations"), "displayName", str, ""))}
            for p in places
        ][:1]
        for order, suggestion in enumerate(kept, start=1):
            suggestion["order"] = order
            suggestion["locations"] = locations
        reason = "" if kept else ("AttendeesUnavailable" if candidates else "OrganizerUnavailable")
        return {"emptySuggestionsReason": reason, "meetingTimeSuggestions": kept}

    def _default_window(self) -> tuple[dt.datetime, dt.datetime, str]:
        now = dt.datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
        return now + dt.timedelta(hours=1), now + dt.timedelta(days=2), "UTC"

    def _suggest(
        self,
        window: tuple[dt.datetime, dt.datetime],
        tz: str,
        organizer: str,
        addresses: list[str],
        busy: dict[str, list[dict[str, Any]] | None],
    ) -> dict[str, Any]:
        def availability(address: str) -> str:
            items = busy.get(address)
            if items is None:
                return "unknown"
            statuses = [e.get("showAs", "busy") for e in items if overlaps(e, window)]
            return max(statuses, key=lambda s: _PRECEDENCE.get(s, 0), default="free")

        per_attendee = [
            {
                "attendee": {"type": "required", "emailAddress": {"address": a}},
                "availability": availability(a),
            }
            for a in addresses
        ]
        free = sum(1 for a in per_attendee if a["availability"] == "free")
        confidence = 100.0 * free / len(per_attendee) if per_attendee else 100.0
        return {
            "confidence": confidence,
            "organizerAvailability": availability(organizer),
            "attendeeAvailability": per_attendee,
            "meetingTimeSlot": {"start": from_utc(window[0], tz), "end": from_utc(window[1], tz)},
            "suggestionReason": _REASON.format("all" if confidence == 100 else "most"),
        }


def _working(window: tuple[dt.datetime, dt.datetime], tz: str) -> bool:
    local_start = window[0].replace(tzinfo=UTC).astimezone(zone(tz))
    local_end = window[1].replace(tzinfo=UTC).astimezone(zone(tz))
    return (
        local_start.weekday() < 5
        and local_start.date() == local_end.date()
        and local_start.time() >= WORK_START
        and local_end.time() <= WORK_END
    )
