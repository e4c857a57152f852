"""Redeeming a grant for the user and scope it carries: an authorization code (with PKCE, good
once) and a refresh token (good until it expires or is revoked: Entra does not revoke a refresh
token when it is used). Device codes are in `devices.py`."""

from __future__ import annotations

import base64
import hashlib
import time

from mscal.sandbox.identity.model import OAuthError
from mscal.sandbox.store import Store


def redeem_code(
    store: Store, form: dict[str, str], client_id: str, scope: str
) -> tuple[str, str, str | None]:
    """The user, the scope and the nonce the authorization request carried."""
    code = store.get("code", form.get("code", ""))
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
    store.put("code", code, track=False)
    return str(code["user"]), scope or code["scope"], code.get("nonce")


def redeem_refresh(
    store: Store, form: dict[str, str], client_id: str, scope: str
) -> tuple[str, str]:
    refresh = store.get("refresh", form.get("refresh_token", ""))
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
    if refresh.get("expires_at", float("inf")) < time.time():
        raise OAuthError(
            "invalid_grant",
            700082,
            "The refresh token has expired due to inactivity.",
        )
    return str(refresh["user"]), scope or refresh["scope"]
