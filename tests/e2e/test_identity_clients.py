"""Microsoft's own clients sign in to the local identity platform over https and call the local
Graph service, each changed only in authority, base URL and CA bundle: MSAL Python (client
credentials, auth code with PKCE, device code, silent refresh), azure-identity's
`ClientSecretCredential`, python-o365 and msgraph-sdk.

MSAL asks Microsoft's own instance discovery (login.microsoftonline.com) about any authority
host it does not know, and later looks up that host's aliases there whatever it was told: so,
as for Azure Stack or any private cloud, MSAL gets `instance_discovery=False` and azure-identity
`disable_instance_discovery=True`, and read the tenant's OpenID configuration on the local
service directly. (The local instance discovery answers as Entra's: MSAL's `Authority` reads it
in the test below.)
The CA bundle is given both ways `mscal sandbox --tls` suggests: each client's own setting and
`REQUESTS_CA_BUNDLE`/`SSL_CERT_FILE` (requests lets the variable override a session's `verify`).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import gc
import html
import json
import os
import re
import socket
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import certifi
import httpx2
import msal
import pytest
import requests
from azure.identity import ClientSecretCredential
from cryptography import x509
from joserfc import jwt
from joserfc.jwk import KeySet

from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox, create_sandbox
from mscal.sandbox.tls import ensure_tls_files
from tests.e2e.conftest import ADELE, MEGAN

DOMAIN = "contoso.onmicrosoft.com"
APP, SECRET = "msal-confidential-app", "local-secret-value"
PUBLIC = "msal-public-app"
GRAPH_DEFAULT = "https://graph.microsoft.com/.default"
# MSAL counts a token due to expire within five minutes as expired: with this lifetime a cached
# access token is always due, so `acquire_token_silent` must refresh it.
LIFETIME = 240


@dataclass(frozen=True)
class Platform:
    sandbox: Sandbox
    url: str
    ca: str
    trust: ssl.SSLContext

    @property
    def authority(self) -> str:
        return f"{self.url}/{DOMAIN}"

    def msal_options(self) -> dict[str, Any]:
        """What a client changes for the local platform: authority, its discovery, CA bundle."""
        return {
            "authority": self.authority,
            "instance_discovery": False,
            "verify": self.ca,
        }

    def graph(self, token: str, path: str) -> httpx2.Response:
        return httpx2.get(
            f"{self.url}/v1.0{path}",
            headers={"Authorization": f"Bearer {token}"},
            verify=self.trust,
        )

    def get(self, path: str, **kwargs: Any) -> httpx2.Response:
        return httpx2.get(f"{self.url}{path}", verify=self.trust, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx2.Response:
        return httpx2.post(f"{self.url}{path}", verify=self.trust, **kwargs)


_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)" />')


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls") / "certs"


@pytest.fixture(scope="module")
def platform(tls_dir: Path) -> Iterator[Platform]:
    sandbox = create_sandbox(
        ":memory:",
        seed=True,
        strict=True,
        clients={APP: SECRET, PUBLIC: ""},
        token_lifetime=LIFETIME,
    )
    files = ensure_tls_files(tls_dir)
    trust = ssl.create_default_context(cafile=str(files.ca))
    with pytest.MonkeyPatch.context() as env, BackgroundServer(sandbox.app, tls=files) as url:
        env.setenv("REQUESTS_CA_BUNDLE", str(files.ca))
        env.setenv("SSL_CERT_FILE", str(files.ca))
        yield Platform(sandbox, url, str(files.ca), trust)
        # Clients the tests dropped still hold kept-alive TLS connections, which the server
        # would wait on (a TLS close waits for the peer's answer): collect them first.
        gc.collect()


def _verified_claims(platform: Platform, id_token: str) -> dict[str, Any]:
    """The id_token's claims, its RS256 signature checked against the published JWKS."""
    configuration = platform.get(f"/{DOMAIN}/v2.0/.well-known/openid-configuration").json()
    keys = KeySet.import_key_set(
        httpx2.get(configuration["jwks_uri"], verify=platform.trust).json()
    )
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    assert token.header["alg"] == "RS256" and token.header["kid"]
    return dict(token.claims)


