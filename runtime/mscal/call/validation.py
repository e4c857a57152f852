"""Input validation: a validator built once per operation, and errors that name field and rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import httpx2
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry

from mscal.call.validity_keys import Key, length_only_inputs, validity_key
from mscal.errors import InputError


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


FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checks("date-time")(_is_date_time)
FORMAT_CHECKER.checks("date")(_is_date)
FORMAT_CHECKER.checks("uri")(_is_uri)
FORMAT_DESCRIPTIONS = {
    "date-time": "an ISO 8601 date and time, e.g. 2026-11-23T09:00:00Z",
    "date": "an ISO 8601 date, e.g. 2026-11-23",
    "uri": "an absolute URL",
}


class InputValidator:
    """Validates one operation's inputs; built once, reused for every call."""

    def __init__(self, resolved: Mapping[str, Any], registry: Registry[Any]) -> None:
        # The schema with its $refs already inlined: resolving references on every call would
        # cost more than the validation itself. The registry serves any cycle left as a $ref.
        self._validator = Draft202012Validator(
            dict(resolved), registry=registry, format_checker=FORMAT_CHECKER
        )
        properties = resolved.get("properties") or {}
        self._known = tuple(properties)
        # Inputs already found valid, by `validity_keys`: plain values, ids by their length.
        self._valid: set[Key] = set()
        self._lengths = length_only_inputs(resolved)
        self._defaults = {
            name: prop["default"]
            for name, prop in properties.items()
            if isinstance(prop, dict) and "default" in prop
        }

    def validate(self, inputs: Any, *, max_depth: int = 64) -> dict[str, Any]:
        """Return the inputs with top-level defaults applied, or raise InputError."""
        if not isinstance(inputs, Mapping):
            raise InputError("", "type", "inputs must be a JSON object")
        check_depth(inputs, max_depth)
        merged = {**self._defaults, **inputs}
        key = validity_key(merged, self._lengths)
        if key is not None and key in self._valid:
            return merged
        if next(self._validator.iter_errors(merged), None) is not None:
            # Only now look at every error, to pick the one that helps.
            error = best_match(self._validator.iter_errors(merged))
            assert error is not None
            raise describe_error(error, self._known)
        if key is not None:
            if len(self._valid) >= VALID_MEMO_SIZE:
                self._valid.clear()
            self._valid.add(key)
        return merged


VALID_MEMO_SIZE = 1024


def check_depth(inputs: Mapping[str, Any], max_depth: int) -> None:
    """Refuse input nested deeper than `max_depth` levels, before anything recursive (the
    schema validator, the JSON encoder) meets it and fails with a RecursionError."""
    for name, value in inputs.items():
        if not isinstance(value, (dict, list)):
            continue
        stack: list[tuple[Any, int]] = [(value, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > max_depth:
                raise InputError(str(name), "depth", f"is nested more than {max_depth} levels deep")
            children = node.values() if isinstance(node, dict) else node
            stack.extend(
                (child, depth + 1) for child in children if isinstance(child, (dict, list))
            )


def describe_error(error: ValidationError, known: Iterable[str] = ()) -> InputError:
    """Turn jsonschema's error into one sentence naming the field and the rule it broke."""
    path = _field_path(error.absolute_path)
    rule = str(error.validator)
    custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if isinstance(custom, str):
        # The spec says what to tell the person, and which field a rule across fields is about
        # (for a list, the list rather than one of its items).
        named = error.schema.get("x-field") if isinstance(error.schema, dict) else None
        field = (
            str(named)
            if named
            else _field_path([p for p in error.absolute_path if not isinstance(p, int)])
        )
        return InputError(field, rule, " ".join(custom.split()))
    value: Any = error.validator_value
    instance: Any = error.instance
    if rule == "required":
        missing = next((name for name in value if name not in instance), value[0])
        return InputError(_join(path, missing), "required", "is required")
    if rule == "additionalProperties":
        schema: Any = error.schema
        allowed = set((schema.get("properties") if isinstance(schema, dict) else None) or known)
        unexpected = sorted(name for name in instance if name not in allowed)
        field = _join(path, unexpected[0]) if unexpected else path
        hint = f" (known inputs: {', '.join(sorted(allowed))})" if allowed and not path else ""
        return InputError(field, "unknown", f"is not a known input{hint}")
    if rule == "not" and isinstance(value, dict) and "required" in value:
        first, *others = value["required"]
        return InputError(
            _join(path, first), "exclusive", f"cannot be combined with {', '.join(others)}"
        )
    if rule == "dependentRequired":
        present = next((name for name in value if name in instance), "")
        missing = next((n for n in value.get(present, []) if n not in instance), "")
        return InputError(_join(path, missing), "required", f"is required with {present}")
    if rule == "type":
        types = value if isinstance(value, list) else [value]
        return InputError(path, "type", f"must be {' or '.join(types)}, got {_type_name(instance)}")
    if rule == "format":
        wanted = FORMAT_DESCRIPTIONS.get(str(value), f"in {value} format")
        return InputError(path, "format", f"must be {wanted}, got {_shown(instance)}")
    if rule == "enum":
        return InputError(
            path, "enum", f"must be one of {', '.join(map(str, value))}, got {_shown(instance)}"
        )
    if rule == "pattern":
        return InputError(path, "pattern", f"{_shown(instance)} does not match the pattern {value}")
    if rule in {"maxLength", "minLength"} and isinstance(instance, str):
        bound = "at most" if rule == "maxLength" else "at least"
        return InputError(
            path, rule, f"must be {bound} {value} characters long, got {len(instance)}"
        )
    if rule == "minProperties":
        return InputError(
            path, rule, f"needs at least {value} propert{'y' if value == 1 else 'ies'}"
        )
    return InputError(path, rule, error.message)


def _shown(value: Any) -> str:
    """A value as quoted in an error, cut short: an input may be megabytes long."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _field_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_name(value: Any) -> str:
    names = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)
