"""`mscal`: the connector for people. Exit 0 on success, 2 on bad input or usage (nothing
sent), 1 on any other failure, with one line on stderr that names the cause."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from mscal.errors import ConnectorError, InputError

TOKEN_ENV = "MSCAL_ACCESS_TOKEN"


class UsageError(ConnectorError):
    exit_code = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mscal", description="Microsoft Calendar connector for Microsoft Graph.")
    parser.add_argument(
        "--spec", metavar="PATH", help="a connector directory (default: the shipped one)"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    listing = commands.add_parser("operations", help="list the operations, grouped")
    listing.add_argument("--json", action="store_true", help="print JSON")

    describe = commands.add_parser("describe", help="the resolved description a builder renders")
    describe.add_argument("operation", nargs="?")
    describe.add_argument(
        "--json", action="store_true", help="print JSON (the default for a whole connector)"
    )

    run = commands.add_parser("run", help="run one operation and print its result as JSON")
    run.add_argument("operation")
    run.add_argument("--input", metavar="JSON", help="inputs as JSON, or @file.json")
    run.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="one input (dotted keys for nested values); repeatable",
    )
    run.add_argument(
        "--input-file",
        metavar="FILE",
        help="run once per line of a JSON-lines file (- for stdin), in JSON batches; prints one "
        "JSON line per input in input order (a progress bar instead when stdout is a terminal)",
    )
    run.add_argument(
        "--jsonl",
        action="store_true",
        help="with --input-file: print JSON lines even on a terminal",
    )
    run.add_argument("--auth", metavar="NAME", help="a named authentication")
    run.add_argument("--token", metavar="TOKEN", help=f"a bearer token as given (or ${TOKEN_ENV})")
    run.add_argument("--base-url", metavar="URL", help="override the Graph base URL")

    from mscal.cli.auth import add_parsers

    add_parsers(commands, _Parser)

    sandbox = commands.add_parser("sandbox", help="serve the local Microsoft Graph service")
    sandbox.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: loopback)"
    )
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument(
        "--db", metavar="PATH", help="SQLite file, or :memory: (default: your data directory)"
    )
    sandbox.add_argument(
        "--seed", action="store_true", help="load a sample tenant (users, calendars, meetings)"
    )
    sandbox.add_argument(
        "--strict", action="store_true", help="accept only clients registered with --client"
    )
    sandbox.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID=SECRET",
        help="register a client (with --strict, only registered clients sign in); repeatable",
    )
    sandbox.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="WORDS",
        help='inject a fault, e.g. "status=429 retry-after=1 times=1"; repeatable',
    )

    demo = commands.add_parser("demo", help="run a short workflow against the local Graph service")
    demo.add_argument("--url", help="a local Graph service already running (default: start one)")
    demo.add_argument(
        "--time-zone",
        default="W. Europe Standard Time",
        help="the time zone to show the week in (Windows or IANA name)",
    )

    lint = commands.add_parser("lint", help="check a connector spec")
    lint.add_argument("path", nargs="?", help="a connector directory or its connector.yaml")
    lint.add_argument(
        "--format",
        choices=["text", "json", "sarif"],
        default="text",
        help="text (default), json for tools, sarif for code-scanning annotations",
    )
    lint.add_argument(
        "--diff",
        metavar="OLD_SPEC_DIR",
        help="also report changes that would break builders using this older spec",
    )
    lint.add_argument(
        "--openapi",
        metavar="FILE",
        help="also check every operation against this OpenAPI description of Graph",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(_dispatch(args))
    except ConnectorError as exc:
        print(f"mscal: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`mscal ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "lint":
        from mscal.lint.core import lint_command

        return lint_command(args.path or args.spec, args.openapi, args.format, args.diff)

    if args.command == "sandbox":
        return _sandbox(args)
    if args.command == "demo":
        from mscal.cli.demo import main as demo_main

        return demo_main(args.url, args.time_zone)

    from mscal.connector import load_connector

    connector = load_connector(args.spec)
    if args.command == "auth":
        from mscal.cli.auth import run_auth

        return run_auth(connector, args)
    if args.command == "operations":
        return _operations(connector, as_json=args.json)
    if args.command == "describe":
        _print_json(connector.describe(args.operation))
        return 0
    return _run(connector, args)


def _operations(connector: Any, *, as_json: bool) -> int:
    operations = connector.operations
    if as_json:
        _print_json(
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


def _run(connector: Any, args: argparse.Namespace) -> int:
    described = connector.describe(args.operation)
    inputs = _read_inputs(args.input)
    for assignment in args.set:
        _assign(inputs, assignment, described["input_schema"])

    if args.input_file and (args.input or args.set):
        raise UsageError("--input-file gives every input; it cannot be combined with --input/--set")
    if args.auth and args.token:
        raise UsageError("give either --auth or --token, not both")
    token = args.token or os.environ.get(TOKEN_ENV)
    if args.auth:
        from mscal.cli.auth import stored_connection

        tokens, authentication = stored_connection(connector, args.auth)
        base_url = args.base_url or authentication.base_url
    elif token:
        tokens = connector.authentication(
            {"base_url": args.base_url} if args.base_url else {}, access_token=token
        )
        base_url = None
    else:
        raise UsageError(f"no credentials: pass --token, set ${TOKEN_ENV}, or use --auth NAME")
    if args.input_file:
        from mscal.cli.bulk import run_file

        with connector.session(tokens, base_url=base_url) as session:
            return run_file(session, args.operation, args.input_file, jsonl=args.jsonl)
    _print_json(connector.run(args.operation, inputs, auth=tokens, base_url=base_url))
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from mscal.call.guard import is_loopback
    from mscal.sandbox import create_sandbox
    from mscal.sandbox.server import serve
    from mscal.sandbox.service import default_db_path

    db = args.db or str(default_db_path())
    try:
        clients = dict(_client(text) for text in args.client)
        sandbox = create_sandbox(
            db, seed=args.seed, strict=args.strict, clients=clients, faults=args.fault
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    url = f"http://{args.host}:{args.port}"
    print(f"Local Microsoft Graph service: {url}/v1.0")
    who = "registered clients only" if args.strict else "any client id and secret"
    print(f"Identity platform: {url}/<tenant>/oauth2/v2.0 ({who})")
    print(f"Database: {db}")
    if not is_loopback(args.host):
        print("Warning: listening beyond loopback; anyone who can reach it can read its calendars.")
    user = sandbox.calendars.find_user(sandbox.identity.config.default_user)
    if user is not None:
        token = sandbox.identity.issue_for(user["userPrincipalName"])
        print(f"Try: mscal run list_calendars --base-url {url}/v1.0 --token {token}")
    serve(sandbox.app, args.host, args.port)
    return 0


def _client(text: str) -> tuple[str, str]:
    client_id, sep, secret = text.partition("=")
    if not sep or not client_id:
        raise ValueError(f"--client {text!r}: expected ID=SECRET")
    return client_id, secret


def _read_inputs(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    source = "--input"
    if raw.startswith("@"):
        source = raw[1:]
        try:
            raw = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--input: cannot read {source}: {exc.strerror}") from None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(
            "",
            "json",
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None
    if not isinstance(value, dict):
        raise InputError("", "type", f"{source} must be a JSON object of inputs")
    return value


def _assign(inputs: dict[str, Any], assignment: str, schema: dict[str, Any]) -> None:
    """Apply `key=value`; values of non-string inputs are read as JSON (lists also as a,b,c)."""
    key, sep, text = assignment.partition("=")
    if not sep or not key:
        raise UsageError(f"--set {assignment!r}: expected KEY=VALUE")
    path = key.split(".")
    target = inputs
    node: dict[str, Any] | None = schema
    for part in path[:-1]:
        node = _property(node, part)
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            raise UsageError(f"--set {key}: {part} is not an object")
        target = child
    target[path[-1]] = _coerce(text, _property(node, path[-1]))


def _property(schema: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    if not schema:
        return None
    for candidate in [schema, *schema.get("allOf", [])]:
        prop = (candidate.get("properties") or {}).get(name)
        if isinstance(prop, dict):
            return prop
    return None


def _coerce(text: str, schema: dict[str, Any] | None) -> Any:
    types = (schema or {}).get("type", "string")
    types = types if isinstance(types, list) else [types]
    if "string" in types and not ({"integer", "number", "boolean"} & set(types)):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if "array" in types:
            return [item.strip() for item in text.split(",") if item.strip()]
        return text  # validation will name the field and the expected type


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