def test_the_certificates_are_private_and_name_the_loopback_host(
    platform: Platform, tls_dir: Path
) -> None:
    assert platform.url.startswith("https://127.0.0.1:")
    assert stat.S_IMODE(tls_dir.stat().st_mode) == 0o700
    for name in ("ca.pem", "server.pem", "server-key.pem"):
        assert stat.S_IMODE((tls_dir / name).stat().st_mode) == 0o600
    public = ssl.create_default_context(cafile=certifi.where())  # the public CAs only
    with pytest.raises(httpx2.ConnectError):  # not trusted without the CA bundle
        httpx2.get(f"{platform.url}/common/discovery/keys", verify=public)
    localhost = platform.url.replace("127.0.0.1", "localhost")
    keys = httpx2.get(f"{localhost}/common/discovery/keys", verify=platform.trust)
    assert keys.status_code == 200


def test_openid_configuration_and_instance_discovery_name_the_local_service(
    platform: Platform,
) -> None:
    tid = platform.sandbox.identity.config.tenant_id
    v2 = platform.get(f"/{DOMAIN}/v2.0/.well-known/openid-configuration").json()
    assert v2["issuer"] == f"{platform.url}/{tid}/v2.0"
    assert v2["token_endpoint"] == f"{platform.url}/{tid}/oauth2/v2.0/token"
    assert v2["authorization_endpoint"] == f"{platform.url}/{tid}/oauth2/v2.0/authorize"
    assert v2["device_authorization_endpoint"] == f"{platform.url}/{tid}/oauth2/v2.0/devicecode"
    assert v2["jwks_uri"] == f"{platform.url}/{tid}/discovery/v2.0/keys"
    assert v2["id_token_signing_alg_values_supported"] == ["RS256"]
    common = platform.get("/common/v2.0/.well-known/openid-configuration").json()
    assert common["issuer"] == f"{platform.url}/{{tenantid}}/v2.0"
    assert common["token_endpoint"] == f"{platform.url}/common/oauth2/v2.0/token"
    v1 = platform.get(f"/{DOMAIN}/.well-known/openid-configuration").json()
    assert v1["issuer"] == f"{platform.url}/{tid}/"
    assert v1["token_endpoint"] == f"{platform.url}/{tid}/oauth2/token"
    assert v1["jwks_uri"] == f"{platform.url}/common/discovery/keys"

    instance = platform.get(
        "/common/discovery/instance",
        params={
            "api-version": "1.1",
            "authorization_endpoint": f"{platform.url}/{DOMAIN}/oauth2/v2.0/authorize",
        },
    ).json()
    host = urlsplit(platform.url).netloc
    assert instance["tenant_discovery_endpoint"] == (
        f"{platform.url}/{DOMAIN}/v2.0/.well-known/openid-configuration"
    )
    assert instance["metadata"] == [
        {"preferred_network": host, "preferred_cache": host, "aliases": [host]}
    ]
    # MSAL's own reading of it: instance discovery, then the tenant's configuration.
    session = requests.Session()
    session.verify = platform.ca
    authority = msal.authority.Authority(
        platform.authority, session, instance_discovery=f"{platform.url}/common/discovery/instance"
    )
    assert authority.token_endpoint == v2["token_endpoint"]
    assert authority.device_authorization_endpoint == v2["device_authorization_endpoint"]
    foreign = platform.get(
        "/common/discovery/instance",
        params={"authorization_endpoint": "https://evil.example/x/oauth2/v2.0/authorize"},
    )
    assert foreign.status_code == 400 and foreign.json()["error"] == "invalid_instance"

    # Strict: a tenant that is neither this one (domain or id) nor a multi-tenant name is unknown.
    assert platform.get(f"/{tid.upper()}/v2.0/.well-known/openid-configuration").status_code == 200
    unknown = platform.get("/fabrikam.com/v2.0/.well-known/openid-configuration")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_tenant"
    assert unknown.json()["error_codes"] == [90002]
    refused = platform.post(
        "/fabrikam.com/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": APP, "client_secret": SECRET},
    )
    assert refused.status_code == 400 and refused.json()["error_codes"] == [90002]

    v2_keys = platform.get(f"/{tid}/discovery/v2.0/keys").json()["keys"]
    v1_keys = platform.get("/common/discovery/keys").json()["keys"]
    assert v2_keys[0]["issuer"] == v2["issuer"] and "issuer" not in v1_keys[0]
    assert v2_keys[0]["kid"] == v1_keys[0]["kid"] == v1_keys[0]["x5t"]
    assert v2_keys[0]["kty"] == "RSA" and v2_keys[0]["use"] == "sig" and v2_keys[0]["x5c"]


