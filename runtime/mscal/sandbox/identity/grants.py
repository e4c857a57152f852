"""Redeeming a grant for the user and scope it carries: an authorization code (with PKCE), a
refresh token (rotated: good once), a device code (pending at the first poll)."""

from __future__ import annotations

import base64
import hashlib
import time

from mscal.sandbox.identity.model import OAuthError
from mscal.sandbox.store import Store


def redeem_code(store: Store, form: dict[str, str], client_id: str, scope: str) -> tuple[str, str]:
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
    return str(code["user"]), scope or code["scope"]


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
    # Rotation: a refresh token is good once; the response carries its successor.
    refresh["revoked"] = True
    store.put("refresh", refresh, track=False)
    return str(refresh["user"]), scope or refresh["scope"]


def redeem_device_code(store: Store, form: dict[str, str], client_id: str) -> tuple[str, str]:
    device = store.get("device", form.get("device_code", ""))
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
    store.put("device", device, track=False)
    if device["polls"] == 1:  # the person has not signed in yet at the first poll
        raise OAuthError(
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        )
    store.delete("device", device["id"], track=False)
    return str(device["user"]), str(device["scope"])
