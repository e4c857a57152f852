"""`mscal auth ...`: named authentications for people, and `--auth NAME` for `mscal run`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from mscal.auth.form import Authentication
from mscal.auth.tokens import TokenSource
from mscal.cli.usage import SpecHelp, name_in_advice
from mscal.connector import Connector
from mscal.errors import ConnectorError, InputError
from mscal.secret import MASK
from mscal.state.contract import AuthRecords
from mscal.state.stored import stored_connection as stored_in

_ADD_EXAMPLES = """examples:
  mscal auth add Local --sandbox                  # a running mscal sandbox: saved and signed in
  mscal auth add Me --set client_id=0b1f3a6e-... --set tenant_id=contoso.com
  mscal auth add App --set client_id=0b1f3a6e-... --set tenant_id=contoso.com \\
      --set grant_type=client_credentials --set scopes=https://graph.microsoft.com/.default \\
      --secret-stdin
  mscal auth add App --replace --secret-stdin     # a new secret; every other field kept"""

_LOGIN_EXAMPLES = """examples:
  mscal auth login Me                 # opens a browser; the answer comes back to 127.0.0.1
  mscal auth login Me --no-browser    # prints the page to open on this machine
  mscal auth login Me --device-code   # a code to enter on any device (no browser here)"""


def add_parsers(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    auth = commands.add_parser("auth", help="named authentications (Sandbox, Production, ...)")
    verbs = auth.add_subparsers(dest="auth_command", required=True, parser_class=parser_class)
    add = verbs.add_parser(
        "add",
        help="save an authentication from the form's fields",
        add_help=False,
        epilog=_ADD_EXAMPLES,
    )
    add.add_argument("-h", "--help", action=SpecHelp)
    add.add_argument("name")
    add.add_argument(
        "--sandbox",
        nargs="?",
        const="http://127.0.0.1:8765",
        metavar="URL",
        help="point it at a running local service (mscal sandbox; default "
        "http://127.0.0.1:8765) and sign it in, in one step",
    )
    add.add_argument(
        "--user",
        metavar="UPN",
        help="with --sandbox: who signs in (default: the service's default user)",
    )
    add.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a form field, e.g. client_id=...; lists (scopes) take a,b or 'a b'",
    )
    secret = add.add_mutually_exclusive_group()
    secret.add_argument(
        "--secret-stdin",
        action="store_true",
        help="read the client secret from stdin (a prompt, without echo, on a terminal)",
    )
    secret.add_argument(
        "--secret-env", metavar="VAR", help="read the client secret from this variable"
    )
    add.add_argument(
        "--shared", action="store_true", help="save it in the organisation's shared directory"
    )
    add.add_argument(
        "--certificate-file",
        metavar="PEM",
        help="the client certificate and its private key, for app-only sign-in",
    )
    add.add_argument(
        "--replace",
        action="store_true",
        help="change an existing authentication: the fields given change, the others are kept",
    )
    login = verbs.add_parser(
        "login", help="sign in interactively and keep the tokens", epilog=_LOGIN_EXAMPLES
    )
    login.add_argument("name")
    login.add_argument(
        "--device-code",
        action="store_true",
        help="sign in on another device (for machines with no browser)",
    )
    login.add_argument(
        "--no-browser",
        action="store_true",
        help="print the sign-in page instead of opening it (open it in a browser on this "
        "machine; the sign-in comes back to a listener on 127.0.0.1)",
    )
    verbs.add_parser("list", help="the saved authentications")
    for verb, text in (
        ("show", "one authentication, secrets masked"),
        ("remove", "delete an authentication"),
        ("test", "ask Graph who is signed in, with which scopes"),
    ):
        verbs.add_parser(verb, help=text).add_argument("name")


