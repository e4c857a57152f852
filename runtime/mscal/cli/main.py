"""`mscal`: the connector for people. Exit 0 on success, 2 on bad input or usage (nothing
sent), 1 on any other failure, with one line on stderr that names the cause."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from mscal.cli.usage import (
    EXIT_CODES,
    TOKEN_ENV,
    HelpRequested,
    Parser,
    SpecHelp,
    UsageError,
    VersionAction,
    name_in_advice,
)
from mscal.errors import ConnectorError

# Each command's module is imported only when that command runs (inside `_dispatch`), so
# `mscal run` never pays for the linter, the local service's web stack or the bulk runner.


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="mscal",
        description="Microsoft Calendar connector for Microsoft Graph.",
        epilog=f"{_FIRST_STEPS}\n\n{EXIT_CODES}",
    )
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument(
        "--spec", metavar="PATH", help="a connector directory (default: the shipped one)"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    listing = commands.add_parser("operations", help="list the operations, grouped")
    listing.add_argument("--json", action="store_true", help="print JSON")

    describe = commands.add_parser(
        "describe",
        help="one operation's inputs and output, or the whole description a builder renders",
        epilog=_DESCRIBE_EXAMPLES,
    )
    describe.add_argument("operation", nargs="?")
    describe.add_argument(
        "--json", action="store_true", help="print JSON (the default for a whole connector)"
    )

    run = commands.add_parser(
        "run",
        help="run one operation and print its result as JSON",
        add_help=False,
        epilog=_RUN_EXAMPLES + "\n\n" + EXIT_CODES,
    )
    run.add_argument("-h", "--help", action=SpecHelp)
    run.add_argument("operation")
    run.add_argument("--input", metavar="JSON", help="inputs as JSON, or @file.json")
    run.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="one input; dotted keys for nested values (a literal dot as \\.), VALUE @FILE "
        "reads a file (base64 for file contents); repeatable",
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
    run.add_argument(
        "--results",
        metavar="FILE",
        help="with --input-file: also write every outcome as a JSON line to FILE (on a "
        "terminal, a results file is written even without it)",
    )
    run.add_argument("--auth", metavar="NAME", help="a named authentication")
    run.add_argument("--token", metavar="TOKEN", help=f"a bearer token as given (or ${TOKEN_ENV})")
    run.add_argument("--base-url", metavar="URL", help="override the Graph base URL")
    run.add_argument(
        "--send-token-to-base-url",
        action="store_true",
        help="with --auth and --base-url on another origin: send the stored token there anyway",
    )

    # Imported here: the auth commands' module brings the connector and the store, which
    # `mscal lint` and `mscal sandbox` never need.
    from mscal.cli.auth import add_parsers  # noqa: PLC0415

    add_parsers(commands, Parser)
    # Imported here for the same reason: the watch command's module brings the triggers.
    from mscal.cli.watch import add_parsers as add_watch_parsers  # noqa: PLC0415

    add_watch_parsers(commands, Parser)

    sandbox = commands.add_parser(
        "sandbox",
        help="serve the local Microsoft Graph service",
        epilog=_SANDBOX_EXAMPLES,
    )
    sandbox.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: loopback)"
    )
    sandbox.add_argument(
        "--port", type=_port, default=8765, help="port to listen on, 1-65535 (0: any free one)"
    )
    sandbox.add_argument("--quiet", action="store_true", help="do not log a line per request")
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
        "--tls",
        action="store_true",
        help="serve https with a certificate from a local CA (printed: trust it in clients)",
    )
    sandbox.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="WORDS",
        help='inject a fault, e.g. "status=429 retry-after=1 times=1"; repeatable',
    )

    # Imported here: only its arguments; the studio's web stack loads when it runs.
    from mscal.cli.studio import add_parser as add_studio  # noqa: PLC0415

    add_studio(commands)

    demo = commands.add_parser("demo", help="run a short workflow against the local Graph service")
    demo.add_argument("--url", help="a local Graph service already running (default: start one)")
    demo.add_argument(
        "--time-zone",
        default="W. Europe Standard Time",
        help="the time zone to show the week in (Windows or IANA name)",
    )

    lint = commands.add_parser(
        "lint",
        help="check a connector spec",
        epilog="examples:\n  mscal lint                       # the shipped spec\n"
        "  mscal lint my-fork --format sarif > lint.sarif\n\n"
        "exit status: 0 no errors, 1 errors found, 2 usage",
    )
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


_FIRST_STEPS = """first steps:
  mscal sandbox --seed &               # a local Graph service; prints how to sign in
  mscal auth add Local --sandbox http://127.0.0.1:8765
  mscal run list_calendars --auth Local
  mscal operations                     # what there is
  mscal run create_event --help        # one operation's inputs, with an example"""

_DESCRIBE_EXAMPLES = """examples:
  mscal describe create_event          # inputs, an example, the output
  mscal describe create_event --json   # the resolved JSON a builder renders
  mscal describe                       # the whole connector, as JSON"""

_SANDBOX_EXAMPLES = """examples:
  mscal sandbox --seed                 # prints how to save and sign in an authentication
  mscal sandbox --seed --db :memory: --port 9000 --quiet"""

