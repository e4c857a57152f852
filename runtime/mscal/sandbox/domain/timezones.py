"""Time zones as Graph names them (Windows or IANA), and Graph's dateTime strings."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import tz_win, win_tz

from mscal.sandbox.errors import bad_request

UTC = dt.UTC


def zone(name: object) -> dt.tzinfo:
    """A Windows ('Pacific Standard Time') or IANA ('America/Los_Angeles') name as a tzinfo."""
    if name is None:
        return UTC
    if not isinstance(name, str):
        raise bad_request("A timeZone must be a string.", "BadRequest")
    if not name or name.upper() in {"UTC", "Z", "COORDINATED UNIVERSAL TIME"}:
        return UTC
    iana = win_tz.get(name, name)
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a directory of zones
        raise bad_request(
            f"A valid TimeZone value must be specified. The following TimeZone value is not "
            f"supported: '{name}'.",
            "TimeZoneNotSupportedException",
        ) from None


def windows_name(name: str) -> str:
    """The Windows name Graph reports for an IANA name (unchanged when unknown)."""
    return tz_win.get(name, name)


def parse_local(value: str) -> dt.datetime:
    """A dateTime as clients send it: local, optional fraction of up to 7 digits, or an offset."""
    if not isinstance(value, str):
        raise bad_request(f"Cannot convert the literal '{value}' to a dateTime.", "BadRequest")
    text = value.strip().replace("Z", "+00:00")
    if "." in text:
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        rest = tail[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(
            f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTimeOffset'.",
            "BadRequest",
        ) from None


def to_utc(value: str, tz_name: str | None) -> dt.datetime:
    """A dateTimeTimeZone pair as a naive UTC datetime."""
    parsed = parse_local(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(tz_name))
    try:
        return parsed.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # a time at the edge of the calendar, shifted past it
        raise bad_request(
            f"The dateTime '{value}' is out of range.", "ErrorPropertyValidationFailure"
        ) from None


def from_utc(value: dt.datetime, tz_name: str | None) -> dict[str, str]:
    """A naive UTC datetime as Graph's dateTimeTimeZone in the given zone."""
    local = value.replace(tzinfo=UTC).astimezone(zone(tz_name))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": tz_name or "UTC"}


def graph_timestamp(value: dt.datetime | None = None) -> str:
    value = value or dt.datetime.now(UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0Z"
