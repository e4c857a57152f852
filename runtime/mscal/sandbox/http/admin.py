"""`/_sandbox/...`: what tests and demos switch on the running service (faults, token
revocation, delta-token expiry) and what they read back (request counts)."""

from __future__ import annotations

import json
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mscal.sandbox.domain.delta import Delta
from mscal.sandbox.http.faults import Faults
from mscal.sandbox.http.wire_guard import error_body
from mscal.sandbox.identity.platform import Identity


class AdminEndpoints:
    def __init__(self, faults: Faults, identity: Identity, delta: Delta) -> None:
        self.faults = faults
        self.identity = identity
        self.delta = delta

    def routes(self) -> list[Route]:
        return [
            Route("/_sandbox/faults", self.faults_switch, methods=["POST", "DELETE"]),
            Route("/_sandbox/stats", self.stats, methods=["GET"]),
            Route("/_sandbox/revoke-tokens", self.revoke_tokens, methods=["POST"]),
            Route("/_sandbox/expire-delta-tokens", self.expire_delta_tokens, methods=["POST"]),
        ]

    async def faults_switch(self, request: Request) -> Response:
        """Switch faults on (POST {"fault": "status=429 times=1"}) or all off (DELETE)."""
        if request.method == "DELETE":
            self.faults.clear()
            return Response(status_code=204)
        try:
            self.faults.add(str((await request.json())["fault"]))
        except (ValueError, KeyError, TypeError) as exc:
            return _bad_request(request, str(exc))
        return Response(status_code=204)

    async def expire_delta_tokens(self, request: Request) -> Response:
        """Expire every delta token issued so far (a later round gets 410, full sync needed)."""
        self.delta.expire_tokens()
        return Response(status_code=204)

    async def revoke_tokens(self, request: Request) -> Response:
        """Revoke tokens (all, or a user's with {"user": "..."}), as a password reset would."""
        raw = await request.body()
        try:
            given = json.loads(raw) if raw else {}
        except ValueError:
            given = None
        user = given.get("user") if isinstance(given, dict) else None
        if given is None or not isinstance(given, dict) or not isinstance(user, str | None):
            return _bad_request(
                request, 'Expected no body, or {"user": "<id or userPrincipalName>"}.'
            )
        return JSONResponse({"revoked": self.identity.revoke_all(user)})

    async def stats(self, request: Request) -> Response:
        """What the service saw: requests, the most in flight per mailbox, the requests refused
        for MailboxConcurrency per mailbox, and token requests per grant type."""
        return JSONResponse(
            {
                "requests": self.faults.requests,
                "peak_in_flight": dict(self.faults.peak_in_flight),
                "concurrency_refused": dict(self.faults.concurrency_refused),
                "token_requests": dict(self.identity.grants),
            }
        )


def _bad_request(request: Request, message: str) -> Response:
    request_id = str(uuid.uuid4())
    body = error_body(
        request.url.path,
        400,
        "BadRequest",
        message,
        request_id,
        request.headers.get("client-request-id"),
    )
    return JSONResponse(body, status_code=400)
