"""The one place a token is attached: an httpx2 auth flow that checks the request is on the
connection's origin, adds the bearer token, and on a 401 refreshes once and replays once."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Generator

import httpx2

from mscal.auth.tokens import TokenSource
from mscal.call.guard import Origin
from mscal.errors import AuthError, EgressError

# A token from a token endpoint that would split the Authorization header is refused before
# httpx2 sees it (its refusal would quote the header, token and all).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
        if _CONTROL.search(token):
            raise AuthError(
                "the access token contains a line break or another control character: "
                "it cannot be sent in a header"
            )
        request.headers["Authorization"] = f"Bearer {token}"

    def sync_auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        used = self._tokens.token()
        self._authorize(request, used)
        response = yield request
        if response.status_code == 401 and self._tokens.can_refresh:
            self._authorize(request, self._tokens.token(force=True, stale=used))
            yield request

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        used = await self._tokens.atoken()
        self._authorize(request, used)
        response = yield request
        if response.status_code == 401 and self._tokens.can_refresh:
            self._authorize(request, await self._tokens.atoken(force=True, stale=used))
            yield request
