"""OAuth 2.0 token grants (client credentials, refresh tokens) through authlib, with one
refresh at a time per process and, given a persistence, across processes."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import asyncio

from mscal.auth.endpoints import oauth_endpoints, token_errors
from mscal.auth.form import Authentication
from mscal.call.guard import may_use_env_proxy
from mscal.errors import AuthError
from mscal.secret import Secret
from mscal.spec.load import Spec


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
        # The form's default applies when it is left out; without one, a token is refreshed.
        self._grant_type = values.get("grant_type")
        self._client_id = values.get("client_id")
        self._secret = authentication.secrets.get("client_secret")
        self._access = authentication.access_token
        self._refresh = authentication.refresh_token
        self._expires_at = authentication.expires_at
        self._leeway = float(spec.manifest["authentication"]["refresh_leeway_seconds"])
        self._on_token = on_token
        self._advice = spec.manifest["authentication"]["advice"]
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

    @property
    def client_id(self) -> str:
        """The app's id: with the mailbox, what Graph's limits are counted by."""
        return str(self._client_id)

    def __repr__(self) -> str:
        return f"OAuth2Tokens(grant={self._grant_type!r}, client_id={self._client_id!r})"

    def _fresh(self) -> str | None:
        if self._access is None or self._expires_at is None:
            return None  # an unknown expiry counts as expired
        if self._expires_at - time.time() <= self._leeway:
            return None
        return self._access.reveal()

    def token(self, force: bool = False, *, stale: str | None = None) -> str:
        current = None if force else self._fresh()
        if current is not None:
            return current  # the common case needs no lock
        # A forced refresh replaces the token that was refused: if another thread or worker
        # has replaced it meanwhile, the replacement is used and nothing is asked again.
        stale = stale if stale is not None else self._current()
        with self._lock:
            current = self._fresh()
            if current is not None and not (force and current == stale):
                return current
            shared = self._persistence.locked() if self._persistence else contextlib.nullcontext()
            with shared:
                if self._persistence is not None and self._adopt(self._persistence.load(), stale):
                    return self._access.reveal()  # type: ignore[union-attr]
                # authlib is imported only when a token is actually fetched: a call with a
                # fresh or fixed token never loads it.
                from authlib.integrations.httpx_client import OAuth2Client  # noqa: PLC0415

                try:
                    with OAuth2Client(**self._client_kwargs()) as client:
                        token = self._call(client)
                except AuthError:
                    if not force and self._still_valid():
                        return self._access.reveal()  # type: ignore[union-attr]
                    raise
                return self._store(token)

    def _current(self) -> str | None:
        return self._access.reveal() if self._access else None

    def _adopt(self, stored: dict[str, Any], stale: str | None) -> bool:
        """Take a fresh token another process stored meanwhile (not the stale one)."""
        access, expires_at = stored.get("access_token"), stored.get("expires_at")
        if not access or access == stale or not expires_at:
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

    async def atoken(self, force: bool = False, *, stale: str | None = None) -> str:
        current = None if force else self._fresh()
        if current is not None:
            return current  # the common case needs no lock
        # Only async callers need asyncio; a sync CLI call never imports it.
        import asyncio  # noqa: PLC0415

        if self._alock is None:
            self._alock = asyncio.Lock()
        stale = stale if stale is not None else self._current()  # as in `token`
        async with self._alock:
            current = self._fresh()
            if current is not None and not (force and current == stale):
                return current
            if self._persistence is not None:
                # The shared lock is a file or Redis lock: take it off the event loop.
                return await asyncio.to_thread(self.token, force, stale=stale or "")
            # Imported only when a token is actually fetched (see `token`).
            from authlib.integrations.httpx_client import AsyncOAuth2Client  # noqa: PLC0415

            async with AsyncOAuth2Client(**self._client_kwargs()) as client:
                return self._store(await self._acall(client))

    def _client_kwargs(self) -> dict[str, Any]:
        # The environment's proxy never sees a loopback or plain-http token endpoint.
        return {**self._credentials(), "trust_env": may_use_env_proxy(self._token_url)}

    def _credentials(self) -> dict[str, Any]:
        if self._certificate is not None:
            # Imported only for certificate sign-ins (cryptography alone costs ~30 ms).
            from authlib.oauth2.rfc7523 import PrivateKeyJWT  # noqa: PLC0415

            from mscal.auth.certificate import certificate_parts  # noqa: PLC0415

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
        try:
            self._expires_at = float(expires_at) if expires_at else None
        except (TypeError, ValueError):
            self._expires_at = None  # unknown: counted as expired, refreshed next time

        if token.get("refresh_token"):
            self._refresh = Secret(str(token["refresh_token"]))  # rotation: the new one wins
        if self._persistence is not None:
            self._persistence.save(token)
        if self._on_token is not None:
            self._on_token(token)
        return str(access)
