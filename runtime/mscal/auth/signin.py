"""Delegated sign-in (authorization code with PKCE) where no person needs to act.

The local identity platform signs in the user named by `login_hint` without a page, so the
authorization redirect can be followed here directly. Interactive sign-in with a browser and
a loopback listener builds on the same exchange.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from mscal.auth.endpoints import oauth_endpoints, token_errors
from mscal.auth.form import Authentication
from mscal.call.guard import may_use_env_proxy
from mscal.errors import AuthError
from mscal.spec.load import Spec

# Where the code is "delivered": never listened on, the redirect is read from the response.
REDIRECT_URI = "http://127.0.0.1/callback"


def sign_in_without_browser(
    spec: Spec, values: Mapping[str, Any], login_hint: str
) -> Authentication:

    authentication = Authentication.from_form(spec, values)
    endpoints = oauth_endpoints(spec, authentication.values)
    scope = endpoints.token_params.get("scope", "")
    verifier = generate_token(48)
    with OAuth2Client(
        client_id=authentication.values["client_id"],
        redirect_uri=REDIRECT_URI,
        scope=scope,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
        trust_env=may_use_env_proxy(endpoints.token_url),
    ) as client:
        url, _state = client.create_authorization_url(
            endpoints.authorize_url, code_verifier=verifier, login_hint=login_hint
        )
        try:
            answer = httpx2.get(
                url, follow_redirects=False, trust_env=may_use_env_proxy(endpoints.authorize_url)
            )
        except httpx2.HTTPError as exc:
            reason = type(exc).__name__
            raise AuthError(
                f"cannot reach the identity platform at {url.split('?')[0]}: {reason}"
            ) from None
        location = answer.headers.get("location", "")
        if answer.status_code != 302 or not location.startswith(REDIRECT_URI):
            raise AuthError(
                f"sign-in did not redirect back with a code (HTTP {answer.status_code})"
            )
        with token_errors(spec.manifest["authentication"].get("advice")):
            token = client.fetch_token(
                endpoints.token_url, authorization_response=location, code_verifier=verifier
            )
    return Authentication.from_form(
        spec,
        values,
        access_token=token["access_token"],
        refresh_token=token.get("refresh_token"),
        expires_at=float(
            token.get("expires_at") or time.time() + float(token.get("expires_in", 0))
        ),
    )