def test_msal_client_credentials(platform: Platform) -> None:
    app = msal.ConfidentialClientApplication(
        APP, client_credential=SECRET, **platform.msal_options()
    )
    result = app.acquire_token_for_client(scopes=[GRAPH_DEFAULT])
    assert result["token_type"] == "Bearer" and "id_token" not in result
    calendars = platform.graph(result["access_token"], f"/users/{ADELE}/calendars")
    assert calendars.status_code == 200
    assert [c["name"] for c in calendars.json()["value"]] == ["Calendar", "Personal"]
    wrong = msal.ConfidentialClientApplication(
        APP, client_credential="not-the-secret", **platform.msal_options()
    ).acquire_token_for_client(scopes=[GRAPH_DEFAULT])
    assert wrong["error"] == "invalid_client" and wrong["error_codes"] == [7000215]


def test_msal_auth_code_with_pkce_then_silent_refresh(platform: Platform) -> None:
    app = msal.ConfidentialClientApplication(
        APP, client_credential=SECRET, **platform.msal_options()
    )
    # The default response mode: the code comes back in the redirect's query (MSAL warns that
    # form_post is safer; the test below takes that path).
    with pytest.warns(UserWarning, match="form_post"):
        flow = app.initiate_auth_code_flow(
            ["Calendars.ReadWrite"], redirect_uri="http://localhost:8400/callback", login_hint=MEGAN
        )
    asked = dict(parse_qsl(urlsplit(flow["auth_uri"]).query))
    assert asked["code_challenge_method"] == "S256" and asked["nonce"]
    assert flow["auth_uri"].startswith(f"{platform.url}/")
    # The browser's part: the local authorize endpoint signs the hinted user in and redirects.
    redirect = httpx2.get(flow["auth_uri"], verify=platform.trust, follow_redirects=False)
    assert redirect.status_code == 302
    landing = redirect.headers["location"]
    assert landing.startswith("http://localhost:8400/callback?")
    result = app.acquire_token_by_auth_code_flow(flow, dict(parse_qsl(urlsplit(landing).query)))
    assert "error" not in result, result
    claims = _verified_claims(platform, result["id_token"])
    tid = platform.sandbox.identity.config.tenant_id
    megan = platform.sandbox.tenant.directory.find_user(MEGAN)
    assert megan is not None
    assert claims["aud"] == APP and claims["iss"] == f"{platform.url}/{tid}/v2.0"
    assert claims["tid"] == tid and claims["oid"] == megan["id"] and claims["ver"] == "2.0"
    assert claims["preferred_username"] == MEGAN and claims["name"] == megan["displayName"]
    assert claims["nbf"] <= claims["iat"] <= time.time() < claims["exp"]
    assert claims["nonce"] == result["id_token_claims"]["nonce"]  # MSAL checked it is its own
    assert claims["sub"] and claims["sub"] != claims["oid"]  # pairwise, as Entra's
    assert result["refresh_token"]

    accounts = app.get_accounts()
    assert [a["username"] for a in accounts] == [MEGAN]
    assert accounts[0]["home_account_id"] == f"{megan['id']}.{tid}"  # from client_info

    platform.sandbox.identity.expire_all()  # the access token has expired at the service too
    assert platform.graph(result["access_token"], "/me/calendars").status_code == 401
    refreshes = platform.sandbox.identity.grants["refresh_token"]
    silent = app.acquire_token_silent(["Calendars.ReadWrite"], account=accounts[0])
    assert silent is not None and silent["token_source"] == "identity_provider"
    assert platform.sandbox.identity.grants["refresh_token"] == refreshes + 1
    assert platform.graph(silent["access_token"], "/me/calendars").status_code == 200
    assert _verified_claims(platform, silent["id_token"])["preferred_username"] == MEGAN

    # The refresh token used is still good (Entra does not revoke a refresh token on use).
    again = platform.post(
        f"/{DOMAIN}/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "client_id": APP,
            "client_secret": SECRET,
            "refresh_token": result["refresh_token"],
            "scope": "Calendars.ReadWrite offline_access",
        },
    )
    assert again.status_code == 200 and again.json()["access_token"]


