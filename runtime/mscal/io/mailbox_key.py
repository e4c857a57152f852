"""The name of a mailbox that every worker agrees on, for a budget shared between processes.

Graph counts requests per app and mailbox. In one process a slot key can be anything hashable;
across processes it must be a name: the app (the authentication's client id, else the token's
app claim), the Graph origin, and the mailbox. `/me` is the signed-in user's mailbox, so it is
named by that user's id, the same name as `/users/{id}`: the id is read once from the access
token's claim, or, for a token that is not a JWT, asked of Graph once (one request per
authentication and process, outside the budget). Which claims, which request and how a user's
mailbox is written are the spec's (`defaults.concurrency.signed_in_user`).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx2

from mscal.auth.tokens import TokenSource
from mscal.call.guard import Origin
from mscal.errors import AuthError
from mscal.spec.defaults import SignedInUser


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT access token, unverified (used only to name a mailbox and an app,
    never to trust anyone); {} when the token is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


class Principal:
    """Who is calling: the app, and (for `/me`) the signed-in user, each found once."""

    def __init__(
        self, tokens: TokenSource, origin: Origin, client_id: str | None, spec: SignedInUser
    ) -> None:
        self._tokens = tokens
        self._origin = origin
        self._spec = spec
        self._app = client_id
        self._user: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Principal(app={self._app!r})"

    def app(self) -> str:
        if self._app is None:
            self._app = self._app_of(self._tokens.token())
        return self._app

    async def aapp(self) -> str:
        if self._app is None:
            self._app = self._app_of(await self._tokens.atoken())
        return self._app

    def user_id(self) -> str:
        if self._user is None:
            with self._lock:
                if self._user is None:
                    self._user = self._from_token(self._tokens.token()) or self._look_up()
        return self._user

    async def auser_id(self) -> str:
        if self._user is None:
            token = await self._tokens.atoken()
            found = self._from_token(token)
            if found is None:
                # Only a token that is not a JWT gets here, once per authentication.
                import asyncio  # noqa: PLC0415  (async callers only)

                found = await asyncio.to_thread(self._look_up)
            self._user = found
        return self._user

    def mailbox(self, user_id: str) -> str:
        return self._spec.user_mailbox.replace("{id}", user_id)

    def _app_of(self, token: str) -> str:
        claims = token_claims(token)
        found = next((claims[c] for c in self._spec.app_claims if claims.get(c)), None)
        return str(found or "unknown-app")

    def _from_token(self, token: str) -> str | None:
        user = token_claims(token).get(self._spec.claim)
        return str(user).lower() if user else None

    def _look_up(self) -> str:
        path, _, query = self._spec.lookup.partition("?")
        # The token goes only to the Graph origin, and never through an environment proxy
        # where a session would not use one (loopback, plain http).
        response = httpx2.get(
            self._origin.join(path) + (f"?{query}" if query else ""),
            headers={"Authorization": f"Bearer {self._tokens.token()}"},
            follow_redirects=False,
            timeout=30,
            trust_env=self._origin.may_use_env_proxy,
        )
        try:
            user = response.json()[self._spec.id_field] if response.status_code == 200 else None
        except (ValueError, TypeError, KeyError):
            user = None
        if not user:
            raise AuthError(
                f"could not tell whose mailbox {path} is (GET {path} answered "
                f"{response.status_code} without {self._spec.id_field!r})"
            )
        return str(user).lower()


@dataclass(frozen=True)
class MailboxKey:
    """A request's mailbox, for shared slots: `name()` is the same in every process."""

    place: str  # the Graph origin and base path
    mailbox: str  # lower-cased, e.g. "users/adele@contoso.com"; "/me" for the signed-in user
    principal: Principal = field(compare=False)
    signed_in: bool = False

    def name(self) -> str:
        mailbox = (
            self.principal.mailbox(self.principal.user_id()) if self.signed_in else self.mailbox
        )
        return f"{self.principal.app()}|{self.place}|{mailbox}"

    async def aname(self) -> str:
        user = await self.principal.auser_id() if self.signed_in else ""
        mailbox = self.principal.mailbox(user) if self.signed_in else self.mailbox
        return f"{await self.principal.aapp()}|{self.place}|{mailbox}"
