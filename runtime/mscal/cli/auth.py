"""`mscal auth ...`: named authentications for people, and `--auth NAME` for `mscal run`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from mscal.auth.form import Authentication
from mscal.auth.store import StoredAuthentication
from mscal.auth.tokens import TokenSource
from mscal.connector import Connector
from mscal.errors import ConnectorError, InputError
from mscal.secret import MASK
from mscal.state.contract import AuthRecords
from mscal.state.stored import stored_connection as stored_in


def add_parsers(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    auth = commands.add_parser("auth", help="named authentications (Sandbox, Production, ...)")
    verbs = auth.add_subparsers(dest="auth_command", required=True, parser_class=parser_class)
    add = verbs.add_parser("add", help="save an authentication from the form's fields")
    add.add_argument("name")
    add.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a form field, e.g. client_id=...; lists (scopes) take a,b or 'a b'",
    )
    secret = add.add_mutually_exclusive_group()
    secret.add_argument(
        "--secret-stdin", action="store_true", help="read the client secret from stdin"
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
        "--replace", action="store_true", help="replace an authentication of that name"
    )
    login = verbs.add_parser("login", help="sign in interactively and keep the tokens")
    login.add_argument("name")
    login.add_argument(
        "--device-code",
        action="store_true",
        help="sign in on another device (for machines with no browser)",
    )
    login.add_argument(
        "--no-browser", action="store_true", help="print the sign-in page; do not open it"
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
        return _add(connector, args, store)
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


def _add(connector: Connector, args: argparse.Namespace, store: AuthRecords) -> int:
    if store.find(args.name) is not None and not args.replace:
        raise InputError(
            "name", "exists", f"an authentication named {args.name!r} exists (use --replace)"
        )
    fields = {f.key: f for f in connector.spec.auth_fields}
    values: dict[str, Any] = {}
    for assignment in args.set:
        key, sep, text = assignment.partition("=")
        if not sep or key not in fields:
            raise InputError(
                key or assignment,
                "unknown",
                f"is not a field of the authentication form ({', '.join(fields)})",
            )
        if fields[key].secret:
            raise InputError(
                key,
                "secret",
                "is a secret: give it with --secret-stdin or --secret-env VAR, "
                "never as an argument (arguments show up in process lists and shell history)",
            )
        values[key] = _field_value(text, fields[key].schema)
    secrets: dict[str, str] = {}
    if args.secret_stdin:
        secrets["client_secret"] = sys.stdin.readline().strip()
    elif args.secret_env:
        if args.secret_env not in os.environ:
            raise InputError("secret_env", "missing", f"the variable {args.secret_env} is not set")
        secrets["client_secret"] = os.environ[args.secret_env]
    if args.certificate_file:
        try:
            secrets["client_certificate"] = Path(args.certificate_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError("certificate_file", "read", f"cannot read: {exc.strerror}") from None
    authentication = Authentication.from_form(connector.spec, {**values, **secrets})
    record = StoredAuthentication(
        args.name,
        dict(authentication.values),
        {k: v.reveal() for k, v in authentication.secrets.items()},
        shared=args.shared,
    )
    print(f"Saved authentication {args.name!r} to {store.save(record)}")
    return 0


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
    authentication = Authentication.from_form(connector.spec, {**record.values, **record.secrets})
    show = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731 - stdout stays quiet
    if args.device_code:
        token = sign_in_with_device_code(connector.spec, authentication, show=show)
    else:
        token = sign_in_with_browser(
            connector.spec, authentication, show=show, open_browser=not args.no_browser
        )
    store.update_tokens(args.name, token)
    print(f"Signed in: authentication {args.name!r} is ready (mscal auth test {args.name})")
    return 0


def _field_value(text: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "array":
        return [part for part in text.replace(",", " ").split() if part]
    if kind == "boolean":
        if text.lower() not in {"true", "false"}:
            raise InputError("value", "type", f"{text!r} is not true or false")
        return text.lower() == "true"
    return text


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
        print(f"mscal: authentication {name!r} does not work: {exc}", file=sys.stderr)
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
