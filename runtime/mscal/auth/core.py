"""Authentications, tokens, and the one place that attaches a token to a request.

`BearerAuth` is an httpx2 auth flow: it checks the request against the connection's origin,
adds the token, and on a 401 refreshes once and replays once. Tokens come from a TokenSource:
a fixed token, or OAuth 2.0 grants through authlib with the endpoints the spec declares.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import httpx2
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

if TYPE_CHECKING:
    import asyncio

from mscal.call.guard import Origin
from mscal.call.validation import FORMAT_CHECKER, describe_error
from mscal.errors import AuthError, EgressError, InputError
from mscal.secret import Secret
from mscal.spec.load import Spec
from mscal.templates.render import Templates, render


@dataclass(frozen=True, repr=False)
class Authentication:
    """The authentication form's values, with secrets and tokens held as `Secret`s."""

    values: Mapping[str, Any]
    secrets: Mapping[str, Secret] = field(default_factory=dict)
    access_token: Secret | None = None
    refresh_token: Secret | None = None
    expires_at: float | None = None

    @classmethod
    def from_form(
        cls,
        spec: Spec,
        values: Mapping[str, Any] | None = None,
        *,
        access_token: str | None = None,
        refresh_token: str | None = None,
        expires_at: float | None = None,
    ) -> Authentication:
        """Validate form values (defaults applied); secret fields are wrapped as Secrets."""
        given = dict(values or {})
        schema = {
            "type": "object",
            "properties": {f.key: f.schema for f in spec.auth_fields},
            "additionalProperties": False,
            "allOf": list(spec.manifest["authentication"].get("rules") or []),
        }
        error = best_match(
            Draft202012Validator(schema, format_checker=FORMAT_CHECKER).iter_errors(
                {k: v.reveal() if isinstance(v, Secret) else v for k, v in given.items()}
            )
        )
        if error is not None:
            problem = describe_error(error)
            # Never echo a rejected value of a secret field back.
            secret_values = [
                str(given[f.key]) for f in spec.auth_fields if f.secret and given.get(f.key)
            ]
            if any(value in problem.message for value in secret_values):
                problem = InputError(problem.field, problem.rule, f"is not valid ({problem.rule})")
            raise problem
        plain: dict[str, Any] = {}
        secrets: dict[str, Secret] = {}
        for auth_field in spec.auth_fields:
            value = given.get(auth_field.key, auth_field.default)
            if value is None:
                continue
            if auth_field.secret:
                secrets[auth_field.key] = value if isinstance(value, Secret) else Secret(str(value))
            else:
                plain[auth_field.key] = value
        return cls(
            values=plain,
            secrets=secrets,
            access_token=Secret(access_token) if access_token else None,
            refresh_token=Secret(refresh_token) if refresh_token else None,
            expires_at=expires_at,
        )

    @property
    def base_url(self) -> str:
        return str(self.values["base_url"])

    def __repr__(self) -> str:
        shown = {**self.values, **{k: str(v) for k, v in self.secrets.items()}}
        tokens = [name for name in ("access_token", "refresh_token") if getattr(self, name)]
        return f"Authentication({shown!r}, tokens={tokens})"


@dataclass(frozen=True)
class OAuthEndpoints:
    """The identity platform's URLs and token parameters for one authentication's values."""

    authorize_url: str
    token_url: str
    device_code_url: str
    token_params: dict[str, str]
    client_auth_method: str