def run_auth(
    connector: Connector, args: argparse.Namespace, store: AuthRecords | None = None
) -> int:
    store = store or connector.store.authentications
    verb = args.auth_command
    if verb == "add":
        # Imported here: only saving an authentication needs the form's checks and prompts.
        from mscal.cli.auth_add import add_authentication  # noqa: PLC0415

        return add_authentication(connector, args, store)
    if verb == "login":
        return _login(connector, args, store)
    if verb == "list":
        for name, where in store.names():
            record = store.load(name)
            signed_in = (
                "signed in"
                if record.tokens.get("refresh_token") or record.tokens.get("access_token")
                else ""
            )
            print(
                f"{name:<20} {where:<9} {record.values.get('grant_type', ''):<19} "
                f"{record.values.get('tenant_id', ''):<28} {signed_in}".rstrip()
            )
        return 0
    if verb == "show":
        record = store.load(args.name)
        shown = {
            "name": record.name,
            "where": "shared" if record.shared else "personal",
            "values": record.values,
            "secrets": {k: MASK for k in record.secrets},
            "tokens": {
                k: (MASK if k in {"access_token", "refresh_token"} else v)
                for k, v in record.tokens.items()
            },
        }
        print(json.dumps(shown, indent=2))
        return 0
    if verb == "remove":
        print(f"Removed authentication {args.name!r} ({store.remove(args.name)})")
        return 0
    return _test(connector, args.name, store)


def _login(connector: Connector, args: argparse.Namespace, store: AuthRecords) -> int:
    # Imported here: only a sign-in needs the loopback listener and the browser.
    from mscal.auth.login import sign_in_with_browser, sign_in_with_device_code  # noqa: PLC0415

    record = store.load(args.name)
    if record.values.get("grant_type") == "client_credentials":
        raise InputError(
            "grant_type",
            "login",
            "an app-only (client_credentials) authentication needs no "
            "sign-in: test it with mscal auth test",
        )
    if not record.values.get("client_id"):
        raise InputError(
            "client_id",
            "required",
            f"is missing from authentication {args.name!r}: "
            f"mscal auth add {args.name} --replace --set client_id=...",
        )
    authentication = Authentication.from_form(connector.spec, {**record.values, **record.secrets})

    def show(line: str) -> None:  # on stderr: stdout stays quiet
        print(
            line.replace("auth login NAME", f"auth login {args.name}"), file=sys.stderr, flush=True
        )

    if args.device_code:
        token = sign_in_with_device_code(connector.spec, authentication, show=show)
    else:
        token = sign_in_with_browser(
            connector.spec, authentication, show=show, open_browser=not args.no_browser
        )
    store.update_tokens(args.name, token)
    print(f"Signed in: authentication {args.name!r} is ready (mscal auth test {args.name})")
    return 0


def stored_connection(
    connector: Connector, name: str, store: AuthRecords | None = None
) -> tuple[TokenSource, Authentication]:
    """The token source of a saved authentication; new or rotated tokens are saved back."""
    return stored_in(connector.spec, store or connector.store.authentications, name)


def _test(connector: Connector, name: str, store: AuthRecords) -> int:
    tokens, authentication = stored_connection(connector, name, store)
    app_only = authentication.values.get("grant_type") == "client_credentials"
    declared = connector.spec.manifest["authentication"]["test"][
        "application" if app_only else "delegated"
    ]
    began = time.perf_counter()
    try:
        answer = connector.run(
            "raw_http_request",
            {"method": declared["method"], "endpoint": declared["endpoint"]},
            auth=tokens,
            base_url=authentication.base_url,
        )
    except ConnectorError as exc:
        told = name_in_advice(str(exc), name)
        print(f"mscal: authentication {name!r} does not work: {told}", file=sys.stderr)
        return 1
    who = answer["body"]
    for part in str(declared["who"]).split("."):
        who = who[int(part)] if isinstance(who, list) else (who or {}).get(part)
    scopes = store.load(name).tokens.get("scope") or "(not reported)"
    kind = "the app (client credentials)" if app_only else "a person (delegated)"
    print(
        f"Authentication {name!r} works: signed in as {who}, {kind}, "
        f"in {(time.perf_counter() - began) * 1000:.0f} ms"
    )
    print(f"Scopes granted: {scopes}")
    return 0
