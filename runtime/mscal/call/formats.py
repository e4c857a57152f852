"""The string formats inputs are checked for, with the meaning Graph gives them, in one place
for both validators (jsonschema's FormatChecker and jsonschema-rs's custom formats)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx2
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError


def _is_date_time(value: object) -> bool:
    # Graph accepts ISO 8601 with or without an offset (no offset means UTC).
    if not isinstance(value, str):
        return True
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value or " " in value


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
    "date": _is_date,
    "uri": _is_uri,
}
FORMAT_CHECKER = FormatChecker(formats=())
for _name, _check in FORMATS.items():
    FORMAT_CHECKER.checks(_name)(_check)
FORMAT_DESCRIPTIONS = {
    "date-time": "an ISO 8601 date and time, e.g. 2026-11-23T09:00:00Z",
    "date": "an ISO 8601 date, e.g. 2026-11-23",
    "uri": "an absolute URL",
}


def ecma_anchors(pattern: str) -> str:
    """`pattern` with each `$` outside a character class made to match only at the very end.

    JSON Schema patterns are ECMA-262 regular expressions, where `$` (without the multiline
    flag) matches only at the end of the string; Python's `$` also matches before a final
    newline, so `"ab\\n"` would pass `^[a-z]+$`. jsonschema-rs follows ECMA; this makes
    jsonschema agree.
    """
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
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


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not re.search(ecma_anchors(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# jsonschema's 2020-12 validator with ECMA-262 `$`: the reference for inputs and for the forms.
SchemaValidator: Any = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _ecma_pattern}
)
