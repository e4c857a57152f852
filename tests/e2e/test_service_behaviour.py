"""The local service behaves like Graph and the identity platform where clients notice."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx2
import pytest

import mscal
from mscal.auth.signin import sign_in_without_browser
from mscal.cli.demo import run_demo
from mscal.cli.main import main as cli_main_function
from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox, create_sandbox
from tests.e2e.conftest import ADELE

TOKEN = "/contoso.onmicrosoft.com/oauth2/v2.0/token"


@pytest.fixture
def cli_main() -> Any:
    return cli_main_function


def _app_token(service: str) -> str:
    answer = httpx2.post(
        service + TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": "c",
            "client_secret": "s",
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    assert answer.status_code == 200
    return str(answer.json()["access_token"])


def _authorize(service: str, verifier: str, **extra: str) -> str:
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    )
    answer = httpx2.get(
        service + "/common/oauth2/v2.0/authorize",
        params={
            "client_id": "c",
            "response_type": "code",
            "redirect_uri": "http://127.0.0.1:9/cb",
            "scope": "Calendars.ReadWrite offline_access",
            "state": "xyz",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "login_hint": ADELE,
            **extra,
        },
    )
    assert answer.status_code == 302
    query = parse_qs(urlparse(answer.headers["location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def _redeem(service: str, code: str, verifier: str) -> httpx2.Response:
    return httpx2.post(
        service + TOKEN,
        data={
            "grant_type": "authorization_code",
            "client_id": "c",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": "http://127.0.0.1:9/cb",
        },
    )


def test_authorization_code_with_pkce_and_refresh_tokens_that_stay_valid(service: str) -> None:
    verifier = "v" * 50
    code = _authorize(service, verifier)
    assert _redeem(service, code, "w" * 50).json()["error_codes"] == [501481]
    code = _authorize(service, verifier)
    tokens = _redeem(service, code, verifier).json()
    assert set(tokens) >= {"access_token", "refresh_token", "expires_in", "scope"}
    again = _redeem(service, code, verifier).json()
    assert again["error"] == "invalid_grant" and again["error_codes"] == [54005]
    assert again["error_description"].startswith("AADSTS54005: ")

    me = httpx2.get(
        service + "/v1.0/me/calendar", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["owner"]["address"] == ADELE

    refreshed = httpx2.post(
        service + TOKEN,
        data={
            "grant_type": "refresh_token",
            "client_id": "c",
            "refresh_token": tokens["refresh_token"],
        },
    ).json()
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    reused = httpx2.post(
        service + TOKEN,
        data={
            "grant_type": "refresh_token",
            "client_id": "c",
            "refresh_token": tokens["refresh_token"],
        },
    ).json()
    # Entra does not revoke a refresh token when it is used: it stays good until it expires.
    assert reused["access_token"] and reused["access_token"] != refreshed["access_token"]


def test_client_credentials_needs_a_secret_and_the_default_scope(service: str) -> None:
    no_secret = httpx2.post(
        service + TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": "c",
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    assert no_secret.status_code == 401 and no_secret.json()["error"] == "invalid_client"
    named = httpx2.post(
        service + TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": "c",
            "client_secret": "s",
            "scope": "Calendars.Read",
        },
    )
    assert named.json()["error"] == "invalid_scope"
    v1 = httpx2.post(
        service + "/contoso.onmicrosoft.com/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "c",
            "client_secret": "s",
            "resource": "https://graph.microsoft.com",
        },
    )
    assert v1.status_code == 200 and v1.json()["resource"] == "https://graph.microsoft.com"


def test_device_code_flow(service: str) -> None:
    device = httpx2.post(
        service + "/common/oauth2/v2.0/devicecode",
        data={"client_id": "c", "scope": "Calendars.Read"},
    ).json()
    assert {"device_code", "user_code", "verification_uri", "interval", "message"} <= set(device)
    poll = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "client_id": "c",
        "device_code": device["device_code"],
    }
    assert httpx2.post(service + TOKEN, data=poll).json()["error"] == "authorization_pending"
    assert "access_token" in httpx2.post(service + TOKEN, data=poll).json()


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "code"),
    [
        ("GET", "/v1.0/me/calendars", {}, None, 401, "InvalidAuthenticationToken"),
        (
            "GET",
            "/v1.0/me/calendars",
            {"Authorization": "Bearer nonsense"},
            None,
            401,
            "InvalidAuthenticationToken",
        ),
        ("GET", "/v1.0/users/{ADELE}/events/short", "app", None, 400, "ErrorInvalidIdMalformed"),
        (
            "GET",
            "/v1.0/users/{ADELE}/events/AAMkAGUnknownIdThatIsLongEnough=",
            "app",
            None,
            404,
            "ErrorItemNotFound",
        ),
        ("GET", "/v1.0/users/{ADELE}/widgets", "app", None, 400, "BadRequest"),
        ("PUT", "/v1.0/users/{ADELE}/calendars", "app", None, 405, "Request_BadRequest"),
        ("POST", "/v1.0/users/{ADELE}/events", "app", b"{not json", 400, "BadRequest"),
        (
            "POST",
            "/v1.0/users/{ADELE}/events",
            "app",
            b'{"subject": "no times"}',
            400,
            "ErrorPropertyValidationFailure",
        ),
        ("GET", "/v1.0/users/{ADELE}/calendarView", "app", None, 400, "ErrorInvalidParameter"),
        ("GET", "/v1.0/users/{ADELE}/events?$filter=subject%20eq", "app", None, 400, "BadRequest"),
        ("GET", "/v1.0/users/{ADELE}/events?$top=0", "app", None, 400, "BadRequest"),
        ("GET", "/v1.0/users/nobody-like-this/events", "app", None, 404, "ErrorInvalidUser"),
        ("GET", "/v1.0/me/events", "app", None, 400, "BadRequest"),
    ],
)
def test_bad_requests_get_graphs_envelope(
    service: str, method: str, path: str, headers: Any, body: bytes | None, status: int, code: str
) -> None:
    if headers == "app":
        headers = {"Authorization": f"Bearer {_app_token(service)}", "client-request-id": "crid-1"}
    answer = httpx2.request(
        method, service + path.replace("{ADELE}", ADELE), headers=headers, content=body
    )
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == code and error["message"]
    assert error["innerError"]["request-id"] == answer.headers["request-id"]
    assert "Traceback" not in answer.text
    if headers and "client-request-id" in headers:
        assert answer.headers["client-request-id"] == "crid-1"


def test_the_connector_refreshes_once_when_the_token_expired(
    connector: mscal.Connector, adele: mscal.Authentication, sandbox: Sandbox
) -> None:
    with connector.session(adele) as me:
        me.run("get_calendar")
        assert sandbox.identity.expire_all() >= 1
        assert me.run("get_calendar")["isDefaultCalendar"] is True


def test_data_survives_a_restart_with_a_file_database(
    tmp_path: Path, connector: mscal.Connector
) -> None:
    db = tmp_path / "graph.db"
    first = create_sandbox(db)
    with BackgroundServer(first.app) as url:
        token = first.identity.issue_for(
            first.tenant.find_user(first.tenant.ensure_user(ADELE))["userPrincipalName"]
        )  # type: ignore[index]
        auth = connector.authentication({"base_url": f"{url}/v1.0"}, access_token=token)
        made = connector.run("create_calendar", {"calendar": {"name": "Kept"}}, auth=auth)
    first.store.close()

    second = create_sandbox(db)
    with BackgroundServer(second.app) as url:
        auth = connector.authentication({"base_url": f"{url}/v1.0"}, access_token=token)
        names = {c["id"]: c["name"] for c in connector.run("list_calendars", auth=auth)["value"]}
    second.store.close()
    assert names[made["id"]] == "Kept"


def test_demo_runs_to_completion(service: str) -> None:
    lines: list[str] = []
    found = run_demo(service, "Pacific Standard Time", out=lines.append)
    assert found["attendee_status"] == {
        "alex@contoso.onmicrosoft.com": "accepted",
        "megan@contoso.onmicrosoft.com": "none",
    }
    assert [o["start"]["dateTime"][11:16] for o in found["week"]] == ["10:00", "10:00"]
    assert found["calendars"][0] == "Calendar"
    assert any("cleaned up" in line for line in lines)


def test_demo_against_a_service_that_is_not_running_says_so(
    cli_main: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["demo", "--url", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mscal: error: no local Graph service answers at http://127.0.0.1:9 ")
    assert err.count("\n") == 1


def test_sign_in_against_nothing_is_an_auth_error(connector: mscal.Connector) -> None:
    form = {
        "client_id": "c",
        "authority_host": "http://127.0.0.1:9",
        "base_url": "http://127.0.0.1:9/v1.0",
    }
    with pytest.raises(mscal.AuthError, match="cannot reach the identity platform"):
        sign_in_without_browser(connector.spec, form, ADELE)


def test_revoked_tokens_are_refused(service: str, sandbox: Sandbox) -> None:
    token = sandbox.identity.issue_for("megan@contoso.onmicrosoft.com")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx2.get(f"{service}/v1.0/me/calendar", headers=headers).status_code == 200
    revoked = httpx2.post(
        f"{service}/_sandbox/revoke-tokens", json={"user": "megan@contoso.onmicrosoft.com"}
    )
    assert revoked.json()["revoked"] >= 1
    answer = httpx2.get(f"{service}/v1.0/me/calendar", headers=headers)
    assert (
        answer.status_code == 401
        and answer.json()["error"]["message"] == "Access token has been revoked."
    )


def test_strict_mode_accepts_only_registered_clients(connector: mscal.Connector) -> None:
    strict = create_sandbox(strict=True, clients={"known-app": "right-secret"})
    with BackgroundServer(strict.app) as url:

        def token(client_id: str, secret: str) -> httpx2.Response:
            return httpx2.post(
                url + TOKEN,
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                    "scope": "https://graph.microsoft.com/.default",
                },
            )

        assert token("unknown-app", "x").json()["error_codes"] == [700016]
        wrong = token("known-app", "wrong")
        assert wrong.status_code == 401 and wrong.json()["error_codes"] == [7000215]
        assert "access_token" in token("known-app", "right-secret").json()
        app = connector.authentication(
            {
                "client_id": "known-app",
                "client_secret": "wrong",
                "tenant_id": "contoso.onmicrosoft.com",
                "grant_type": "client_credentials",
                "authority_host": url,
                "base_url": f"{url}/v1.0",
            }
        )
        with pytest.raises(mscal.AuthError, match="AADSTS7000215"):
            connector.run(
                "list_calendars", {"user_id": "someone@contoso.onmicrosoft.com"}, auth=app
            )
    strict.store.close()


def test_signing_in_a_new_user_creates_their_mailbox(
    connector: mscal.Connector, form: dict[str, Any]
) -> None:
    newcomer = "nestor@contoso.onmicrosoft.com"
    auth = sign_in_without_browser(connector.spec, form, newcomer)
    calendar = connector.run("get_calendar", auth=auth)
    assert calendar["isDefaultCalendar"] is True and calendar["owner"]["address"] == newcomer
