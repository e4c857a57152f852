"""Interactive sign-in: authorization code with PKCE through a loopback listener (a browser on
this machine), or the device code flow (a browser anywhere)."""

from __future__ import annotations

import http.server
import threading
import time
import webbrowser
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from mscal.auth.endpoints import oauth_endpoints, token_errors
from mscal.auth.form import Authentication
from mscal.call.guard import may_use_env_proxy
from mscal.errors import AuthError
from mscal.spec.load import Spec

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_PAGE = (
    b"<!doctype html><title>Signed in</title><p>You are signed in. You can close this window "
    b"and return to the terminal.</p>"
)


def _scope(spec: Spec, authentication: Authentication) -> str:
    return oauth_endpoints(spec, authentication.values).token_params.get("scope", "")


def sign_in_with_browser(
    spec: Spec,
    authentication: Authentication,
    *,
    show: Callable[[str], None] = print,
    open_browser: bool = True,
    timeout: float = 300,
) -> dict[str, Any]:
    """Open the sign-in page; the identity platform redirects back to a listener on 127.0.0.1."""

    received: dict[str, str] = {}

    class Callback(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            received.update({k: v[0] for k, v in query.items()})
            received["_url"] = f"{redirect_origin}{self.path}"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(_PAGE)

        def log_message(self, *_args: Any) -> None:  # the query holds the code: never log it
            return

    listener = http.server.HTTPServer(("127.0.0.1", 0), Callback)
    listener.timeout = timeout
    redirect_origin = f"http://127.0.0.1:{listener.server_address[1]}"
    redirect_uri = f"{redirect_origin}/callback"
    endpoints = oauth_endpoints(spec, authentication.values)
    verifier = generate_token(48)
    try:
        with OAuth2Client(
            client_id=authentication.values["client_id"],
            redirect_uri=redirect_uri,
            scope=_scope(spec, authentication),
            code_challenge_method="S256",
            token_endpoint_auth_method="none",
            trust_env=may_use_env_proxy(endpoints.token_url),
        ) as client:
            url, state = client.create_authorization_url(
                endpoints.authorize_url, code_verifier=verifier
            )
            show(f"Open this page to sign in: {url}")
            if open_browser:
                threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
            # Say what is awaited, for how long, and the way out: the page must be opened on
            # this machine, since the answer comes back to a listener on its loopback address.
            show(
                f"Waiting up to {timeout:.0f} s for the sign-in to come back to {redirect_uri} "
                "(open the page in a browser on this machine and sign in; this ends by itself "
                "when the page says you are signed in). No browser on this machine? Press "
                "Ctrl+C and sign in with a code instead: mscal auth login NAME --device-code"
            )
            deadline = time.monotonic() + timeout
            while "_url" not in received and time.monotonic() < deadline:
                listener.handle_request()
            if "_url" not in received:
                raise AuthError(
                    f"no sign-in came back within {timeout:.0f} s; start again, or sign in on "
                    "another device: mscal auth login NAME --device-code"
                )
            if received.get("error"):
                raise AuthError(
                    f"sign-in refused: {received['error']}: {received.get('error_description', '')}"
                )
            if received.get("state") != state:
                raise AuthError("sign-in answered with the wrong state; start again")
            with token_errors(spec.manifest["authentication"].get("advice")):
                return dict(
                    client.fetch_token(
                        endpoints.token_url,
                        authorization_response=received["_url"],
                        code_verifier=verifier,
                    )
                )
    finally:
        listener.server_close()


def sign_in_with_device_code(
    spec: Spec,
    authentication: Authentication,
    *,
    show: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Show a code to enter on another device, then poll until the person has signed in."""
    endpoints = oauth_endpoints(spec, authentication.values)
    client_id = authentication.values["client_id"]
    with httpx2.Client(timeout=30, trust_env=may_use_env_proxy(endpoints.token_url)) as http:
        answer = http.post(
            endpoints.device_code_url,
            data={"client_id": client_id, "scope": _scope(spec, authentication)},
        )
        if answer.is_error:
            raise AuthError(
                f"device sign-in refused: {answer.json().get('error', answer.status_code)}"
            )
        device = answer.json()
        show(
            str(
                device.get("message")
                or f"Go to {device['verification_uri']} and enter {device['user_code']}"
            )
        )
        interval = float(device.get("interval", 5))
        deadline = time.monotonic() + float(device.get("expires_in", 900))
        while time.monotonic() < deadline:
            polled = http.post(
                endpoints.token_url,
                data={
                    "grant_type": DEVICE_CODE_GRANT,
                    "client_id": client_id,
                    "device_code": device["device_code"],
                },
            )
            body = polled.json()
            if polled.is_success and body.get("access_token"):
                body.setdefault("expires_at", time.time() + float(body.get("expires_in", 3600)))
                return dict(body)
            error = body.get("error")
            if error == "slow_down":
                interval += 5
            elif error != "authorization_pending":
                reason = (str(body.get("error_description") or "").splitlines() or [""])[0]
                raise AuthError(f"device sign-in failed: {error}: {reason}")
            sleep(interval)
    raise AuthError("the device code expired before sign-in finished; start again")