def test_msal_auth_code_with_form_post(platform: Platform) -> None:
    app = msal.ConfidentialClientApplication(
        APP, client_credential=SECRET, **platform.msal_options()
    )
    flow = app.initiate_auth_code_flow(
        ["Calendars.Read"],
        redirect_uri="http://localhost:8400/callback",
        login_hint=ADELE,
        response_mode="form_post",  # what MSAL recommends: the code stays out of URLs
    )
    # The authorize endpoint answers with a page whose form posts the code to the redirect URI;
    # the test reads that form as the browser would submit it.
    page = httpx2.get(flow["auth_uri"], verify=platform.trust, follow_redirects=False)
    assert page.status_code == 200
    assert 'action="http://localhost:8400/callback"' in page.text
    posted = {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)}
    assert set(posted) == {"code", "state"} and posted["state"] == flow["state"]
    result = app.acquire_token_by_auth_code_flow(flow, posted)
    assert result["id_token_claims"]["preferred_username"] == ADELE, result


def test_msal_device_flow_completed_without_a_browser(platform: Platform) -> None:
    app = msal.PublicClientApplication(PUBLIC, **platform.msal_options())
    flow = app.initiate_device_flow(scopes=["Calendars.Read"])
    assert flow["verification_uri"] == f"{platform.url}/devicelogin"
    page = httpx2.get(flow["verification_uri"], verify=platform.trust)
    assert page.status_code == 200 and 'name="otc"' in page.text
    poll = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "client_id": PUBLIC,
        "device_code": flow["device_code"],
    }
    for _ in range(2):  # strict: nobody signed in yet, however often the device polls
        pending = platform.post(f"/{DOMAIN}/oauth2/v2.0/token", data=poll).json()
        assert pending["error"] == "authorization_pending"
    approved = platform.post(
        "/_sandbox/device-approvals",
        json={"user_code": flow["user_code"].lower(), "user": MEGAN},
    )
    assert approved.status_code == 204
    result = app.acquire_token_by_device_flow(flow)
    assert "error" not in result, result
    assert result["id_token_claims"]["preferred_username"] == MEGAN
    assert [a["username"] for a in app.get_accounts()] == [MEGAN]
    events = platform.graph(result["access_token"], "/me/events")
    assert events.status_code == 200
    twice = platform.post(
        "/_sandbox/device-approvals",
        json={"user_code": flow["user_code"], "user": MEGAN},
    )
    assert twice.status_code == 400 and twice.json()["error_codes"] == [70000]


def test_the_device_login_page_signs_a_person_in(platform: Platform) -> None:
    app = msal.PublicClientApplication(PUBLIC, **platform.msal_options())
    flow = app.initiate_device_flow(scopes=["Calendars.Read"])
    stranger = platform.post(
        "/common/oauth2/deviceauth",
        data={"otc": flow["user_code"], "login": "nobody@contoso.onmicrosoft.com"},
    )
    assert stranger.status_code == 400 and "does not exist" in stranger.text
    signed = platform.post(
        "/common/oauth2/deviceauth",
        data={"otc": flow["user_code"], "login": ADELE},
    )
    assert signed.status_code == 200 and "You have signed in as" in signed.text
    result = app.acquire_token_by_device_flow(flow)
    assert result["id_token_claims"]["preferred_username"] == ADELE


def test_azure_identity_client_secret_credential(platform: Platform) -> None:
    credential = ClientSecretCredential(
        DOMAIN,
        APP,
        SECRET,
        authority=platform.url,
        disable_instance_discovery=True,
        connection_verify=platform.ca,
    )
    token = credential.get_token(GRAPH_DEFAULT)
    assert token.expires_on > time.time()
    assert platform.graph(token.token, f"/users/{ADELE}/events").status_code == 200


def test_msgraph_sdk_with_an_azure_identity_credential(platform: Platform) -> None:
    from msgraph import GraphServiceClient  # noqa: PLC0415 - a large import, this test only

    credential = ClientSecretCredential(
        DOMAIN,
        APP,
        SECRET,
        authority=platform.url,
        disable_instance_discovery=True,
        connection_verify=platform.ca,
    )
    client = GraphServiceClient(credentials=credential, scopes=[GRAPH_DEFAULT])
    client.request_adapter.base_url = f"{platform.url}/v1.0"

    async def names() -> list[str]:
        calendars = await client.users.by_user_id(ADELE).calendars.get()
        assert calendars is not None and calendars.value is not None
        return [str(c.name) for c in calendars.value]

    assert asyncio.run(names()) == ["Calendar", "Personal"]


