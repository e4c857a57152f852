"""Where access tokens come from: the `TokenSource` contract, a fixed token, a platform's
callable, and the choice among them (OAuth 2.0 grants are in `oauth2.py`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from mscal.auth.form import Authentication
from mscal.auth.oauth2 import OAuth2Tokens, TokenPersistence
from mscal.secret import Secret
from mscal.spec.load import Spec


class TokenSource(Protocol):
    """Supplies access tokens; `force` asks for a new one (after a 401), `stale` is the token
    that was refused (a source shared by threads or workers may have replaced it already)."""

    can_refresh: bool

    def token(self, force: bool = False, *, stale: str | None = None) -> str: ...

    async def atoken(self, force: bool = False, *, stale: str | None = None) -> str: ...


class StaticToken:
    """A token used as given (`--token`); it cannot be renewed."""

    can_refresh = False

    def __init__(self, token: Secret) -> None:
        self._token = token

    def token(self, force: bool = False, *, stale: str | None = None) -> str:
        return self._token.reveal()

    async def atoken(self, force: bool = False, *, stale: str | None = None) -> str:
        return self._token.reveal()

    def __repr__(self) -> str:
        return "StaticToken(********)"


class CallableToken:
    """Tokens from the platform's own store: a callable that returns one (forced or not)."""

    can_refresh = True

    def __init__(self, supply: Callable[[bool], str]) -> None:
        self._supply = supply

    def token(self, force: bool = False, *, stale: str | None = None) -> str:
        return self._supply(force)

    async def atoken(self, force: bool = False, *, stale: str | None = None) -> str:
        # Only async callers need asyncio; a sync CLI call never imports it.
        import asyncio  # noqa: PLC0415

        return await asyncio.to_thread(self._supply, force)


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
