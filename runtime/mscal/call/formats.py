"""The string formats inputs are checked for, with the meaning Graph gives them, in one place
for both validators (jsonschema-rs's custom formats, and jsonschema's FormatChecker in
`explain.py`), and patterns read the ECMA-262 way. Nothing here imports jsonschema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import httpx2


def _is_date_time(value: object) -> bool:
    # Graph accepts ISO 8601 with or without an offset (no offset means UTC).
    if not isinstance(value, str):
        return True
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value or " " in value


def _is_local_date_time(value: object) -> bool:
    # Graph's dateTimeTimeZone.dateTime: a wall-clock time with no offset (the zone is beside
    # it). The shape is the schema's pattern; this refuses a day that does not exist
    # (2026-02-30, 2026-12-32), which Graph would answer with a 400 after a round trip.
    if not isinstance(value, str):
        return True
    try:
        parsed = dt.datetime.fromisoformat(value[:19])
    except ValueError:
        return False
    return parsed.tzinfo is None


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        url = httpx2.URL(value)
    except (httpx2.InvalidURL, UnicodeError):  # e.g. a lone surrogate, which no URL can hold
        return False
    return bool(url.scheme and url.host)


# The formats checked; any other `format` in a schema is an annotation only.
FORMATS: dict[str, Callable[[object], bool]] = {
    "date-time": _is_date_time,
    "local-date-time": _is_local_date_time,
    "date": _is_date,
    "uri": _is_uri,
}
FORMAT_DESCRIPTIONS = {
    "date-time": "an ISO 8601 date and time, e.g. 2026-11-23T09:00:00Z",
    "local-date-time": "a date and time that exists, with no offset, e.g. 2026-11-24T09:30:00",
    "date": "an ISO 8601 date, e.g. 2026-11-23",
    "uri": "an absolute URL",
}


# ECMA-262 classes that Python's `re` reads more widely on str patterns (Unicode digits and
# word characters); inside a character class only the class's members are written.
_ECMA_CLASSES = {"d": ("[0-9]", "0-9"), "w": ("[A-Za-z0-9_]", "A-Za-z0-9_")}


def ecma_pattern(pattern: str) -> str:
    r"""`pattern` as Python's `re` must read it to mean what ECMA-262 (JSON Schema's dialect,
    and jsonschema-rs's) means.

    Two differences matter for input patterns: `$` (without the multiline flag) matches only at
    the very end in ECMA, where Python's also matches before a final newline (`"ab\n"` would pass
    `^[a-z]+$`); and `\d`, `\w` are ASCII in ECMA, where Python's take any Unicode digit or letter
    (U+0660, an Arabic-Indic zero, is not a digit of a Graph date).
    """
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escaped = pattern[index + 1]
            if escaped in _ECMA_CLASSES:
                whole, members = _ECMA_CLASSES[escaped]
                out.append(members if in_class else whole)
            else:
                out.append(pattern[index : index + 2])
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append("\\Z" if char == "$" and not in_class else char)
        index += 1
    return "".join(out)
