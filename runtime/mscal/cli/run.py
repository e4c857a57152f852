"""`mscal operations`, `describe` and `run`: the operations for people, inputs from JSON,
`--set key=value` (coerced by the input schema's types) and credentials from flags."""

from __future__ import annotations

import argparse
import base64
import json
import os
from pathlib import Path
from typing import Any

from mscal.auth.form import Authentication, check_token_text
from mscal.auth.tokens import TokenSource
from mscal.call.guard import Origin
from mscal.cli.auth import stored_connection
from mscal.cli.json_input import DEFAULT_CAP, input_cap, read_text_capped, strict_loads
from mscal.cli.usage import TOKEN_ENV, UsageError, print_json
from mscal.connector import Connector
from mscal.errors import InputError


def list_operations(connector: Connector, *, as_json: bool) -> int:
    operations = connector.operations
    if as_json:
        print_json(
            [{k: op[k] for k in ("name", "title", "group", "description")} for op in operations]
        )
        return 0
    groups: dict[str, list[dict[str, Any]]] = {}
    for op in operations:
        groups.setdefault(op["group"], []).append(op)
    width = max(len(op["name"]) for op in operations)
    for group, members in groups.items():
        print(group)
        for op in members:
            print(f"  {op['name']:<{width}}  {op['title']}")
    return 0


def describe_operation(connector: Connector, operation: str | None, *, as_json: bool) -> int:
    if operation is not None and operation in connector.spec.triggers:
        print_json(connector.describe_trigger(operation))
        return 0
    if operation is None or as_json:
        print_json(connector.describe(operation))
        return 0
    # Imported here: only the human view needs the text layout.
    from mscal.cli.explain import operation_text  # noqa: PLC0415

    print(operation_text(connector.describe(operation)))
    return 0


def run_operation(connector: Connector, args: argparse.Namespace) -> int:
    described = connector.describe(args.operation)
    cap = input_cap(connector, args.operation)
    inputs = read_inputs(args.input, args.set, described["input_schema"], cap)

    if args.results and not args.input_file:
        raise UsageError("--results goes with --input-file (a bulk run)")
    if args.input_file and (args.input or args.set):
        raise UsageError("--input-file gives every input; it cannot be combined with --input/--set")
    tokens, base_url = connection(connector, args)
    if args.input_file:
        # Imported here: only a bulk run needs the JSON-lines reader and the progress bar.
        from mscal.cli.bulk import run_file  # noqa: PLC0415

        with connector.session(tokens, base_url=base_url) as session:
            return run_file(
                session,
                args.operation,
                args.input_file,
                jsonl=args.jsonl,
                cap=cap,
                results=args.results,
            )
    print_json(connector.run(args.operation, inputs, auth=tokens, base_url=base_url))
    return 0


def connection(
    connector: Connector, args: argparse.Namespace
) -> tuple[TokenSource | Authentication, str | None]:
    """The credentials of --auth NAME, or of --token (or $MSCAL_ACCESS_TOKEN) and --base-url."""
    if args.auth and args.token:
        raise UsageError("give either --auth or --token, not both")
    token = args.token or os.environ.get(TOKEN_ENV)
    if args.auth:
        tokens, authentication = stored_connection(connector, args.auth)
        return tokens, _base_url_for(args, authentication.base_url)
    if token:
        check_token_text("--token" if args.token else TOKEN_ENV, token)
        values = {"base_url": args.base_url} if args.base_url else {}
        return connector.authentication(values, access_token=token), None
    raise UsageError(f"no credentials: pass --token, set ${TOKEN_ENV}, or use --auth NAME")


def _base_url_for(args: argparse.Namespace, stored: str) -> str:
    """`--base-url` with `--auth`: the stored authentication's token goes only to its own
    origin, unless `--send-token-to-base-url` says it may go to the one given."""
    if not args.base_url:
        return stored
    given, own = Origin.from_base_url(args.base_url), Origin.from_base_url(stored)
    same = (given.scheme, given.host, given.port) == (own.scheme, own.host, own.port)
    if not same and not getattr(args, "send_token_to_base_url", False):
        raise UsageError(
            f"--base-url {given.scheme}://{given.host}:{given.port} is not the origin of "
            f"authentication {args.auth!r} ({own.scheme}://{own.host}:{own.port}): its token "
            "would go there; add --send-token-to-base-url if it should"
        )
    return str(args.base_url)


def read_inputs(
    raw: str | None, assignments: list[str], schema: dict[str, Any], cap: int = DEFAULT_CAP
) -> dict[str, Any]:
    """--input JSON (or @file.json) with each --set key=value applied over it."""
    inputs = _read_inputs(raw, cap)
    for assignment in assignments:
        _assign(inputs, assignment, schema)
    return inputs


