"""Tokens from the client-credentials and refresh-token grants; secrets never leak."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

import httpx2
import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from mscal.auth.endpoints import oauth_endpoints
from mscal.auth.oauth2 import OAuth2Tokens
from mscal.auth.tokens import StaticToken
from mscal.secret import Secret
from tests.conftest import CANARY_TOKEN, GRAPH, CliResult

TENANT = "contoso.onmicrosoft.com"
TOKEN_V2 = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
TOKEN_V1 = f"https://login.microsoftonline.com/{TENANT}/oauth2/token"
SECRET = "canary-client-secret-0a9b8c"
REFRESH = "canary-refresh-token-4d5e6f"
NEW_REFRESH = "canary-refresh-token-rotated-1a2b"
APP_TOKEN = "canary-app-token-9z8y7x"


def _form(request: httpx2.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def _app_auth(connector: mscal.Connector, **values: Any) -> mscal.Authentication:
    return connector.authentication(
        {
            "client_id": "app-123",
            "tenant_id": TENANT,
            "client_secret": SECRET,
            "grant_type": "client_credentials",
            **values,
        }
    )


def test_client_credentials_v2_token_then_graph(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    httpx2_mock.add_response(
        url=TOKEN_V2,
        method="POST",
        json={"access_token": APP_TOKEN, "token_type": "Bearer", "expires_in": 3600},
    )
    httpx2_mock.add_response(url=f"{GRAPH}/users/u1/calendars", json={"value": []})

    result = connector.run("list_calendars", {"user_id": "u1"}, auth=_app_auth(connector))

    assert result == {"value": [], "next_link": None}
    token_request, graph_request = httpx2_mock.get_requests()
    assert _form(token_request) == {
        "grant_type": "client_credentials",
        "scope": "https://graph.microsoft.com/.default",
        "client_id": "app-123",
        "client_secret": SECRET,
    }
    assert "Authorization" not in token_request.headers
    assert graph_request.headers["Authorization"] == f"Bearer {APP_TOKEN}"


def test_client_credentials_v1_endpoint_asks_for_a_resource(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    httpx2_mock.add_response(
        url=TOKEN_V1,
        method="POST",
        json={"access_token": APP_TOKEN, "token_type": "Bearer", "expires_in": 3600},
    )
    httpx2_mock.add_response(url=f"{GRAPH}/users/u1/calendar", json={"id": "c"})
    connector.run("get_calendar", {"user_id": "u1"}, auth=_app_auth(connector, api_version="v1.0"))
    form = _form(httpx2_mock.get_requests()[0])
    assert form["resource"] == "https://graph.microsoft.com"
    assert "scope" not in form


def test_national_cloud_hosts_come_from_the_form(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    httpx2_mock.add_response(
        url=f"https://login.microsoftonline.us/{TENANT}/oauth2/v2.0/token",
        json={"access_token": APP_TOKEN, "token_type": "Bearer", "expires_in": 3600},
    )
    httpx2_mock.add_response(url="https://graph.microsoft.us/v1.0/users/u1/calendar", json={})
    auth = _app_auth(
        connector,
        authority_host="https://login.microsoftonline.us",
        base_url="https://graph.microsoft.us/v1.0",
        scopes=["https://graph.microsoft.us/.default"],
    )
    connector.run("get_calendar", {"user_id": "u1"}, auth=auth)
    assert _form(httpx2_mock.get_requests()[0])["scope"] == "https://graph.microsoft.us/.default"


PROXY = "https://graph-proxy.contoso.com/v1.0"
AUDIENCES = [
    # (form values, the token request's audience parameter): base_url is where requests go,
    # never what the token is for; the scopes say that.
    (
        {"scopes": ["https://graph.microsoft.com/.default"]},
        {"scope": "https://graph.microsoft.com/.default"},
    ),
    ({}, {"scope": "https://graph.microsoft.com/.default"}),
    (
        {"scopes": ["https://graph.microsoft.us/.default"]},
        {"scope": "https://graph.microsoft.us/.default"},
    ),
    (
        {"api_version": "v1.0", "scopes": ["https://graph.microsoft.com/.default"]},
        {"resource": "https://graph.microsoft.com"},
    ),
    (
        {"api_version": "v1.0", "scopes": ["https://microsoftgraph.chinacloudapi.cn/.default"]},
        {"resource": "https://microsoftgraph.chinacloudapi.cn"},
    ),
]


@pytest.mark.parametrize(("values", "audience"), AUDIENCES)
def test_the_token_is_for_the_api_the_scopes_name_whatever_the_base_url(
    httpx2_mock: HTTPXMock,
    connector: mscal.Connector,
    values: dict[str, Any],
    audience: dict[str, str],
) -> None:
    version = "v2.0/" if values.get("api_version", "v2.0") == "v2.0" else ""
    token_url = f"https://login.microsoftonline.com/{TENANT}/oauth2/{version}token"
    httpx2_mock.add_response(
        url=token_url,
        json={"access_token": APP_TOKEN, "token_type": "Bearer", "expires_in": 3600},
    )
    httpx2_mock.add_response(url=f"{PROXY}/users/u1/calendar", json={"id": "c"})

    result = connector.run(
        "get_calendar", {"user_id": "u1"}, auth=_app_auth(connector, base_url=PROXY, **values)
    )

    assert result == {"id": "c"}
    token_request, graph_request = httpx2_mock.get_requests()
    assert str(token_request.url) == token_url
    assert _form(token_request) == {
        "grant_type": "client_credentials",
        "client_id": "app-123",
        "client_secret": SECRET,
        **audience,
    }
    assert str(graph_request.url) == f"{PROXY}/users/u1/calendar"
    assert graph_request.headers["Authorization"] == f"Bearer {APP_TOKEN}"


def test_delegated_scopes_are_asked_as_given_whatever_the_base_url(
    connector: mscal.Connector,
) -> None:
    auth = connector.authentication(
        {
            "client_id": "app-123",
            "tenant_id": TENANT,
            "base_url": "http://127.0.0.1:8765/v1.0",
            "scopes": ["https://graph.microsoft.com/Calendars.Read"],
        }
    )
    params = oauth_endpoints(connector.spec, auth.values).token_params
    assert params == {"scope": "https://graph.microsoft.com/Calendars.Read offline_access"}
    # Bare scope names mean Graph to the identity platform; v1.0 asks for Graph as the resource.
    values = {**auth.values, "api_version": "v1.0", "scopes": ["Calendars.Read"]}
    assert oauth_endpoints(connector.spec, values).token_params == {
        "resource": "https://graph.microsoft.com"
    }


def test_refresh_token_grant_with_offline_access_and_rotation(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    httpx2_mock.add_response(
        url=TOKEN_V2,
        json={
            "access_token": "fresh",
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": NEW_REFRESH,
        },
    )
    httpx2_mock.add_response(url=f"{GRAPH}/me/calendar", json={"id": "c"}, is_reusable=True)
    seen: list[dict[str, Any]] = []
    auth = connector.authentication(
        {"client_id": "app-123", "tenant_id": TENANT}, refresh_token=REFRESH
    )

    tokens = OAuth2Tokens(connector.spec, auth, on_token=seen.append)
    with connector.session(tokens) as session:
        session.run("get_calendar")
        session.run("get_calendar")  # the fresh token is reused, not refreshed again
    form = _form(httpx2_mock.get_requests()[0])
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == REFRESH
    assert form["scope"] == (
        "https://graph.microsoft.com/Calendars.ReadWrite https://graph.microsoft.com/User.Read "
        "offline_access"
    )
    assert "client_secret" not in form
    assert len(httpx2_mock.get_requests(url=TOKEN_V2)) == 1
    assert seen[0]["refresh_token"] == NEW_REFRESH
    assert tokens._refresh is not None and tokens._refresh.reveal() == NEW_REFRESH


def test_a_401_refreshes_once_and_replays_once(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    sent: list[str | None] = []

    def graph(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.headers.get("Authorization"))
        return httpx2.Response(
            401, json={"error": {"code": "InvalidAuthenticationToken", "message": "expired"}}
        )

    def token_endpoint(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.headers.get("Authorization"))
        return httpx2.Response(
            200, json={"access_token": "second", "token_type": "Bearer", "expires_in": 3600}
        )

    httpx2_mock.add_callback(graph, url=f"{GRAPH}/me/calendar", is_reusable=True)
    httpx2_mock.add_callback(token_endpoint, url=TOKEN_V2)
    auth = connector.authentication(
        {"client_id": "app-123", "tenant_id": TENANT},
        access_token="first",
        refresh_token=REFRESH,
        expires_at=time.time() + 3600,
    )
    with pytest.raises(mscal.GraphError) as caught:
        connector.run("get_calendar", auth=auth)
    assert caught.value.code == "InvalidAuthenticationToken"
    assert sent == ["Bearer first", None, "Bearer second"]


def test_a_token_without_expiry_counts_as_expired(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    httpx2_mock.add_response(
        url=TOKEN_V2, json={"access_token": "new", "token_type": "Bearer", "expires_in": 3600}
    )
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/calendar", json={}, match_headers={"Authorization": "Bearer new"}
    )
    auth = connector.authentication(
        {"client_id": "a", "tenant_id": TENANT},
        access_token="old-unknown-expiry",
        refresh_token=REFRESH,
    )
    connector.run("get_calendar", auth=auth)


def test_refused_grant_is_a_clear_auth_error(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    httpx2_mock.add_response(
        url=TOKEN_V2,
        status_code=401,
        json={
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x",
        },
    )
    with pytest.raises(mscal.AuthError) as caught:
        connector.run("list_calendars", {"user_id": "u"}, auth=_app_auth(connector))
    assert str(caught.value).startswith(
        "token request refused: invalid_client: AADSTS7000215: Invalid client secret provided. "
        "To fix: the client secret is wrong or expired: create a new one in the app registration"
    )
    assert len(httpx2_mock.get_requests()) == 1


def test_a_callable_token_supplier_plugs_in(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    httpx2_mock.add_response(url=f"{GRAPH}/me/calendar", json={})
    calls: list[bool] = []

    def supply(force: bool) -> str:
        calls.append(force)
        return "from-platform"

    connector.run("get_calendar", auth=supply)
    request = httpx2_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == "Bearer from-platform"
    assert calls == [False]


@pytest.mark.parametrize(
    ("values", "field", "rule"),
    [
        ({"api_version": "v3.0"}, "api_version", "enum"),
        ({"grant_type": "password"}, "grant_type", "enum"),
        ({"scopes": "Calendars.Read"}, "scopes", "type"),
        ({"client_secret": 42}, "client_secret", "type"),
        ({"tenant": "x"}, "tenant", "unknown"),
    ],
)
def test_auth_form_values_are_validated(
    connector: mscal.Connector, values: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(mscal.InputError) as caught:
        connector.authentication(values)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert "42" not in str(caught.value)


def test_secrets_stay_out_of_reprs_and_errors(connector: mscal.Connector) -> None:
    auth = connector.authentication(
        {"client_id": "a", "client_secret": SECRET},
        access_token=CANARY_TOKEN,
        refresh_token=REFRESH,
    )

    shown = " ".join(
        [
            repr(auth),
            str(auth),
            repr(auth.secrets),
            repr(auth.access_token),
            repr(StaticToken(Secret(CANARY_TOKEN))),
            repr(OAuth2Tokens(connector.spec, auth)),
        ]
    )
    for canary in (SECRET, CANARY_TOKEN, REFRESH):
        assert canary not in shown
    assert "client_id" in repr(auth)


def test_token_never_reaches_output_logs_or_errors(
    httpx2_mock: HTTPXMock, cli: Callable[..., CliResult], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    httpx2_mock.add_response(url=f"{GRAPH}/me/calendars", json={"value": [{"name": "Calendar"}]})
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/calendar",
        status_code=403,
        json={
            "error": {
                "code": "ErrorAccessDenied",
                "message": "Access is denied.",
                "innerError": {"request-id": "r-1"},
            }
        },
    )

    ok = cli("run", "list_calendars", "--token", CANARY_TOKEN)
    failed = cli("run", "get_calendar", "--token", CANARY_TOKEN)
    refused = cli(
        "run", "raw_http_request", "--set", "endpoint=//evil.example/", "--token", CANARY_TOKEN
    )

    assert ok.code == 0 and ok.json()["value"] == [{"name": "Calendar"}]
    assert failed.code == 1
    assert failed.err == (
        "mscal: error: HTTP 403 ErrorAccessDenied: Access is denied. (request-id r-1, "
        f"client-request-id {httpx2_mock.get_requests()[1].headers['client-request-id']})\n"
    )
    assert refused.code == 2
    everything = ok.out + ok.err + failed.out + failed.err + refused.out + refused.err + caplog.text
    assert CANARY_TOKEN not in everything


def test_token_from_the_environment(
    httpx2_mock: HTTPXMock, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MSCAL_ACCESS_TOKEN", CANARY_TOKEN)
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/calendar",
        json={"id": "c"},
        match_headers={"Authorization": f"Bearer {CANARY_TOKEN}"},
    )
    assert cli("run", "get_calendar").json() == {"id": "c"}


@pytest.mark.parametrize("failure", ["graph", "transport", "egress"])
def test_token_is_absent_from_exceptions_and_tracebacks(
    httpx2_mock: HTTPXMock,
    connector: mscal.Connector,
    auth: mscal.Authentication,
    failure: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("mscal.io.drivers.time.sleep", lambda _s: None)
    inputs: dict[str, Any] = {"event_id": "e1"}
    operation = "get_event"
    if failure == "graph":
        httpx2_mock.add_response(
            status_code=401,
            json={
                "error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}
            },
        )
    elif failure == "transport":
        httpx2_mock.add_exception(httpx2.ReadTimeout("timed out"), is_reusable=True)
    else:
        operation, inputs = "list_events", {"next_link": "https://evil.example/v1.0/me/events"}
    with pytest.raises(mscal.ConnectorError) as caught:
        connector.run(operation, inputs, auth=auth)
    text = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert CANARY_TOKEN not in text
    assert CANARY_TOKEN not in repr(caught.value.to_dict())


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("700082", "sign in again"),
        ("65001", "an administrator must grant consent"),
        ("90002", "check the tenant ID"),
        ("1234567", None),
    ],
)
def test_aadsts_codes_come_with_what_to_do(
    httpx2_mock: HTTPXMock, connector: mscal.Connector, code: str, words: str | None
) -> None:
    httpx2_mock.add_response(
        url=TOKEN_V2,
        status_code=400,
        json={
            "error": "invalid_grant",
            "error_description": f"AADSTS{code}: Something happened.\r\nTrace ID: x",
        },
    )
    auth = connector.authentication({"client_id": "a", "tenant_id": TENANT}, refresh_token=REFRESH)
    with pytest.raises(mscal.AuthError) as caught:
        connector.run("get_calendar", auth=auth)
    message = str(caught.value)
    assert message.startswith(
        f"token request refused: invalid_grant: AADSTS{code}: Something happened."
    )
    assert (words in message) if words else ("To fix" not in message)
    assert REFRESH not in message


def test_fifty_concurrent_operations_on_an_expired_token_refresh_once(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    token_requests: list[int] = []

    def token_endpoint(request: httpx2.Request) -> httpx2.Response:
        token_requests.append(1)
        return httpx2.Response(
            200,
            json={
                "access_token": "fresh",
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": NEW_REFRESH,
            },
        )

    httpx2_mock.add_callback(token_endpoint, url=TOKEN_V2, is_reusable=True)
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/calendar",
        json={"id": "c"},
        is_reusable=True,
        match_headers={"Authorization": "Bearer fresh"},
    )
    auth = connector.authentication(
        {"client_id": "a", "tenant_id": TENANT},
        access_token="stale",
        refresh_token=REFRESH,
        expires_at=time.time() - 10,
    )

    async def fifty() -> list[object]:
        async with connector.async_session(auth) as session:
            return list(await asyncio.gather(*(session.run("get_calendar") for _ in range(50))))

    assert asyncio.run(fifty()) == [{"id": "c"}] * 50
    assert len(token_requests) == 1

    token_requests.clear()
    threaded = connector.authentication(
        {"client_id": "a", "tenant_id": TENANT},
        access_token="stale",
        refresh_token=REFRESH,
        expires_at=time.time() - 10,
    )
    with connector.session(threaded) as session, ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: session.run("get_calendar"), range(50)))
    assert results == [{"id": "c"}] * 50
    assert len(token_requests) == 1


def test_a_failed_refresh_keeps_a_still_valid_token(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    httpx2_mock.add_response(url=TOKEN_V2, status_code=503, text="unavailable")
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/calendar",
        json={"id": "c"},
        match_headers={"Authorization": "Bearer still-good"},
    )
    # Inside the refresh margin (five minutes) but not expired: a refresh is tried, fails, and
    # the current token is used rather than failing the operation.
    auth = connector.authentication(
        {"client_id": "a", "tenant_id": TENANT},
        access_token="still-good",
        refresh_token=REFRESH,
        expires_at=time.time() + 60,
    )
    assert connector.run("get_calendar", auth=auth) == {"id": "c"}