def oauth_endpoints(spec: Spec, values: Mapping[str, Any]) -> OAuthEndpoints:
    """Render the spec's OAuth 2.0 templates with the form's values (plus `resource`)."""
    oauth = spec.oauth2
    Origin.from_base_url(str(values["authority_host"]))  # https (or loopback http) only
    context = {
        **{f.key: None for f in spec.auth_fields if not f.secret},
        **values,
        "resource": _origin_of(str(values["base_url"])),
    }
    templates = Templates({})
    version = str(values.get("api_version", "v2.0"))
    grant = values.get("grant_type")
    flavour = "client_credentials" if grant == "client_credentials" else "delegated"
    params = (oauth.get("token_params") or {}).get(version, {}).get(flavour, {})
    return OAuthEndpoints(
        authorize_url=str(render(templates.value(oauth["authorize_url"]), context)),
        token_url=str(render(templates.value(oauth["token_url"]), context)),
        device_code_url=str(render(templates.value(oauth.get("device_code_url", "")), context)),
        token_params={k: str(v) for k, v in render(templates.value(params), context).items()},
        client_auth_method=str(oauth["token_endpoint_auth_method"]),
    )


class TokenSource(Protocol):
    """Supplies access tokens; `force` asks for a new one (after a 401)."""

    can_refresh: bool

    def token(self, force: bool = False) -> str: ...

    async def atoken(self, force: bool = False) -> str: ...


class StaticToken:
    """A token used as given (`--token`); it cannot be renewed."""

    can_refresh = False

    def __init__(self, token: Secret) -> None:
        self._token = token

    def token(self, force: bool = False) -> str:
        return self._token.reveal()

    async def atoken(self, force: bool = False) -> str:
        return self._token.reveal()

    def __repr__(self) -> str:
        return "StaticToken(********)"


class CallableToken:
    """Tokens from the platform's own store: a callable that returns one (forced or not)."""

    can_refresh = True

    def __init__(self, supply: Callable[[bool], str]) -> None:
        self._supply = supply

    def token(self, force: bool = False) -> str:
        return self._supply(force)

    async def atoken(self, force: bool = False) -> str:
        import asyncio

        return await asyncio.to_thread(self._supply, force)


class TokenPersistence(Protocol):
    """Where tokens are kept between processes (a named authentication's file, say)."""

    def locked(self) -> contextlib.AbstractContextManager[None]: ...

    def load(self) -> dict[str, Any]: ...

    def save(self, token: dict[str, Any]) -> None: ...


