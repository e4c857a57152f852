"""Inputs read as JSON from people (`--input`, `@file`, `--set`, `--input-file` lines), with
every way a text can break the reader turned into one InputError naming where and why: a size
over the operation's stated cap (checked before reading), bytes that are not UTF-8, nesting
deeper than the reader can follow, a number too long to convert, or NaN/Infinity (not JSON)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from typing import IO, Any

from mscal.cli.usage import UsageError
from mscal.connector import Connector
from mscal.errors import InputError

# Room for the JSON around the largest value an operation takes (keys, quotes, other inputs).
_ENVELOPE_BYTES = 1 << 20
# Inputs of a command with no operation to size them by (a trigger's): a request body's 5 MiB
# and the envelope.
DEFAULT_CAP = (5 << 20) + _ENVELOPE_BYTES
# CPython refuses to convert longer integers (sys.get_int_max_str_digits()); say so first.
MAX_INT_DIGITS = 4300


def input_cap(connector: Connector, operation: str) -> int:
    """The most bytes of JSON an operation's inputs may take: its request body limit, or its
    longest string input (an upload's base64 content), plus 1 MiB for the rest."""
    limits = connector.compiled(operation).limits
    schema = connector.describe(operation)["input_schema"]
    longest = max(
        (
            int(prop.get("maxLength", 0))
            for prop in (schema.get("properties") or {}).values()
            if isinstance(prop, dict)
        ),
        default=0,
    )
    return max(limits.body_bytes or 0, longest) + _ENVELOPE_BYTES


def _integer(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _RefusedError(
            "size", f"holds an integer of {digits} digits (at most {MAX_INT_DIGITS})"
        )
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _RefusedError("type", f"holds the number {text[:40]}, too large for a JSON number")
    return value


def _constant(text: str) -> Any:
    raise _RefusedError("json", f"holds {text}, which is not JSON")


class _RefusedError(ValueError):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def strict_loads(text: str | bytes, source: str, field: str = "") -> Any:
    """`json.loads` that refuses what would crash or mislead later (depth, huge integers,
    NaN, Infinity) as an InputError; a syntax error is left as json.JSONDecodeError, for the
    caller to describe."""
    try:
        return json.loads(text, parse_int=_integer, parse_float=_number, parse_constant=_constant)
    except _RefusedError as exc:
        raise InputError(field, exc.rule, f"{source} {exc.message}".strip()) from None
    except RecursionError:
        raise InputError(field, "depth", f"{source} is nested too deeply to read".strip()) from None


def parse_json(data: bytes | str, source: str, cap: int | None = None) -> Any:
    """A JSON value from bytes or text, or one InputError (field empty, the source named)."""
    size = len(data)
    if cap is not None and size > cap:
        raise InputError("", "size", f"{source} is {size} bytes; at most {cap} are accepted")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                "", "encoding", f"{source} is not valid UTF-8 (byte {exc.start} of {size})"
            ) from None
    else:
        text = data
    try:
        return json.loads(text, parse_int=_integer, parse_float=_number, parse_constant=_constant)
    except _RefusedError as exc:
        raise InputError("", exc.rule, f"{source} {exc.message}") from None
    except RecursionError:
        raise InputError("", "depth", f"{source} is nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            "",
            "json",
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None


def parse_json_object(data: bytes | str, source: str, cap: int | None = None) -> dict[str, Any]:
    value = parse_json(data, source, cap)
    if not isinstance(value, dict):
        raise InputError("", "type", f"{source} must be a JSON object of inputs")
    return value


def read_text_capped(path: str, cap: int) -> str:
    """A file of inputs as text: its size is checked before a byte is read, and bytes that
    are not UTF-8 are an InputError naming where."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > cap:
                raise InputError("", "size", f"{path} is {size} bytes; at most {cap} are accepted")
            data = handle.read(cap + 1)  # a file that grew meanwhile is still bounded
    except OSError as exc:
        raise UsageError(f"--input: cannot read {path}: {exc.strerror}") from None
    if len(data) > cap:
        raise InputError("", "size", f"{path} is over {cap} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            "", "encoding", f"{path} is not valid UTF-8 (byte {exc.start} of {len(data)})"
        ) from None


def json_lines(handle: IO[Any], source: str, cap: int) -> Iterator[dict[str, Any] | InputError]:
    """Each non-blank line's inputs, or the InputError that line is, one line in memory at a
    time: a line over `cap` is skipped to its end, never held. `handle` is binary (a text
    stream such as a test's stdin works too)."""
    number = 0
    while True:
        line = handle.readline(cap + 1)
        if not line:
            return
        number += 1
        where = f"{source} line {number}"
        newline = b"\n" if isinstance(line, bytes) else "\n"
        if len(line) > cap and not line.endswith(newline):
            while line and not line.endswith(newline):
                line = handle.readline(1 << 20)
            yield InputError("", "size", f"{where} is more than {cap} bytes")
            continue
        if not line.strip():
            continue
        try:
            yield parse_json_object(line, where)
        except InputError as exc:
            yield exc
