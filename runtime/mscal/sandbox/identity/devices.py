"""The device code flow's two halves: a device asks for a code (`/devicecode`), and a person
enters it at the verification page (or a test approves it, `POST /_sandbox/device-approvals`),
signing in as someone; the device's polls then get tokens for that person.

With `strict`, a code waits until it is approved (Entra's behaviour). Otherwise a code nobody
approved signs in the hinted (or default) user at the second poll, so a sign-in needs no page.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from mscal.sandbox.identity.model import IdentityConfig, OAuthError
from mscal.sandbox.ids import new_token
from mscal.sandbox.store import Store

_LIFETIME = 900
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand
VERIFICATION_PATH = "/devicelogin"  # as https://microsoft.com/devicelogin


class DeviceCodes:
    def __init__(self, store: Store, config: IdentityConfig) -> None:
        self.store = store
        self.config = config

    def start(self, form: dict[str, str], origin: str) -> dict[str, Any]:
        device = new_token("device")
        user_code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(9))
        self.store.put(
            "device",
            {
                "id": device,
                "user_code": user_code,
                "client_id": form.get("client_id", ""),
                "scope": form.get("scope", ""),
                "hint": form.get("login_hint") or None,
                "user": None,
                "polls": 0,
                "expires_at": time.time() + _LIFETIME,
            },
            track=False,
        )
        uri = origin + VERIFICATION_PATH
        return {
            "device_code": device,
            "user_code": user_code,
            "verification_uri": uri,
            "expires_in": _LIFETIME,
            "interval": 1,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
            f"{user_code} to authenticate.",
        }

    def pending(self, user_code: str) -> dict[str, Any] | None:
        """The unexpired, unapproved device code a person typed (any case, spaces ignored)."""
        wanted = "".join(user_code.split()).replace("-", "").upper()
        if not wanted:
            return None
        for device in self.store.find("device"):
            if (
                device.get("user_code") == wanted
                and device["user"] is None
                and device["expires_at"] > time.time()
            ):
                return device
        return None

    def approve(self, user_code: str, user: str) -> None:
        device = self.pending(user_code)
        if device is None:
            raise OAuthError(
                "invalid_grant",
                70000,
                f"The code '{user_code}' is not a pending device code (mistyped, expired or "
                "already used).",
            )
        device["user"] = user
        self.store.put("device", device, track=False)

    def redeem(self, form: dict[str, str], client_id: str) -> tuple[str, str]:
        """The device's poll: the user and scope once someone signed in; until then
        `authorization_pending`."""
        device = self.store.get("device", form.get("device_code", ""))
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
        self.store.put("device", device, track=False)
        user = device["user"]
        if user is None and not self.config.strict and device["polls"] > 1:
            user = device.get("hint") or self.config.default_user
        if user is None:
            raise OAuthError(
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )
        self.store.delete("device", device["id"], track=False)
        return str(user), str(device["scope"])