class OAuth2Tokens:
    """Client-credentials and refresh-token grants against the spec's token endpoint.

    With a persistence, a refresh happens under its lock after re-reading it: a process that
    finds a fresh token another one just got uses that instead of spending its own refresh
    token (which rotation would have revoked). A refresh that fails while the current token is
    still valid keeps the current token.
    """

    can_refresh = True

    def __init__(
        self,
        spec: Spec,
        authentication: Authentication,
        on_token: Callable[[dict[str, Any]], None] | None = None,
        persistence: TokenPersistence | None = None,
    ) -> None:
        values = authentication.values
        self._persistence = persistence
        self._grant_type = str(values.get("grant_type", "authorization_code"))
        self._client_id = values.get("client_id")
        self._secret = authentication.secrets.get("client_secret")
        self._access = authentication.access_token
        self._refresh = authentication.refresh_token
        self._expires_at = authentication.expires_at
        self._leeway = float(spec.manifest["authentication"].get("refresh_leeway_seconds", 300))
        self._on_token = on_token
        self._advice = {
            str(k): str(v) for k, v in (spec.manifest["authentication"].get("advice") or {}).items()
        }
        self._lock = threading.Lock()
        self._alock: asyncio.Lock | None = None
        if not self._client_id:
            raise AuthError("client_id: is required to obtain a token")
        self._certificate = authentication.secrets.get("client_certificate")
        if self._grant_type == "client_credentials" and not (self._secret or self._certificate):
            raise AuthError(
                "client_secret: a client secret or a client certificate is required for the "
                "client_credentials grant"
            )
        if self._grant_type != "client_credentials" and not (self._refresh or self._access):
            raise AuthError(
                "this authentication has no token yet: sign in interactively first, or pass "
                "an access token"
            )
        endpoints = oauth_endpoints(spec, values)
        self._token_url = endpoints.token_url
        self._params = endpoints.token_params
        self._auth_method = endpoints.client_auth_method

    def __repr__(self) -> str:
        return f"OAuth2Tokens(grant={self._grant_type!r}, client_id={self._client_id!r})"

    def _fresh(self) -> str | None:
        if self._access is None or self._expires_at is None:
            return None  # an unknown expiry counts as expired
        if self._expires_at - time.time() <= self._leeway:
            return None
        return self._access.reveal()

    def token(self, force: bool = False) -> str:
        current = None if force else self._fresh()
        if current is not None:
            return current  # the common case needs no lock
        with self._lock:
            current = None if force else self._fresh()
            if current is not None:
                return current
            shared = self._persistence.locked() if self._persistence else contextlib.nullcontext()
            with shared:
                if self._persistence is not None and self._adopt(self._persistence.load()):
                    return self._access.reveal()  # type: ignore[union-attr]
                from authlib.integrations.httpx_client import OAuth2Client

                try:
                    with OAuth2Client(**self._client_kwargs()) as client:
                        token = self._call(client)
                except AuthError:
                    if not force and self._still_valid():
                        return self._access.reveal()  # type: ignore[union-attr]
                    raise
                return self._store(token)

    def _adopt(self, stored: dict[str, Any]) -> bool:
        """Take a fresh token another process stored meanwhile (not the one we already have)."""
        access, expires_at = stored.get("access_token"), stored.get("expires_at")
        ours = self._access.reveal() if self._access else None
        if not access or access == ours or not expires_at:
            return False
        if float(expires_at) - time.time() <= self._leeway:
            return False
        self._access, self._expires_at = Secret(str(access)), float(expires_at)
        if stored.get("refresh_token"):
            self._refresh = Secret(str(stored["refresh_token"]))
        return True

    def _still_valid(self) -> bool:
        return (
            self._access is not None
            and self._expires_at is not None
            and self._expires_at > time.time()
        )

    async def atoken(self, force: bool = False) -> str:
        current = None if force else self._fresh()
        if current is not None:
            return current  # the common case needs no lock
        import asyncio  # only async callers need it; a sync CLI call does not import it

        if self._alock is None:
            self._alock = asyncio.Lock()
        async with self._alock:
            current = None if force else self._fresh()
            if current is not None:
                return current
            if self._persistence is not None:
                # The shared lock is a file lock: take it off the event loop.
                return await asyncio.to_thread(self.token, force)
            from authlib.integrations.httpx_client import AsyncOAuth2Client

            async with AsyncOAuth2Client(**self._client_kwargs()) as client:
                return self._store(await self._acall(client))

    def _client_kwargs(self) -> dict[str, Any]:
        if self._certificate is not None:
            from authlib.oauth2.rfc7523 import PrivateKeyJWT

            key, thumbprint = certificate_parts(self._certificate.reveal())
            # A signed assertion names the certificate by its SHA-1 thumbprint (x5t), as the
            # Microsoft identity platform requires.
            return {
                "client_id": self._client_id,
                "client_secret": key,
                "token_endpoint_auth_method": PrivateKeyJWT(
                    self._token_url, headers={"x5t": thumbprint}, alg="RS256"
                ),
            }
        return {
            "client_id": self._client_id,
            "client_secret": self._secret.reveal() if self._secret else None,
            "token_endpoint_auth_method": self._auth_method if self._secret else "none",
        }

    def _grant(self) -> tuple[str, dict[str, Any]]:
        """The authlib client method and arguments for this authentication's grant."""
        if self._grant_type == "client_credentials":
            # With a certificate, authlib leaves client_id out of the form (RFC 7523 makes it
            # optional); the Microsoft identity platform requires it.
            identity = {"client_id": self._client_id} if self._certificate is not None else {}
            return "fetch_token", {
                "url": self._token_url,
                "grant_type": "client_credentials",
                **identity,
                **self._params,
            }
        return "refresh_token", {
            "url": self._token_url,
            "refresh_token": self._refresh_value(),
            **self._params,
        }

    def _call(self, client: Any) -> dict[str, Any]:
        method, kwargs = self._grant()
        with token_errors(self._advice):
            return dict(getattr(client, method)(**kwargs))

    async def _acall(self, client: Any) -> dict[str, Any]:
        method, kwargs = self._grant()
        with token_errors(self._advice):
            return dict(await getattr(client, method)(**kwargs))

    def _refresh_value(self) -> str:
        if self._refresh is None:
            raise AuthError("the access token expired and there is no refresh token: sign in again")
        return self._refresh.reveal()

    def _store(self, token: dict[str, Any]) -> str:
        access = token.get("access_token")
        if not access:
            raise AuthError("the token endpoint answered without an access token")
        self._access = Secret(str(access))
        expires_at = token.get("expires_at")
        self._expires_at = float(expires_at) if expires_at else None
        if token.get("refresh_token"):
            self._refresh = Secret(str(token["refresh_token"]))  # rotation: the new one wins
        if self._persistence is not None:
            self._persistence.save(token)
        if self._on_token is not None:
            self._on_token(token)
        return str(access)


