"""The local Microsoft identity platform: authorize, token (v2.0 and v1.0), device code, token
issuance (with a signed `id_token` and `client_info` for a sign-in, as Entra's) and revocation,
and the checks Graph applies to every bearer token.

By default any client id and secret are accepted and sign-in needs no page: the user named by
`login_hint` (or the default user) is signed in and their mailbox created on first use. With
`strict`, only clients registered in the configuration are accepted, and a device code waits
for someone to sign in at the verification page.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from mscal.sandbox.errors import unauthorized
from mscal.sandbox.identity.clients import check_client
from mscal.sandbox.identity.devices import DeviceCodes
from mscal.sandbox.identity.grants import redeem_code, redeem_refresh
from mscal.sandbox.identity.id_tokens import Person, client_info, id_token_claims, person_from
from mscal.sandbox.identity.model import (
    DEVICE_CODE_GRANT,
    GRAPH_RESOURCE,
    IdentityConfig,
    OAuthError,
    Principal,
)
from mscal.sandbox.identity.signing import SigningKey
from mscal.sandbox.ids import new_token
from mscal.sandbox.store import Store

if TYPE_CHECKING:
    from mscal.sandbox.domain.directory import Directory


RESPONSE_MODES = ("query", "fragment", "form_post")


class Identity:
    def __init__(
        self, store: Store, config: IdentityConfig, directory: Directory | None = None
    ) -> None:
        self.store = store
        self.config = config
        self.directory = directory  # who signs in: their object id and names for id_tokens
        self.signing_key = SigningKey(store)
        self.devices = DeviceCodes(store, config)
        # Tokens issued, by grant type: what tests count refreshes by.
        self.grants: Counter[str] = Counter()

    # -- authorize ---------------------------------------------------------------------------

    def authorize(self, params: dict[str, str], ensure_user: Callable[[str], str]) -> str:
        """The redirect URL for an authorization request (auto-consent, no page): the answer in
        its query, or with `response_mode=fragment` in its fragment."""
        answer = self.authorization(params, ensure_user)
        if params.get("response_mode") == "fragment":
            return params["redirect_uri"] + "#" + urlencode(answer)
        separator = "&" if "?" in params["redirect_uri"] else "?"
        return params["redirect_uri"] + separator + urlencode(answer)

    def authorization(
        self, params: dict[str, str], ensure_user: Callable[[str], str]
    ) -> dict[str, str]:
        """The authorization answer (`code`, and `state` when given) for a request."""
        for name in ("client_id", "redirect_uri", "response_type"):
            if not params.get(name):
                raise OAuthError(
                    "invalid_request",
                    900144,
                    f"The request body must contain the following parameter: '{name}'.",
                )
        check_client(self.config, params["client_id"], None, secret_required=False)
        if params["response_type"] != "code":
            raise OAuthError(
                "unsupported_response_type",
                70005,
                "The provided value for the input parameter 'response_type' is not allowed.",
            )
        method = params.get(
            "code_challenge_method", "plain" if params.get("code_challenge") else ""
        )
        if method and method not in {"S256", "plain"}:
            raise OAuthError("invalid_request", 5002738, "Invalid code_challenge_method.")
        if params.get("response_mode", "query") not in RESPONSE_MODES:
            raise OAuthError(
                "invalid_request",
                900144,
                f"The response_mode '{params['response_mode']}' is not supported: use one of "
                f"{', '.join(RESPONSE_MODES)}.",
            )
        user = ensure_user(params.get("login_hint") or self.config.default_user)
        code = new_token("code")
        self.store.put(
            "code",
            {
                "id": code,
                "user": user,
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "scope": params.get("scope", ""),
                "challenge": params.get("code_challenge"),
                "method": method,
                "nonce": params.get("nonce"),
                "expires_at": time.time() + 600,
                "used": False,
            },
            track=False,
        )
        answer = {"code": code}
        if params.get("state"):
            answer["state"] = params["state"]
        return answer

    # -- token ---------------------------------------------------------------------------------

    def token(
        self, form: dict[str, str], basic: tuple[str, str] | None, *, v1: bool, origin: str = ""
    ) -> dict[str, Any]:
        """A token answer; `origin` (the service's own URL) is the id_token's issuer."""
        client_id = form.get("client_id") or (basic[0] if basic else "")
        secret = form.get("client_secret") or (basic[1] if basic else None)
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )
        if not client_id:
            raise OAuthError(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            )
        scope = self._requested_scope(form, v1)
        self.grants[grant] += 1
        if grant == "client_credentials":
            check_client(
                self.config,
                client_id,
                secret,
                secret_required=True,
                assertion=form.get("client_assertion"),
            )
            if not v1 and not scope.endswith("/.default"):
                raise OAuthError(
                    "invalid_scope",
                    1002012,
                    f"The provided value for scope {scope} is not valid. Client credential "
                    "flows must have a scope value with /.default suffixed to the resource "
                    "identifier (application ID URI).",
                )
            return self._issue(None, client_id, scope, refresh=False, v1=v1)
        check_client(
            self.config,
            client_id,
            secret,
            secret_required=False,
            assertion=form.get("client_assertion"),
        )
        nonce = None
        if grant == "authorization_code":
            user, scope, nonce = redeem_code(self.store, form, client_id, scope)
        elif grant == "refresh_token":
            user, scope = redeem_refresh(self.store, form, client_id, scope)
        elif grant == DEVICE_CODE_GRANT:
            user, scope = self.devices.redeem(form, client_id)
        else:
            raise OAuthError(
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        offline = v1 or "offline_access" in scope.split()
        body = self._issue(user, client_id, scope, refresh=offline, v1=v1)
        # v1.0 names a resource, not scopes, and answers every sign-in with an id_token.
        if origin and (v1 or "openid" in scope.split()):
            body["id_token"] = self.signing_key.sign(
                id_token_claims(
                    self.person(user),
                    client_id=client_id,
                    tenant_id=self.config.tenant_id,
                    origin=origin,
                    lifetime=self.config.token_lifetime,
                    nonce=nonce,
                    v1=v1,
                )
            )
        if form.get("client_info") == "1":
            body["client_info"] = client_info(self.person(user), self.config.tenant_id)
        return body

    def person(self, user: str) -> Person:
        """A signed-in user (an object id or a sign-in name) as the directory holds them."""
        if self.directory is None:
            return person_from(None, user)
        record = self.directory.find_user(user)
        if record is None:
            record = self.directory.find_user(self.directory.ensure_user(user))
        return person_from(record, user)

    def approve_device(self, user_code: str, user: str) -> None:
        """Someone signed in as `user` at the verification page with this code. With `strict`,
        only a user of the directory can sign in."""
        if not user.strip():
            raise OAuthError("invalid_request", 900144, "Enter the account to sign in as.")
        record = self.directory.find_user(user) if self.directory is not None else None
        if record is None and self.config.strict:
            raise OAuthError(
                "invalid_grant",
                50034,
                f"The user account {user} does not exist in the "
                f"{self.config.tenant_domain} directory.",
            )
        self.devices.approve(user_code, user if record is None else str(record["id"]))

    def device_code(self, form: dict[str, str], origin: str) -> dict[str, Any]:
        check_client(self.config, form.get("client_id", ""), None, secret_required=False)
        return self.devices.start(form, origin)

    def _requested_scope(self, form: dict[str, str], v1: bool) -> str:
        if v1:
            resource = form.get("resource", GRAPH_RESOURCE).rstrip("/")
            return f"{resource}/.default"
        return " ".join(form.get("scope", "").split())

    def _issue(
        self, user: str | None, client_id: str, scope: str, *, refresh: bool, v1: bool
    ) -> dict[str, Any]:
        access = new_token("sandbox")
        lifetime = self.config.token_lifetime
        granted = " ".join(s for s in scope.split() if s not in {"openid", "profile"}) or scope
        self.store.put(
            "token",
            {
                "id": access,
                "user": user,
                "client_id": client_id,
                "scope": granted,
                "expires_at": time.time() + lifetime,
                "revoked": False,
            },
            track=False,
        )
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": granted,
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access,
        }
        if v1:
            body.pop("scope")
            body["resource"] = GRAPH_RESOURCE
            body["expires_on"] = str(int(time.time()) + lifetime)
        if refresh and user is not None:
            token = new_token("refresh")
            self.store.put(
                "refresh",
                {
                    "id": token,
                    "user": user,
                    "client_id": client_id,
                    "scope": scope,
                    "revoked": False,
                    "expires_at": time.time() + self.config.refresh_lifetime,
                },
                track=False,
            )
            body["refresh_token"] = token
        return body

    def issue_for(self, user: str, scope: str = "Calendars.ReadWrite User.Read") -> str:
        """A delegated access token for a user, without a sign-in (for people trying things)."""
        return str(
            self._issue(user, "mscal-sandbox", scope, refresh=False, v1=False)["access_token"]
        )

    # -- Graph's checks ----------------------------------------------------------------------

    def principal(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.strip():
            raise unauthorized("Access token is empty.")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("Access token validation failure. Invalid audience.")
        record = self.store.get("token", token.strip())
        if record is None:
            raise unauthorized("CompactToken parsing failed with error code: 80049217")
        if record["revoked"]:
            raise unauthorized("Access token has been revoked.")
        if record["expires_at"] < time.time():
            raise unauthorized("Lifetime validation failed, the token is expired.")
        return Principal(record["user"], record["client_id"], tuple(record["scope"].split()))

    def expire(self, authorization: str) -> None:
        """Expire the token in an Authorization header now (fault injection)."""
        record = self.store.get("token", authorization.partition(" ")[2].strip())
        if record is not None:
            record["expires_at"] = time.time() - 1
            self.store.put("token", record, track=False)

    def revoke_all(self, user: str | None = None) -> int:
        """Revoke every access and refresh token (a user's, if given), as a password reset does."""
        count = 0
        for kind in ("token", "refresh"):
            for record in self.store.find(kind):
                if not record["revoked"] and (user is None or record["user"] == user):
                    record["revoked"] = True
                    self.store.put(kind, record, track=False)
                    count += 1
        return count

    def expire_all(self) -> int:
        """Expire every access token now (fault injection: 'the token expired mid-run')."""
        count = 0
        for record in self.store.find("token"):
            if record["expires_at"] > time.time():
                record["expires_at"] = time.time() - 1
                self.store.put("token", record, track=False)
                count += 1
        return count
