"""Client authentication at the token endpoint: registered clients (in strict mode), secrets,
and certificate credentials (a client assertion)."""

from __future__ import annotations

import base64
import json
import time

from mscal.sandbox.identity.model import IdentityConfig, OAuthError


def check_client(
    config: IdentityConfig,
    client_id: str,
    secret: str | None,
    *,
    secret_required: bool,
    assertion: str | None = None,
) -> None:
    if config.strict and client_id not in config.clients:
        raise OAuthError(
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory.",
            status=400,
        )
    if assertion is not None:
        check_assertion(assertion, client_id)
        return
    if secret_required and not secret:
        raise OAuthError(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' "
            "or 'client_secret'.",
            status=401,
        )
    if secret is not None and config.strict and config.clients.get(client_id) != secret:
        raise OAuthError(
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the "
            "secret being sent in the request is the client secret value, not the "
            "client secret ID.",
            status=401,
        )


def check_assertion(assertion: str, client_id: str) -> None:
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
