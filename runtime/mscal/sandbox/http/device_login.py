"""Where a person completes a device code sign-in: the verification page the device code
answer names (`/devicelogin`, as https://microsoft.com/devicelogin, and Entra's
`/{tenant}/oauth2/deviceauth`), and its browser-less twin for tests and scripts,
`POST /_sandbox/device-approvals {"user_code": ..., "user": ...}`.

The local platform keeps no passwords: entering the code and an account signs that account in.
"""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from mscal.sandbox.identity.devices import VERIFICATION_PATH
from mscal.sandbox.identity.model import OAuthError
from mscal.sandbox.identity.platform import Identity

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Enter code</title></head>
<body>
<h1>{heading}</h1>
<p>{message}</p>
{form}
</body></html>
"""

_FORM = """<form method="post" action="/common/oauth2/deviceauth">
<label>Code <input name="otc" value="{code}" autocomplete="off" required></label>
<label>Account <input name="login" value="{login}" type="email" required></label>
<button type="submit">Sign in</button>
</form>"""


class DeviceLoginEndpoints:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    def routes(self) -> list[Route]:
        return [
            Route(VERIFICATION_PATH, self.page, methods=["GET"]),
            Route("/{tenant}/oauth2/deviceauth", self.page, methods=["GET"]),
            Route("/{tenant}/oauth2/deviceauth", self.sign_in, methods=["POST"]),
            Route("/_sandbox/device-approvals", self.approve, methods=["POST"]),
        ]

    async def page(self, request: Request) -> Response:
        return _page(
            "Enter code",
            "Enter the code displayed on your app or device, and the account to sign in as.",
            form=True,
            code=request.query_params.get("otc", ""),
            login=self.identity.config.default_user,
        )

    async def sign_in(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        code, login = form.get("otc", ""), form.get("login", "")
        try:
            self.identity.approve_device(code, login)
        except OAuthError as exc:
            return _page(
                "Enter code", exc.description, form=True, code=code, login=login, status=400
            )
        return _page(
            "You're signed in",
            f"You have signed in as {login} to the application on your device. "
            "You may now close this window.",
        )

    async def approve(self, request: Request) -> Response:
        """`{"user_code": "ABC123XYZ", "user": "megan@contoso.onmicrosoft.com"}` approves a
        pending device code as that user, as a person would at the page."""
        try:
            body = await request.json()
            code, user = str(body["user_code"]), str(body["user"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse(
                {
                    "error": {
                        "code": "BadRequest",
                        "message": 'Expected a JSON object {"user_code": "...", "user": "..."}.',
                    }
                },
                status_code=400,
            )
        try:
            self.identity.approve_device(code, user)
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return Response(status_code=204)


def _page(
    heading: str,
    message: str,
    *,
    form: bool = False,
    code: str = "",
    login: str = "",
    status: int = 200,
) -> HTMLResponse:
    fields = _FORM.format(code=escape(code), login=escape(login)) if form else ""
    html = _PAGE.format(heading=escape(heading), message=escape(message), form=fields)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
