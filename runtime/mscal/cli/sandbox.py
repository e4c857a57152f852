"""`mscal sandbox`: the local Graph service and identity platform on a port of this machine."""

from __future__ import annotations

import argparse

from mscal.call.guard import is_loopback
from mscal.cli.usage import UsageError
from mscal.sandbox.server import serve
from mscal.sandbox.service import create_sandbox, default_db_path
from mscal.spec.load import load_spec


def run_sandbox(args: argparse.Namespace) -> int:

    db = args.db or str(default_db_path())
    try:
        clients = dict(_client(text) for text in args.client)
        sandbox = create_sandbox(
            db, seed=args.seed, strict=args.strict, clients=clients, faults=args.fault
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    url = f"http://{args.host}:{args.port}"
    # The service answers under the spec's base path (Graph's API version, /v1.0).
    graph = f"{url}{load_spec().base_path}"
    print(f"Local Microsoft Graph service: {graph}")
    who = "registered clients only" if args.strict else "any client id and secret"
    print(f"Identity platform: {url}/<tenant>/oauth2/v2.0 ({who})")
    print(f"Database: {db}")
    if not is_loopback(args.host):
        print("Warning: listening beyond loopback; anyone who can reach it can read its calendars.")
    user = sandbox.calendars.find_user(sandbox.identity.config.default_user)
    if user is not None:
        token = sandbox.identity.issue_for(user["userPrincipalName"])
        print(f"Try: mscal run list_calendars --base-url {graph} --token {token}")
    serve(sandbox.app, args.host, args.port)
    return 0


def _client(text: str) -> tuple[str, str]:
    client_id, sep, secret = text.partition("=")
    if not sep or not client_id:
        raise ValueError(f"--client {text!r}: expected ID=SECRET")
    return client_id, secret
