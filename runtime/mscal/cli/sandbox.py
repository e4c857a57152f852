"""`mscal sandbox`: the local Graph service and identity platform on a port of this machine."""

from __future__ import annotations

import argparse

from mscal.call.guard import is_loopback
from mscal.cli.usage import UsageError
from mscal.sandbox import server
from mscal.sandbox.service import create_sandbox, default_db_path
from mscal.sandbox.tls import LOOPBACK_NAMES, TlsFiles, ensure_tls_files
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
    tls = _tls_files(args.host) if args.tls else None
    try:
        sock = server.listen(args.host, args.port)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {args.host} port {args.port}: {exc.strerror or exc} "
            "(is another service on that port? choose one with --port)"
        ) from None
    port = sock.getsockname()[1]
    url = f"{'https' if tls else 'http'}://{_url_host(args.host)}:{port}"
    # The service answers under the spec's base path (Graph's API version, /v1.0).
    graph = f"{url}{load_spec().base_path}"
    print(f"Local Microsoft Graph service: {graph}")
    who = "registered clients only" if args.strict else "any client id and secret"
    print(f"Identity platform (authority): {url}/{sandbox.identity.config.tenant_domain} ({who})")
    print(f"Device code sign-in page: {url}/devicelogin")
    if tls is not None:
        print(f"CA certificate to trust: {tls.ca}")
        print(f"  e.g. export REQUESTS_CA_BUNDLE={tls.ca} SSL_CERT_FILE={tls.ca}")
    print(f"Database: {db}")
    if not is_loopback(args.host):
        print("Warning: listening beyond loopback; anyone who can reach it can read its calendars.")
    user = sandbox.calendars.find_user(sandbox.identity.config.default_user)
    if user is not None:
        token = sandbox.identity.issue_for(user["userPrincipalName"])
        print(f"Try: mscal run list_calendars --base-url {graph} --token {token}")
    client = f" --set client_id={next(iter(clients))}" if args.strict and clients else ""
    print(
        "Save and sign in an authentication against it, in one step (in another terminal):\n"
        f"  mscal auth add Local --sandbox {url}{client}\n"
        "  mscal run list_calendars --auth Local\n"
        "Or by hand, as for Microsoft's (any client id works unless --strict):\n"
        f"  mscal auth add Local --set client_id={next(iter(clients), 'my-app')} "
        f"--set authority_host={url} --set base_url={graph}\n"
        "  mscal auth login Local --no-browser   # open the page it prints"
    )
    if not args.quiet:
        print("Requests are logged below, one line each (--quiet to silence).")
    try:
        server.serve(sandbox.app, sock, tls, quiet=args.quiet)
    finally:
        sock.close()
    return 0


def _tls_files(host: str) -> TlsFiles:
    """The CA and server certificate, kept (0600, in a 0700 directory) beside the default
    database, so a CA trusted once stays trusted; a non-loopback host is named too."""
    hosts = LOOPBACK_NAMES if host in LOOPBACK_NAMES else (*LOOPBACK_NAMES, host)
    try:
        return ensure_tls_files(default_db_path().parent / "tls", hosts)
    except OSError as exc:
        raise UsageError(f"--tls: cannot write the certificates: {exc}") from None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _client(text: str) -> tuple[str, str]:
    client_id, sep, secret = text.partition("=")
    if not sep or not client_id:
        raise ValueError(f"--client {text!r}: expected ID=SECRET")
    return client_id, secret
