"""`mscal auth add NAME`: an authentication saved from the form's fields, refused before saving
when the form or one of its rules would refuse it; `--replace` keeps what is not given;
`--sandbox URL` saves one against a running local service and signs it in, in one step."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path
from typing import Any

from mscal.auth.form import Authentication
from mscal.auth.store import StoredAuthentication
from mscal.connector import Connector
from mscal.errors import AuthError, InputError
from mscal.state.contract import AuthRecords

# The client id an authentication against the local service gets when none is given: the
# local identity platform accepts any (unless started with --strict).
SANDBOX_CLIENT_ID = "mscal-cli"
SANDBOX_URL = "http://127.0.0.1:8765"


def add_authentication(connector: Connector, args: argparse.Namespace, store: AuthRecords) -> int:
    old = store.load(args.name) if store.find(args.name) is not None else None
    if old is not None and not args.replace:
        raise InputError(
            "name",
            "exists",
            f"an authentication named {args.name!r} exists: add --replace to change the fields "
            f"you give and keep the others, or mscal auth remove {args.name} first",
        )
    fields = {f.key: f for f in connector.spec.auth_fields}
    given = _given_values(args.set, fields)
    if args.sandbox is not None:
        given = {**_sandbox_values(connector, args.sandbox), **given}
    secrets = _given_secrets(args)
    kept: dict[str, Any] = {}
    if old is not None:
        # --replace changes what is given and keeps the rest: renewing a secret must not reset
        # the tenant, the scopes or the hosts to their defaults.
        kept = {k: v for k, v in {**old.values, **old.secrets}.items() if k not in given}
        kept = {k: v for k, v in kept.items() if k not in secrets}
    values = {**kept, **given, **secrets}
    _require(connector, values, args.name)
    authentication = Authentication.from_form(connector.spec, values)
    # The rules are checked again with the defaults filled in: client_credentials with the
    # default (named, delegated) scopes is as wrong as with named scopes typed in.
    Authentication.from_form(
        connector.spec,
        {**authentication.values, **authentication.secrets},
    )
    unchanged_identity = old is not None and all(
        old.values.get(k) == v for k, v in authentication.values.items()
    )
    record = StoredAuthentication(
        args.name,
        dict(authentication.values),
        {k: v.reveal() for k, v in authentication.secrets.items()},
        # The tokens of the last sign-in stay only when the identity they were issued for did.
        tokens=dict(old.tokens) if old is not None and unchanged_identity else {},
        shared=args.shared or (old is not None and old.shared),
    )
    path = store.save(record)
    print(f"Saved authentication {args.name!r} to {path}")
    if old is not None:
        shown = sorted(k for k in kept if k in authentication.values or k in record.secrets)
        changed = sorted({*given, *secrets})
        print(f"Changed: {', '.join(changed) or 'nothing'}; kept: {', '.join(shown) or 'nothing'}")
    if args.sandbox is not None:
        _sign_in_to_sandbox(connector, store, args.name, authentication, args.user)
    elif authentication.values.get("grant_type") == "client_credentials":
        print(f"Next: mscal auth test {args.name}")
    elif not record.tokens:
        print(f"Next: mscal auth login {args.name}  (then mscal auth test {args.name})")
    return 0


def _given_values(assignments: list[str], fields: dict[str, Any]) -> dict[str, Any]:
    # Imported here: only a mistyped field name needs the fuzzy matcher.
    from mscal.spelling import did_you_mean  # noqa: PLC0415

    values: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep or key not in fields:
            raise InputError(
                key or assignment,
                "unknown",
                f"is not a field of the authentication form{did_you_mean(key, fields)} "
                f"(fields: {', '.join(fields)}; mscal auth add --help explains each)",
            )
        if fields[key].secret:
            raise InputError(
                key,
                "secret",
                "is a secret: give it with --secret-stdin or --secret-env VAR, "
                "never as an argument (arguments show up in process lists and shell history)",
            )
        values[key] = field_value(key, text, fields[key].schema)
    return values


def field_value(key: str, text: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "array":
        return [part for part in text.replace(",", " ").split() if part]
    if kind == "boolean":
        if text.lower() not in {"true", "false"}:
            raise InputError(key, "type", f"must be true or false, got {text!r}")
        return text.lower() == "true"
    return text


def _given_secrets(args: argparse.Namespace) -> dict[str, str]:
    secrets: dict[str, str] = {}
    if args.secret_stdin:
        if sys.stdin.isatty():
            # A person at a terminal: prompt, and do not echo what they type.
            secret = getpass.getpass("Client secret (the Value, not shown as you type): ")
        else:
            secret = sys.stdin.readline()
        secret = secret.strip()
        if not secret:
            raise InputError("client_secret", "required", "is empty: nothing was read from stdin")
        secrets["client_secret"] = secret
    elif args.secret_env:
        if args.secret_env not in os.environ:
            raise InputError("secret_env", "missing", f"the variable {args.secret_env} is not set")
        secrets["client_secret"] = os.environ[args.secret_env]
    if args.certificate_file:
        try:
            secrets["client_certificate"] = Path(args.certificate_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError("certificate_file", "read", f"cannot read: {exc.strerror}") from None
    return secrets


def _require(connector: Connector, values: dict[str, Any], name: str) -> None:
    """The form's required fields without a default must be given before anything is saved
    (a builder's form marks them; without them no sign-in can start)."""
    for auth_field in connector.spec.auth_fields:
        if (
            auth_field.required
            and auth_field.default is None
            and values.get(auth_field.key)
            in (
                None,
                "",
            )
        ):
            example = auth_field.schema.get("example") or "..."
            raise InputError(
                auth_field.key,
                "required",
                f"is required ({auth_field.title}): mscal auth add {name} "
                f"--set {auth_field.key}={example}",
            )


def _sandbox_values(connector: Connector, url: str) -> dict[str, Any]:
    # Imported here: only --sandbox probes for a running local service.
    from mscal.cli.demo import is_sandbox  # noqa: PLC0415

    url = url.rstrip("/")
    if not is_sandbox(url, connector.spec):
        raise AuthError(
            f"no local Graph service answers at {url}: start one with mscal sandbox --seed "
            "(or give its address: --sandbox http://HOST:PORT)"
        )
    return {
        "client_id": SANDBOX_CLIENT_ID,
        "authority_host": url,
        "base_url": f"{url}{connector.spec.base_path}",
    }


def _sign_in_to_sandbox(
    connector: Connector,
    store: AuthRecords,
    name: str,
    authentication: Authentication,
    user: str | None,
) -> None:
    """The local identity platform signs in the user named by login_hint with no page."""
    if authentication.values.get("grant_type") == "client_credentials":
        print(f"Next: mscal run list_calendars --auth {name} --set user_id=USER")
        return
    # Imported here: only --sandbox signs in without a browser.
    from mscal.auth.signin import sign_in_without_browser  # noqa: PLC0415

    values = {**authentication.values, **authentication.secrets}
    signed = sign_in_without_browser(connector.spec, values, user or "")
    tokens = {
        "access_token": signed.access_token.reveal() if signed.access_token else None,
        "refresh_token": signed.refresh_token.reveal() if signed.refresh_token else None,
        "expires_at": signed.expires_at or time.time() + 3600,
    }
    store.update_tokens(name, tokens)
    print(f"Signed in to the local service. Try: mscal run list_calendars --auth {name}")
