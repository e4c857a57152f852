"""A local Microsoft identity platform: authorize, token (v2.0 and v1.0), device code, and the
checks Graph applies to every bearer token.

By default any client id and secret are accepted and sign-in needs no page: the user named by
`login_hint` (or the default user) is signed in and their mailbox created on first use. With
`strict`, only clients registered in the configuration are accepted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from mscal.sandbox.errors import unauthorized
from mscal.sandbox.ids import new_token
from mscal.sandbox.store import Store
from mscal.sandbox.timezones import graph_timestamp

GRAPH_RESOURCE = "https://graph.microsoft.com"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass
class IdentityConfig:
    strict: bool = False
    clients: dict[str, str] = field(default_factory=dict)  # client id -> secret
    token_lifetime: int = 3600
    default_user: str = "adele@contoso.onmicrosoft.com"


@dataclass(frozen=True)
class Principal:
    """Who a Graph request acts as: a signed-in user, or an app (client credentials)."""

    user: str | None
    client_id: str
    scopes: tuple[str, ...]

    @property
    def is_app(self) -> bool:
        return self.user is None


class OAuthError(Exception):
    """An identity platform error, AADSTS-style."""

    def __init__(self, error: str, code: int, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.code = code
        self.description = description
        self.status = status

    def body(self) -> dict[str, Any]:
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = graph_timestamp()
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.description}\r\nTrace ID: {trace}\r\n"
            f"Correlation ID: {correlation}\r\nTimestamp: {stamp}",
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
        }


class Identity:
    def __init__(self, store: Store, config: IdentityConfig) -> None:
        self.store = store
        self.config = config
        # Tokens issued, by grant type: what tests count refreshes by.
        self.grants: Counter[str] = Counter()

    # -- authorize ---------------------------------------------------------------------------

    def authorize(self, params: dict[str, str], ensure_user: Any) -> str:
        """The redirect URL for an authorization request (auto-consent, no page)."""
        for name in ("client_id", "redirect_uri", "response_type"):
            if not params.get(name):
                raise OAuthError(
                    "invalid_request",
                    900144,
                    f"The request body must contain the following parameter: '{name}'.",
                )
        self._check_client(params["client_id"], None, secret_required=False)
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
                "expires_at": time.time() + 600,
                "used": False,
            },
            track=False,
        )
        query = {"code": code}
        if params.get("state"):
            query["state"] = params["state"]
        separator = "&" if "?" in params["redirect_uri"] else "?"
        return params["redirect_uri"] + separator + urlencode(query)

    # -- token ---------------------------------------------------------------------------------

    def token(
        self, form: dict[str, str], basic: tuple[str, str] | None, *, v1: bool
    ) -> dict[str, Any]:
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
            self._check_client(
                client_id, secret, secret_required=True, assertion=form.get("client_assertion")
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
        self._check_client(
            client_id, secret, secret_required=False, assertion=form.get("client_assertion")
        )
        if grant == "authorization_code":
            user, scope = self._redeem_code(form, client_id, scope)
        elif grant == "refresh_token":
            user, scope = self._redeem_refresh(form, client_id, scope)
        elif grant == DEVICE_CODE_GRANT:
            user, scope = self._redeem_device_code(form, client_id)
        else:
            raise OAuthError(
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        offline = v1 or "offline_access" in scope.split()
        return self._issue(user, client_id, scope, refresh=offline, v1=v1)

    def device_code(self, form: dict[str, str], base_url: str, tenant: str) -> dict[str, Any]:
        client_id = form.get("client_id", "")
        self._check_client(client_id, None, secret_required=False)
        device = new_token("device")
        user_code = base64.b32encode(hashlib.sha256(device.encode()).digest()).decode()[:9]
        self.store.put(
            "device",
            {
                "id": device,
                "client_id": client_id,
                "scope": form.get("scope", ""),
                "user": form.get("login_hint") or self.config.default_user,
                "polls": 0,
                "expires_at": time.time() + 900,
            },
            track=False,
        )
        uri = f"{base_url}/{tenant}/oauth2/deviceauth"
        return {
            "device_code": device,
            "user_code": user_code,
            "verification_uri": uri,
            "expires_in": 900,
            "interval": 1,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
            f"{user_code} to authenticate.",
        }

    def _requested_scope(self, form: dict[str, str], v1: bool) -> str:
        if v1:
            resource = form.get("resource", GRAPH_RESOURCE).rstrip("/")
            return f"{resource}/.default"
        return " ".join(form.get("scope", "").split())

    def _check_client(
        self,
        client_id: str,
        secret: str | None,
        *,
        secret_required: bool,
        assertion: str | None = None,
    ) -> None:
        if self.config.strict and client_id not in self.config.clients:
            raise OAuthError(
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
                status=400,
            )
        if assertion is not None:
            self._check_assertion(assertion, client_id)
            return
        if secret_required and not secret:
            raise OAuthError(
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
                status=401,
            )
        if (
            secret is not None
            and self.config.strict
            and self.config.clients.get(client_id) != secret
        ):
            raise OAuthError(
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the "
                "secret being sent in the request is the client secret value, not the "
                "client secret ID.",
                status=401,
            )

    def _check_assertion(self, assertion: str, client_id: str) -> None:
        """A certificate credential: a JWT naming the client and the certificate (x5t), not
        expired. Its signature is not verified: the local platform keeps no certificates."""
        try:
            header, claims = (
                json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
                for part in assertion.split(".")[:2]
            )
        except (ValueError, TypeError):
            raise OAuthError(
                "invalid_client",
                700027,
                "Client assertion failed signature validation.",
                status=401,
            ) from None
        if not header.get("x5t"):
            raise OAuthError(
                "invalid_client",
                700027,
                "The client assertion has no x5t thumbprint header.",
                status=401,
            )
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise OAuthError(
                "invalid_client",
                700023,
                "The client assertion must name the client as iss and sub.",
                status=401,
            )
        if float(claims.get("exp", 0)) < time.time():
            raise OAuthError(
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
                status=401,
            )

    def _redeem_code(self, form: dict[str, str], client_id: str, scope: str) -> tuple[str, str]:
        code = self.store.get("code", form.get("code", ""))
        if code is None or code["client_id"] != client_id:
            raise OAuthError(
                "invalid_grant", 70000, "The provided value for the 'code' parameter is not valid."
            )
        if code["used"]:
            raise OAuthError(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, "
                "please retry with a new valid code or use an existing refresh token.",
            )
        if code["expires_at"] < time.time():
            raise OAuthError(
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has "
                "expired due to inactivity. Send a new interactive authorization request.",
            )
        if form.get("redirect_uri") != code["redirect_uri"]:
            raise OAuthError(
                "invalid_grant",
                50148,
                "The redirect_uri specified in the token request does "
                "not match the redirect_uri used in the authorization request.",
            )
        if code["challenge"]:
            verifier = form.get("code_verifier", "")
            if code["method"] == "S256":
                derived = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                    .decode()
                    .rstrip("=")
                )
            else:
                derived = verifier
            if derived != code["challenge"]:
                raise OAuthError(
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied in the "
                    "authorization request.",
                )
        code["used"] = True
        self.store.put("code", code, track=False)
        return str(code["user"]), scope or code["scope"]

    def _redeem_refresh(self, form: dict[str, str], client_id: str, scope: str) -> tuple[str, str]:
        refresh = self.store.get("refresh", form.get("refresh_token", ""))
        if refresh is None or refresh["client_id"] != client_id:
            raise OAuthError(
                "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
            )
        if refresh["revoked"]:
            raise OAuthError(
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being "
                "revoked, a fresh auth token is needed. The user might have changed or reset "
                "their password.",
            )
        # Rotation: a refresh token is good once; the response carries its successor.
        refresh["revoked"] = True
        self.store.put("refresh", refresh, track=False)
        return str(refresh["user"]), scope or refresh["scope"]

    def _redeem_device_code(self, form: dict[str, str], client_id: str) -> tuple[str, str]:
        device = self.store.get("device", form.get("device_code", ""))
        if device is None or device["client_id"] != client_id:
            raise OAuthError(
                "invalid_grant", 70000, "The provided value for the 'device_code' is not valid."
            )
        if device["expires_at"] < time.time():
            raise OAuthError(
                "expired_token",
                70020,
                "The provided value for the input parameter "
                "'device_code' is not valid. This device code has expired.",
            )
        device["polls"] += 1
        self.store.put("device", device, track=False)
        if device["polls"] == 1:  # the person has not signed in yet at the first poll
            raise OAuthError(
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )
        self.store.delete("device", device["id"], track=False)
        return str(device["user"]), str(device["scope"])

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
