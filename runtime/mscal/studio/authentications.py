"""The Authentication tab's work: the saved authentications (the `mscal auth` store), a new
one checked by the spec's fields and rules, saved, and signed in.

Sign-in for a person (authorization code with PKCE) goes through the configured identity
platform in the page's own window: the platform redirects back to the studio's /callback,
which trades the code for tokens here and stores them. An app-only authentication (client
credentials) gets its first token at once. Secrets go into the store and never come back out:
the list says only which secret fields are set.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from mscal.auth.endpoints import oauth_endpoints, token_errors
from mscal.auth.form import Authentication
from mscal.auth.store import SHARED_ENV, StoredAuthentication
from mscal.cli.auth import stored_connection
from mscal.connector import Connector
from mscal.errors import AuthError, InputError
from mscal.state.contract import AuthRecords
from mscal.studio.forms import ADVANCED

# A sign-in not finished in this time is forgotten (its state no longer accepted).
SIGN_IN_SECONDS = 600


def saved(store: AuthRecords) -> list[dict[str, Any]]:
    """What the page lists: names, kinds, the non-secret values, which secrets are set."""
    shown = []
    for name, where in store.names():
        record = store.load(name)
        shown.append(
            {
                "name": name,
                "where": where,
                "values": record.values,
                "secrets_set": sorted(record.secrets),
                "signed_in": bool(
                    record.tokens.get("refresh_token") or record.tokens.get("access_token")
                ),
            }
        )
    return shown


def form_values(connector: Connector, given: dict[str, Any]) -> dict[str, Any]:
    """The dialog's values as the spec's form holds them: advanced ones unfolded, empty
    optional values left out (their defaults apply)."""
    values = {**given, **(given.get(ADVANCED) or {})}
    keys = {field.key for field in connector.spec.auth_fields}
    return {k: v for k, v in values.items() if k in keys and v not in ("", None, [])}


def check(connector: Connector, store: AuthRecords, given: dict[str, Any]) -> Authentication:
    """The form's fields and rules, then the name and the kind; raises InputError naming the
    field (the rules first, so they speak while a person fills the form in)."""
    authentication = Authentication.from_form(connector.spec, form_values(connector, given))
    name = str(given.get("name") or "").strip()
    if not name:
        raise InputError("name", "required", "is required: a name to find it by")
    # The file store keeps organisational ones in the shared directory, if one is set.
    if given.get("where") == "shared" and getattr(store, "shared", True) is None:
        raise InputError(
            "where", "shared", f"no shared directory on this machine: set {SHARED_ENV} first"
        )
    if store.find(name) is not None:  # also checks the name's rule
        raise InputError("name", "exists", f"an authentication named {name!r} exists")
    return authentication


@dataclass
class _Pending:
    name: str
    verifier: str
    redirect_uri: str
    started: float


class SignIns:
    """Authorization-code sign-ins under way, by their `state`."""

    def __init__(self) -> None:
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def create(
        self, connector: Connector, store: AuthRecords, given: dict[str, Any], redirect_uri: str
    ) -> dict[str, Any]:
        """Save the authentication, then sign in: a URL to open, or done (client credentials)."""
        authentication = check(connector, store, given)
        name = str(given["name"]).strip()
        record = StoredAuthentication(
            name,
            dict(authentication.values),
            {k: v.reveal() for k, v in authentication.secrets.items()},
            shared=given.get("where") == "shared",
        )
        store.save(record)
        if authentication.values.get("grant_type") == "client_credentials":
            tokens, _ = stored_connection(connector, name, store)
            tokens.token()  # the first token, stored by the store's persistence
            return {"name": name, "signed_in": True}
        return {"name": name, "redirect": self.start(connector, name, store, redirect_uri)}

    def start(self, connector: Connector, name: str, store: AuthRecords, redirect_uri: str) -> str:
        """The identity platform's sign-in URL for a saved authentication."""
        record = store.load(name)
        authentication = Authentication.from_form(
            connector.spec, {**record.values, **record.secrets}
        )
        endpoints = oauth_endpoints(connector.spec, authentication.values)
        verifier = generate_token(48)
        state = secrets.token_urlsafe(24)
        with self._client(authentication, endpoints.token_params, redirect_uri) as client:
            url, _ = client.create_authorization_url(
                endpoints.authorize_url, state=state, code_verifier=verifier
            )
        with self._lock:
            now = time.monotonic()
            self._pending = {
                k: v for k, v in self._pending.items() if now - v.started < SIGN_IN_SECONDS
            }
            self._pending[state] = _Pending(name, verifier, redirect_uri, now)
        return str(url)

    def finish(
        self, connector: Connector, store: AuthRecords, params: dict[str, str], url: str
    ) -> str:
        """Trade the code the platform sent back for tokens; the authentication's name."""
        with self._lock:
            pending = self._pending.pop(params.get("state", ""), None)
        if pending is None or time.monotonic() - pending.started > SIGN_IN_SECONDS:
            raise AuthError("this sign-in is unknown or too old; start it again")
        if params.get("error"):
            raise AuthError(
                f"sign-in refused: {params['error']}: {params.get('error_description', '')}"
            )
        record = store.load(pending.name)
        authentication = Authentication.from_form(
            connector.spec, {**record.values, **record.secrets}
        )
        endpoints = oauth_endpoints(connector.spec, authentication.values)
        with (
            self._client(authentication, endpoints.token_params, pending.redirect_uri) as client,
            token_errors(connector.spec.manifest["authentication"].get("advice")),
        ):
            token = dict(
                client.fetch_token(
                    endpoints.token_url,
                    authorization_response=url,
                    code_verifier=pending.verifier,
                )
            )
        store.update_tokens(pending.name, token)
        return pending.name

    @staticmethod
    def _client(
        authentication: Authentication, params: dict[str, str], redirect_uri: str
    ) -> OAuth2Client:
        # As `mscal auth login`: a public client proving itself with PKCE.
        return OAuth2Client(
            client_id=authentication.values["client_id"],
            redirect_uri=redirect_uri,
            scope=params.get("scope", ""),
            code_challenge_method="S256",
            token_endpoint_auth_method="none",
        )