def test_mscal_sandbox_tls_serves_https_and_prints_the_ca_to_trust(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    command = [str(Path(sys.executable).with_name("mscal")), "sandbox", "--tls", "--db", ":memory:"]
    server = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert server.stdout is not None
        printed = [server.stdout.readline()]
        while printed[-1] and not printed[-1].startswith("Database:") and len(printed) < 30:
            printed.append(server.stdout.readline())
        ca = next(line.split(": ", 1)[1].strip() for line in printed if line.startswith("CA "))
        assert Path(ca) == tmp_path / "mscal" / "tls" / "ca.pem"
        assert stat.S_IMODE(Path(ca).stat().st_mode) == 0o600
        assert f"Local Microsoft Graph service: https://127.0.0.1:{port}/v1.0\n" in printed
        assert f"REQUESTS_CA_BUNDLE={ca}" in "".join(printed)
        trust = ssl.create_default_context(cafile=ca)
        deadline = time.monotonic() + 20
        while True:
            try:
                answer = httpx2.get(
                    f"https://localhost:{port}/common/v2.0/.well-known/openid-configuration",
                    verify=trust,
                )
                break
            except httpx2.ConnectError:
                assert time.monotonic() < deadline, "mscal sandbox --tls did not start"
                time.sleep(0.1)
        assert answer.json()["token_endpoint"] == (
            f"https://localhost:{port}/common/oauth2/v2.0/token"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_python_o365_signs_in_and_lists_calendars_and_events(platform: Platform) -> None:
    from O365 import Account  # noqa: PLC0415 - imported by this test only
    from O365.connection import Connection, MSGraphProtocol  # noqa: PLC0415
    from O365.utils.token import MemoryTokenBackend  # noqa: PLC0415

    options = platform.msal_options()

    class LocalConnection(Connection):  # type: ignore[misc]
        """python-o365 has no authority setting: it builds its MSAL client for
        login.microsoftonline.com in `msal_client`, so that (public) property is overridden."""

        @functools.cached_property
        def msal_client(self) -> msal.ConfidentialClientApplication:
            client_id, secret = self.auth
            return msal.ConfidentialClientApplication(
                client_id, client_credential=secret, token_cache=self.token_backend, **options
            )

    class LocalAccount(Account):  # type: ignore[misc]
        connection_constructor = LocalConnection

    protocol = MSGraphProtocol()
    protocol.service_url = f"{platform.url}/v1.0/"  # the protocol's base URL
    account = LocalAccount(
        (APP, SECRET),
        auth_flow_type="credentials",
        tenant_id=DOMAIN,
        protocol=protocol,
        token_backend=MemoryTokenBackend(),
        verify_ssl=platform.ca,  # requests takes a CA bundle path as `verify`
    )
    assert account.authenticate() is True
    assert account.is_authenticated
    schedule = account.schedule(resource=ADELE)
    calendars = schedule.list_calendars()
    assert [c.name for c in calendars] == ["Calendar", "Personal"]
    # The calendar's id goes into the URL as python-o365 writes it (Graph's URL-safe ids).
    events = list(calendars[0].get_events(limit=50, include_recurring=False))
    assert events and all(e.subject and e.start for e in events)
    graph = platform.sandbox.identity.issue_for(ADELE)
    listed = platform.graph(graph, "/me/events?$top=50").json()["value"]
    assert {e.subject for e in events} == {e["subject"] for e in listed}
    again = calendars[0].get_event(events[0].object_id)
    assert again is not None and again.subject == events[0].subject


def _sign_in(platform: Platform, **extra: str) -> str:
    """An authorization code for Megan, answered in the query (the default response mode)."""
    redirect = platform.get(
        f"/{DOMAIN}/oauth2/v2.0/authorize",
        params={
            "client_id": APP,
            "response_type": "code",
            "redirect_uri": "http://localhost:8400/callback",
            "login_hint": MEGAN,
            **extra,
        },
        follow_redirects=False,
    )
    assert redirect.status_code == 302, redirect.text
    return dict(parse_qsl(urlsplit(redirect.headers["location"]).query))["code"]


def _redeem(platform: Platform, path: str, code: str, **extra: str) -> dict[str, Any]:
    answer = platform.post(
        path,
        data={
            "grant_type": "authorization_code",
            "client_id": APP,
            "client_secret": SECRET,
            "code": code,
            "redirect_uri": "http://localhost:8400/callback",
            **extra,
        },
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_id_token_and_client_info_only_when_asked(platform: Platform) -> None:
    v2 = f"/{DOMAIN}/oauth2/v2.0/token"
    plain = _redeem(platform, v2, _sign_in(platform, scope="Calendars.Read"))
    assert "id_token" not in plain and "client_info" not in plain
    tid = platform.sandbox.identity.config.tenant_id
    megan = platform.sandbox.tenant.directory.find_user(MEGAN)
    assert megan is not None
    both = _redeem(
        platform,
        v2,
        _sign_in(platform, scope="openid Calendars.Read"),
        scope="openid Calendars.Read",
        client_info="1",
    )
    info = json.loads(base64.urlsafe_b64decode(both["client_info"] + "=="))
    assert info == {"uid": megan["id"], "utid": tid}
    assert "nonce" not in _verified_claims(platform, both["id_token"])  # none was asked

    v1 = _redeem(platform, f"/{DOMAIN}/oauth2/token", _sign_in(platform))  # always, at v1.0
    claims = _verified_claims(platform, v1["id_token"])
    assert claims["ver"] == "1.0" and claims["iss"] == f"{platform.url}/{tid}/"
    assert claims["upn"] == claims["unique_name"] == MEGAN and claims["aud"] == APP
    assert v1["resource"] == "https://graph.microsoft.com"

    who = platform.get("/oidc/userinfo", headers={"Authorization": f"Bearer {v1['access_token']}"})
    assert who.json() == {"sub": claims["sub"], "name": megan["displayName"], "email": MEGAN}
    nobody = platform.get("/oidc/userinfo")
    assert nobody.status_code == 401
    assert nobody.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_fragment_answers_and_refused_response_modes(platform: Platform) -> None:
    params = {
        "client_id": APP,
        "response_type": "code",
        "redirect_uri": "http://localhost:8400/callback",
        "state": "s1",
    }
    fragment = platform.get(
        f"/{DOMAIN}/oauth2/v2.0/authorize",
        params={**params, "response_mode": "fragment"},
        follow_redirects=False,
    )
    location = urlsplit(fragment.headers["location"])
    assert location.query == "" and dict(parse_qsl(location.fragment))["state"] == "s1"
    refused = platform.get(
        f"/{DOMAIN}/oauth2/v2.0/authorize", params={**params, "response_mode": "telepathy"}
    )
    assert refused.status_code == 400 and "form_post" in refused.json()["error_description"]


def test_discovery_refuses_what_is_not_an_authorize_endpoint_here(platform: Platform) -> None:
    for endpoint in ("https://[::1/x/oauth2/v2.0/authorize", "not a url", ""):
        answer = platform.get(
            "/common/discovery/instance", params={"authorization_endpoint": endpoint}
        )
        assert answer.status_code == 400
        assert answer.json()["error"] in {"invalid_instance", "invalid_request"}


def test_the_device_page_escapes_what_it_echoes(platform: Platform) -> None:
    page = platform.post(
        "/common/oauth2/deviceauth", data={"otc": '"><script>x()</script>', "login": ADELE}
    )
    assert page.status_code == 400
    assert "<script>x()" not in page.text and "&quot;&gt;&lt;script&gt;" in page.text


def test_the_signing_key_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    first = create_sandbox(db).identity.signing_key.jwks()
    second = create_sandbox(db).identity.signing_key.jwks()
    assert first == second and first["keys"][0]["kid"]


def test_tls_files_are_reused_while_good_and_remade_for_a_new_host(tmp_path: Path) -> None:
    files = ensure_tls_files(tmp_path / "tls")
    ca = files.ca.read_bytes()
    assert ensure_tls_files(tmp_path / "tls").ca.read_bytes() == ca  # a trusted CA stays
    remade = ensure_tls_files(tmp_path / "tls", ("127.0.0.1", "localhost", "calendar.test"))
    assert remade.ca.read_bytes() != ca
    cert = x509.load_pem_x509_certificate(remade.cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "calendar.test"]
