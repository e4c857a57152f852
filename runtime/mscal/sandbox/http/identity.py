"""The identity platform's endpoints: `/{tenant}/oauth2/v2.0/authorize`, `.../token` (and the
v1.0 `/{tenant}/oauth2/token`), `.../devicecode`; errors in the platform's own shape."""

from __future__ import annotations

import base64
from html import escape
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mscal.sandbox.domain.directory import Directory
from mscal.sandbox.identity.discovery import check_tenant
from mscal.sandbox.identity.model import OAuthError
from mscal.sandbox.identity.platform import Identity


class IdentityEndpoints:
    def __init__(self, identity: Identity, directory: Directory) -> None:
        self.identity = identity
        self.directory = directory

    def routes(self) -> list[Route]:
        return [
            Route("/{tenant}/oauth2/v2.0/authorize", self.authorize, methods=["GET"]),
            Route("/{tenant}/oauth2/authorize", self.authorize, methods=["GET"]),
            Route("/{tenant}/oauth2/v2.0/token", self.token, methods=["POST"]),
            Route("/{tenant}/oauth2/token", self.token, methods=["POST"]),
            Route("/{tenant}/oauth2/v2.0/devicecode", self.device_code, methods=["POST"]),
        ]

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        try:
            check_tenant(request.path_params["tenant"], self.identity.config)
            if params.get("response_mode") == "form_post":
                answer = self.identity.authorization(params, self.directory.ensure_user)
                return _form_post(params["redirect_uri"], answer)
            location = self.identity.authorize(params, self.directory.ensure_user)
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return RedirectResponse(location, status_code=302)

    async def token(self, request: Request) -> Response:
        form = await _form(request)
        basic = _basic_auth(request.headers.get("authorization"))
        try:
            check_tenant(request.path_params["tenant"], self.identity.config)
            body = self.identity.token(
                form, basic, v1="/v2.0/" not in request.url.path, origin=service_origin(request)
            )
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def device_code(self, request: Request) -> Response:
        form = await _form(request)
        try:
            check_tenant(request.path_params["tenant"], self.identity.config)
            body = self.identity.device_code(form, service_origin(request))
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(body)


def _form_post(redirect_uri: str, answer: dict[str, str]) -> HTMLResponse:
    """`response_mode=form_post`: a page whose form the browser posts to the redirect URI
    (the code stays out of URLs and browser history), as Entra's."""
    fields = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}" />'
        for name, value in answer.items()
    )
    page = (
        "<html><head><title>Working...</title></head><body>"
        f'<form method="POST" name="hiddenform" action="{escape(redirect_uri)}">{fields}'
        "<noscript><p>Script is disabled. Click Submit to continue.</p>"
        '<input type="submit" value="Submit" /></noscript></form>'
        "<script>document.forms[0].submit();</script></body></html>"
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


def service_origin(request: Request) -> str:
    """The service's own URL as the client reached it (https behind `--tls`): what every
    document and token names as issuer and endpoints."""
    return f"{request.url.scheme}://{request.url.netloc}"


async def _form(request: Request) -> dict[str, str]:
    # Token requests are always application/x-www-form-urlencoded.
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return unquote(user), unquote(password)