def certificate_parts(pem: str) -> tuple[str, str]:
    """The private key (PEM) and the certificate's x5t thumbprint from one PEM bundle."""
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError:
        raise AuthError(
            "client_certificate: needs the certificate and its unencrypted private key in one PEM"
        ) from None
    thumbprint = (
        base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA1())).decode().rstrip("=")
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private, thumbprint


@contextlib.contextmanager
def token_errors(advice: Mapping[str, str] | None = None) -> Iterator[None]:
    """Token endpoint failures as AuthErrors that carry the AADSTS reason, never a secret."""
    from authlib.integrations.base_client import OAuthError

    try:
        yield
    except OAuthError as exc:
        raise AuthError(_oauth_message(exc, advice)) from None
    except httpx2.HTTPError as exc:
        raise AuthError(f"token request failed: {type(exc).__name__}") from None


def _oauth_message(exc: Exception, advice: Mapping[str, str] | None = None) -> str:
    error = getattr(exc, "error", None) or "token_error"
    description = (getattr(exc, "description", None) or "").split("\r\n")[0].strip()
    message = f"token request refused: {error}" + (f": {description}" if description else "")
    code = re.match(r"AADSTS(\d+)", description)
    tip = (advice or {}).get(code.group(1)) if code else None
    return f"{message} To fix: {' '.join(tip.split())}." if tip else message


def _origin_of(base_url: str) -> str:
    url = httpx2.URL(base_url)
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


def token_source(
    spec: Spec,
    authentication: Authentication,
    on_token: Callable[[dict[str, Any]], None] | None = None,
    persistence: TokenPersistence | None = None,
) -> TokenSource:
    """The token source an authentication calls for."""
    values = authentication.values
    can_grant = authentication.refresh_token is not None or (
        values.get("grant_type") == "client_credentials"
    )
    if authentication.access_token is not None and not can_grant:
        return StaticToken(authentication.access_token)
    return OAuth2Tokens(spec, authentication, on_token, persistence)


class BearerAuth(httpx2.Auth):
    """Adds the bearer token, only for requests on the origin; one refresh and replay on 401."""

    def __init__(self, tokens: TokenSource, origin: Origin) -> None:
        self._tokens = tokens
        self._origin = origin

    def __repr__(self) -> str:
        return f"BearerAuth(origin={self._origin.host!r})"

    def _authorize(self, request: httpx2.Request, token: str) -> None:
        if not self._origin.contains(request.url):
            raise EgressError(
                f"refused to send the token to {request.url.host}: not the connection's Graph host"
            )
        request.headers["Authorization"] = f"Bearer {token}"

    def sync_auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        self._authorize(request, self._tokens.token())
        response = yield request
        if response.status_code == 401 and self._tokens.can_refresh:
            self._authorize(request, self._tokens.token(force=True))
            yield request

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        self._authorize(request, await self._tokens.atoken())
        response = yield request
        if response.status_code == 401 and self._tokens.can_refresh:
            self._authorize(request, await self._tokens.atoken(force=True))
            yield request