def _read_inputs(raw: str | None, cap: int) -> dict[str, Any]:
    if not raw:
        return {}
    source = "--input"
    if raw.startswith("@"):
        source = raw[1:]
        raw = read_text_capped(source, cap)
    elif len(raw) > cap:
        raise InputError("", "size", f"--input is {len(raw)} bytes; at most {cap} are accepted")
    value = _parse_json(raw, "", source)
    if not isinstance(value, dict):
        raise InputError("", "type", f"{source} must be a JSON object of inputs")
    return value


def _parse_json(text: str, field: str, source: str | None) -> Any:
    """JSON, or an InputError saying where the syntax breaks (line, column and the text there);
    `source` names the file or flag the text came from when it is not the field itself."""
    try:
        return strict_loads(text, source or "the value", field)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        line = lines[exc.lineno - 1] if exc.lineno <= len(lines) else ""
        near = line[max(0, exc.colno - 21) : exc.colno + 20]
        where = (
            "at the end (is something not closed?)"
            if exc.pos >= len(text.rstrip())
            else f"at line {exc.lineno} column {exc.colno}"
            + (f", near {near!r}" if near.strip() else "")
        )
        raise InputError(
            field,
            "json",
            f"{source + ' ' if source else ''}is not valid JSON: {exc.msg} {where}",
        ) from None


def split_key(key: str) -> list[str]:
    r"""A dotted key's parts; `\.` is a dot inside a part (`attachment.@odata\.type`)."""
    parts = [""]
    index = 0
    while index < len(key):
        char = key[index]
        if char == "\\" and key[index + 1 : index + 2] in {".", "\\"}:
            parts[-1] += key[index + 1]
            index += 2
            continue
        if char == ".":
            parts.append("")
        else:
            parts[-1] += char
        index += 1
    return parts


def _assign(inputs: dict[str, Any], assignment: str, schema: dict[str, Any]) -> None:
    """Apply `key=value`; values of non-string inputs are read as JSON (lists also as a,b,c);
    `@path` reads the value from a file."""
    key, sep, text = assignment.partition("=")
    if not sep or not key:
        raise UsageError(f"--set {assignment!r}: expected KEY=VALUE")
    path = split_key(key)
    if any(not part for part in path):
        raise UsageError(
            f"--set {key}: an empty name between dots (write a dot inside a name as \\.)"
        )
    target = inputs
    node: dict[str, Any] | None = schema
    for part in path[:-1]:
        node = _property(node, part)
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            raise UsageError(f"--set {key}: {part} is not an object")
        target = child
    prop = _property(node, path[-1])
    field = ".".join(path)
    if text.startswith("@@"):
        target[path[-1]] = _coerce(text[1:], prop, field)
    elif text.startswith("@"):
        target[path[-1]] = _from_file(text[1:], prop, field)
    else:
        target[path[-1]] = _coerce(text, prop, field)


def _from_file(source: str, schema: dict[str, Any] | None, field: str) -> Any:
    """A value read from a file: base64 of its bytes for a base64 input (an attachment's
    content), the text for a string input, else JSON."""
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        raise UsageError(f"--set {field}=@{source}: cannot read {source}: {exc.strerror}") from None
    if (schema or {}).get("contentEncoding") == "base64":
        return base64.b64encode(data).decode("ascii")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(field, "encoding", f"{source} is not UTF-8 text") from None
    if _is_plain_string(schema):
        return text.removesuffix("\n")
    return _parse_json(text, field, source)


def _property(schema: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    if not schema:
        return None
    for candidate in [schema, *schema.get("allOf", [])]:
        prop = (candidate.get("properties") or {}).get(name)
        if isinstance(prop, dict):
            return prop
    return None


def _types(schema: dict[str, Any] | None) -> list[str]:
    types = (schema or {}).get("type", "string")
    return types if isinstance(types, list) else [types]


def _is_plain_string(schema: dict[str, Any] | None) -> bool:
    types = _types(schema)
    return "string" in types and not ({"integer", "number", "boolean"} & set(types))


def _coerce(text: str, schema: dict[str, Any] | None, field: str) -> Any:
    if _is_plain_string(schema):
        return text
    types = _types(schema)
    if text.lstrip().startswith(("{", "[")) and ({"object", "array"} & set(types)):
        return _parse_json(text, field, None)
    try:
        return strict_loads(text, f"--set {field}", field)
    except json.JSONDecodeError:
        if "array" in types:
            return [item.strip() for item in text.split(",") if item.strip()]
        return text  # validation will name the field and the expected type
