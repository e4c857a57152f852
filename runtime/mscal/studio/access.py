"""Who may use the studio's API: a page holding the random token of the printed URL, from the
studio's own origin. Every /api call needs the token; a call that changes state also needs an
Origin header naming the studio (a page on another site cannot forge one), and every request
must name the studio's host (so a DNS-rebound name cannot reach it)."""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_HEADER = "x-studio-token"
_SAFE_METHODS = {"GET", "HEAD"}
# Sent with every answer: the URL carries the token, so no page may pass it on as a referrer,
# frame the studio or load a script from elsewhere.
SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    # The form library sets styles from script (adopted style sheets, style attributes).
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Access:
    """ASGI middleware holding the token and the origins the studio answers as."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token
        self.origins: set[str] = set()

    def allow_origin(self, origin: str) -> None:
        """The studio's own origin (known once its port is bound); localhost is the same."""
        self.origins.add(origin.rstrip("/"))
        self.origins.add(origin.rstrip("/").replace("://127.0.0.1:", "://localhost:"))

    def refusal(self, method: str, path: str, headers: Headers) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if self.origins and not any(origin.endswith(f"://{host}") for origin in self.origins):
            return 421, f"this studio does not answer for host {host!r}"
        if method not in _SAFE_METHODS and headers.get("origin") not in self.origins:
            return 403, "a call that changes something must come from the studio's own page"
        if path.startswith("/api/"):
            given = headers.get(TOKEN_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return 401, "the studio's token is missing or wrong: open the URL mscal printed"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self.refusal(scope["method"], scope["path"], Headers(scope=scope))
        if refused is not None:
            status, message = refused
            await JSONResponse({"error": {"message": message}}, status, SECURITY_HEADERS)(
                scope, receive, send
            )
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {bytes(k).lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