_RUN_EXAMPLES = """examples:
  mscal run list_calendars --auth Local
  mscal run get_event --set event_id=AAMk... --token "$TOKEN"
  mscal run create_event --set event=@event.json --auth Local
  mscal run create_event --set event.subject=Standup \\
      --set event.start.dateTime=2026-11-24T09:30:00 --set event.end.dateTime=2026-11-24T10:00:00
  mscal run add_event_attachment --set event_id=AAMk... \\
      --set 'attachment.@odata\\.type=#microsoft.graph.fileAttachment' \\
      --set attachment.name=agenda.pdf --set attachment.contentBytes=@agenda.pdf
  mscal run create_event --input-file events.jsonl --results created.jsonl

--set KEY=VALUE: dotted keys set nested values; write a literal dot in a key as \\.
VALUE @PATH reads the file (JSON for objects and lists; base64 for contentBytes and other
base64 inputs); @@ starts a value with a literal @."""


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            args = build_parser().parse_args(argv)
        except HelpRequested as asked:
            return _spec_help(asked, argv)
        return int(_dispatch(args))
    except ConnectorError as exc:
        print(f"mscal: error: {_named(_with_resume_link(exc), argv)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`mscal ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (RecursionError, MemoryError) as exc:
        # Input too deep or too large for some reader the checks did not foresee.
        print(
            f"mscal: error: the input is too large or too deeply nested ({type(exc).__name__})",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:  # no traceback ever reaches a person
        from mscal.secret import scrub  # noqa: PLC0415 (only a failure needs it)

        detail = " ".join(scrub(str(exc)).split())[:300]
        print(
            f"mscal: error: unexpected {type(exc).__name__}: {detail} "
            "(this is a bug in mscal; please report it)",
            file=sys.stderr,
        )
        return 1


def _with_resume_link(exc: ConnectorError) -> str:
    """The error's message; a paging error also says where to resume from."""
    text = str(exc)
    link = getattr(exc, "resume_link", None)
    return f"{text}; resume from {link}" if link else text


def _named(message: str, argv: Sequence[str] | None) -> str:
    """The spec's advice says `mscal auth login NAME`: name the authentication in use."""
    args = list(sys.argv[1:] if argv is None else argv)
    name = None
    if "--auth" in args and args.index("--auth") + 1 < len(args):
        name = args[args.index("--auth") + 1]
    elif len(args) >= 3 and args[0] == "auth" and not args[2].startswith("-"):
        name = args[2]
    return name_in_advice(message, name)


def _spec_help(asked: HelpRequested, argv: Sequence[str] | None) -> int:
    """A help page that needs the spec: `run OPERATION --help`, `auth add --help`."""
    from mscal.cli.explain import auth_fields_text, operation_text  # noqa: PLC0415
    from mscal.connector import load_connector  # noqa: PLC0415

    text = asked.parser.format_help()
    connector = load_connector(_spec_option(sys.argv[1:] if argv is None else argv))
    operation = getattr(asked.namespace, "operation", None)
    if operation:
        text += "\n" + operation_text(connector.describe(operation)) + "\n"
    elif hasattr(asked.namespace, "operation"):
        text += "\nmscal run OPERATION --help lists that operation's inputs.\n"
    else:
        text += "\n" + auth_fields_text(connector.spec.auth_fields) + "\n"
    sys.stdout.write(text)
    return 0


def _spec_option(argv: Sequence[str]) -> str | None:
    # The top-level --spec, read again: a subcommand's parser does not see it.
    for index, arg in enumerate(argv):
        if arg == "--spec" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--spec="):
            return arg.removeprefix("--spec=")
    return None


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "lint":
        from mscal.lint.command import lint_command  # noqa: PLC0415

        return lint_command(args.path or args.spec, args.openapi, args.format, args.diff)
    if args.command in ("sandbox", "demo", "studio"):
        return _local_service(args)

    from mscal.cli import run  # noqa: PLC0415
    from mscal.connector import load_connector  # noqa: PLC0415

    connector = load_connector(args.spec)
    if args.command == "auth":
        from mscal.cli.auth import run_auth  # noqa: PLC0415

        return run_auth(connector, args)
    if args.command == "operations":
        return run.list_operations(connector, as_json=args.json)
    if args.command == "describe":
        return run.describe_operation(connector, args.operation, as_json=args.json)
    if args.command in ("triggers", "watch"):
        from mscal.cli import watch  # noqa: PLC0415

        if args.command == "triggers":
            return watch.list_triggers(connector, as_json=args.json)
        return watch.watch_command(connector, args)
    return run.run_operation(connector, args)


_EXTRA = {"studio": "studio"}


def _local_service(args: argparse.Namespace) -> int:
    """`mscal sandbox`, `mscal demo` and `mscal studio` need a web server (the `sandbox` or
    `studio` extra), which a builder embedding only the runtime does not install."""
    try:
        if args.command == "sandbox":
            from mscal.cli.sandbox import run_sandbox  # noqa: PLC0415

            return run_sandbox(args)
        if args.command == "studio":
            from mscal.cli.studio import run_studio  # noqa: PLC0415

            return run_studio(args)
        from mscal.cli.demo import main as demo_main  # noqa: PLC0415

        # The demo imports the local service only when it starts one (not with --url).
        return demo_main(args.url, args.time_zone)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] == "mscal":
            raise
        raise UsageError(
            f"mscal {args.command} needs a web server's packages ({exc.name} is missing): "
            f"pip install 'microsoft-calendar-connector[{_EXTRA.get(args.command, 'sandbox')}]'"
        ) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
