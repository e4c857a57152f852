"""Named authentications: stored safely, managed from the CLI, used by `mscal run --auth`."""

from __future__ import annotations

import base64
import datetime
import io
import json
import logging
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pytest_httpx2 import HTTPXMock

import mscal
from mscal.auth.certificate import certificate_parts
from mscal.auth.login import sign_in_with_browser
from mscal.auth.signin import sign_in_without_browser
from mscal.auth.store import AuthStore, StoredAuthentication
from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox, create_sandbox
from tests.conftest import CliResult

SECRET = "canary-stored-secret-5e4d3c"
ADELE = "adele@contoso.onmicrosoft.com"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("MSCAL_SHARED_AUTHENTICATIONS", raising=False)
    return tmp_path / "config" / "mscal" / "authentications"


@pytest.fixture(scope="module")
def local() -> Iterator[tuple[Sandbox, str]]:
    sandbox = create_sandbox(seed=True)
    with BackgroundServer(sandbox.app) as url:
        yield sandbox, url


def test_files_are_private_and_written_atomically(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = AuthStore()
    path = store.save(
        StoredAuthentication("Sandbox", {"client_id": "a"}, {"client_secret": SECRET})
    )
    assert path.parent == config
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.stat().st_mode) == 0o700
    before = path.read_text()

    def crash(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("mscal.auth.store.os.replace", crash)
    with pytest.raises(OSError):
        store.save(StoredAuthentication("Sandbox", {"client_id": "b"}))
    assert path.read_text() == before  # the old file is whole
    assert [p.name for p in config.iterdir() if p.suffix == ".tmp"] == []


def test_rotated_tokens_replace_the_old_ones(config: Path) -> None:
    store = AuthStore()
    store.save(
        StoredAuthentication(
            "Prod", {"client_id": "a"}, tokens={"refresh_token": "old", "scope": "s"}
        )
    )
    store.update_tokens(
        "Prod", {"access_token": "a2", "refresh_token": "new", "expires_at": 123.0, "extra": 1}
    )
    assert store.load("Prod").tokens == {
        "refresh_token": "new",
        "scope": "s",
        "access_token": "a2",
        "expires_at": 123.0,
    }
    assert SECRET not in repr(store.load("Prod"))


def test_shared_directory_from_the_environment(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MSCAL_SHARED_AUTHENTICATIONS", str(tmp_path / "team"))
    store = AuthStore()
    store.save(StoredAuthentication("Team", {"client_id": "a"}, shared=True))
    store.save(StoredAuthentication("Mine", {"client_id": "b"}))
    assert store.names() == [("Mine", "personal"), ("Team", "shared")]
    assert store.load("Team").shared is True
    assert (tmp_path / "team" / "Team.json").is_file()


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden", "x" * 65])
def test_names_cannot_escape_the_directory(config: Path, name: str) -> None:
    with pytest.raises(Exception, match="letters, digits"):
        AuthStore().save(StoredAuthentication(name, {}))


def _app_args(url: str) -> list[str]:
    return [
        "--set",
        "client_id=app-1",
        "--set",
        "tenant_id=contoso.onmicrosoft.com",
        "--set",
        "grant_type=client_credentials",
        "--set",
        "scopes=https://graph.microsoft.com/.default",
        "--set",
        f"authority_host={url}",
        "--set",
        f"base_url={url}/v1.0",
    ]


def test_cli_add_list_show_test_run_remove(
    config: Path,
    local: tuple[Sandbox, str],
    cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, url = local
    monkeypatch.setenv("APP_SECRET", SECRET)
    added = cli("auth", "add", "Sandbox", *_app_args(url), "--secret-env", "APP_SECRET")
    assert added.code == 0 and "Saved authentication 'Sandbox'" in added.out
    listed = cli("auth", "list")
    assert listed.out.split()[:4] == [
        "Sandbox",
        "personal",
        "client_credentials",
        "contoso.onmicrosoft.com",
    ]
    shown = cli("auth", "show", "Sandbox").json()
    assert (
        shown["secrets"] == {"client_secret": "********"}
        and shown["values"]["client_id"] == "app-1"
    )
    tested = cli("auth", "test", "Sandbox")
    assert tested.code == 0, tested.err
    assert "signed in as Contoso (local), the app (client credentials)" in tested.out
    ran = cli("run", "list_calendars", "--auth", "Sandbox", "--set", f"user_id={ADELE}")
    assert ran.code == 0 and next(c["name"] for c in ran.json()["value"]) == "Calendar"
    everything = (
        added.out + listed.out + json.dumps(shown) + tested.out + ran.out + ran.err + tested.err
    )
    assert SECRET not in everything
    assert cli("auth", "remove", "Sandbox").code == 0
    assert cli("auth", "show", "Sandbox").code == 2


def test_cli_secret_from_stdin_and_never_from_an_argument(
    config: Path, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = cli("auth", "add", "X", "--set", "client_id=a", "--set", f"client_secret={SECRET}")
    assert (
        refused.code == 2
        and "client_secret: is a secret" in refused.err
        and SECRET not in refused.err
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    assert cli("auth", "add", "X", "--set", "client_id=a", "--secret-stdin").code == 0
    assert AuthStore().load("X").secrets == {"client_secret": SECRET}
    assert (
        cli("auth", "add", "X", "--set", "client_id=b").code == 2
    )  # exists; --replace to overwrite
    assert cli("auth", "add", "X", "--set", "client_id=b", "--replace").code == 0


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        (["tenant_id=not a tenant"], "tenant_id", "Directory (tenant) ID"),
        (
            ["grant_type=client_credentials", "tenant_id=common"],
            "tenant_id",
            "needs your own tenant",
        ),
        (
            [
                "grant_type=client_credentials",
                "tenant_id=contoso.com",
                "scopes=https://graph.microsoft.com/Calendars.Read",
            ],
            "scopes",
            "set scopes to",
        ),
        (
            [
                "scopes=https://graph.microsoft.com/.default,https://graph.microsoft.com/Calendars.Read"
            ],
            "scopes",
            "cannot be mixed",
        ),
        (["nonsense=1"], "nonsense", "not a field"),
        (["grant_type=client_credentials", "tenant_id=contoso.com"], "client_secret", None),
    ],
)
def test_cli_add_explains_tenant_and_scope_rules(
    config: Path,
    cli: Callable[..., CliResult],
    fields: list[str],
    field: str,
    words: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_SECRET", SECRET)
    argv = [arg for f in ["client_id=a", *fields] for arg in ("--set", f)]
    if words is None:  # the app-only case: the secret is what is missing, so give none
        result = cli("auth", "add", "Bad", *argv)
        words = "needs a client secret"
    else:
        result = cli("auth", "add", "Bad", *argv, "--secret-env", "APP_SECRET")
    assert result.code == 2
    assert result.err.startswith(f"mscal: error: {field}: ") and words in result.err
    assert SECRET not in result.err
    assert not config.exists() or list(config.glob("*.json")) == []


def test_run_with_a_signed_in_authentication_saves_the_rotated_refresh_token(
    config: Path, local: tuple[Sandbox, str], cli: Callable[..., CliResult]
) -> None:
    _, url = local
    form = {
        "client_id": "person-app",
        "tenant_id": "contoso.onmicrosoft.com",
        "authority_host": url,
        "base_url": f"{url}/v1.0",
    }
    signed_in = sign_in_without_browser(mscal.load_connector().spec, form, ADELE)
    assert signed_in.refresh_token is not None
    first_refresh = signed_in.refresh_token.reveal()
    store = AuthStore()
    store.save(
        StoredAuthentication(
            "Me",
            dict(signed_in.values),
            tokens={"refresh_token": first_refresh, "access_token": "expired", "expires_at": 0},
        )
    )
    ran = cli("run", "get_calendar", "--auth", "Me")
    assert ran.code == 0, ran.err
    saved = store.load("Me").tokens
    assert saved["refresh_token"] != first_refresh and saved["access_token"] != "expired"
    assert "Calendars.ReadWrite" in saved["scope"]
    tested = cli("auth", "test", "Me")
    assert f"signed in as {ADELE}, a person (delegated)" in tested.out


def test_two_processes_sharing_a_store_refresh_once(
    config: Path, local: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sandbox, url = local
    form = {
        "client_id": "shared-app",
        "tenant_id": "contoso.onmicrosoft.com",
        "authority_host": url,
        "base_url": f"{url}/v1.0",
    }
    signed_in = sign_in_without_browser(mscal.load_connector().spec, form, ADELE)
    assert signed_in.refresh_token is not None
    AuthStore().save(
        StoredAuthentication(
            "Both",
            dict(signed_in.values),
            tokens={
                "refresh_token": signed_in.refresh_token.reveal(),
                "access_token": "expired",
                "expires_at": 0,
            },
        )
    )
    refreshes_before = len(sandbox.store.find("refresh"))
    command = [sys.executable, "-m", "mscal.cli.main", "run", "get_calendar", "--auth", "Both"]
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    processes = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], results
    assert len(sandbox.store.find("refresh")) - refreshes_before == 1  # one rotation, not two


def _person_form(url: str) -> dict[str, object]:
    return {
        "client_id": "person-app",
        "tenant_id": "contoso.onmicrosoft.com",
        "authority_host": url,
        "base_url": f"{url}/v1.0",
    }


def test_browser_sign_in_through_the_loopback_listener(local: tuple[Sandbox, str]) -> None:
    _, url = local
    connector = mscal.load_connector()
    authentication = connector.authentication(_person_form(url))
    shown: list[str] = []
    result: dict[str, object] = {}

    def sign_in() -> None:
        result.update(
            sign_in_with_browser(
                connector.spec, authentication, show=shown.append, open_browser=False, timeout=20
            )
        )

    thread = threading.Thread(target=sign_in)
    thread.start()
    deadline = time.monotonic() + 10
    while not shown and time.monotonic() < deadline:
        time.sleep(0.01)
    page = shown[0].removeprefix("Open this page to sign in: ")
    assert "code_challenge_method=S256" in page and "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in page
    redirect = httpx2.get(
        page, follow_redirects=False
    )  # the local platform signs in without a page
    assert redirect.status_code == 302
    landing = httpx2.get(redirect.headers["location"])  # the browser arrives at the listener
    assert "You are signed in" in landing.text
    thread.join(timeout=10)
    assert result["access_token"] and result["refresh_token"]
    assert "Calendars.ReadWrite" in str(result["scope"])


def test_device_code_sign_in_from_the_cli(
    config: Path,
    local: tuple[Sandbox, str],
    cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, url = local
    monkeypatch.setenv("APP_SECRET", SECRET)
    argv = [arg for key, value in _person_form(url).items() for arg in ("--set", f"{key}={value}")]
    assert cli("auth", "add", "Device", *argv).code == 0
    assert cli("run", "get_calendar", "--auth", "Device").code == 1  # not signed in yet
    signed = cli("auth", "login", "Device", "--device-code")
    assert signed.code == 0, signed.err
    assert "enter the code" in signed.err and "Signed in" in signed.out
    tested = cli("auth", "test", "Device")
    assert "signed in as adele@contoso.onmicrosoft.com, a person (delegated)" in tested.out
    app = cli(
        "auth",
        "add",
        "App",
        "--set",
        "client_id=a",
        "--set",
        "tenant_id=contoso.com",
        "--set",
        "grant_type=client_credentials",
        "--set",
        "scopes=https://graph.microsoft.com/.default",
        "--secret-env",
        "APP_SECRET",
    )
    assert app.code == 0
    assert cli("auth", "login", "App").code == 2  # app-only needs no sign-in


def test_no_secret_or_token_in_debug_logs(
    config: Path,
    local: tuple[Sandbox, str],
    caplog: pytest.LogCaptureFixture,
    cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, url = local
    caplog.set_level(logging.DEBUG)  # every logger, httpx2, httpcore2 and authlib included
    for name in ("httpx2", "httpcore2", "authlib", "mscal", "uvicorn"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    monkeypatch.setenv("APP_SECRET", SECRET)
    assert cli("auth", "add", "Logged", *_app_args(url), "--secret-env", "APP_SECRET").code == 0
    ran = cli("run", "list_calendars", "--auth", "Logged", "--set", f"user_id={ADELE}")
    assert ran.code == 0
    signed_in = sign_in_without_browser(mscal.load_connector().spec, _person_form(url), ADELE)
    refresh = signed_in.refresh_token.reveal() if signed_in.refresh_token else ""
    AuthStore().save(
        StoredAuthentication(
            "LoggedMe",
            dict(signed_in.values),
            tokens={"refresh_token": refresh, "access_token": "expired", "expires_at": 0},
        )
    )
    assert cli("run", "get_calendar", "--auth", "LoggedMe").code == 0
    tokens = AuthStore().load("LoggedMe").tokens
    assert caplog.records, "DEBUG logging should have captured something"
    for canary in (SECRET, refresh, tokens["refresh_token"], tokens["access_token"]):
        assert canary not in caplog.text


def _certificate_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mscal test app")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode() + private.decode()


def test_client_credentials_with_a_certificate(
    config: Path,
    local: tuple[Sandbox, str],
    cli: Callable[..., CliResult],
    tmp_path: Path,
    httpx2_mock: HTTPXMock,
) -> None:
    pem = _certificate_pem()
    (tmp_path / "app.pem").write_text(pem)

    def cert_args(authority: str, base: str) -> list[str]:
        fields = [
            "client_id=app-1",
            "tenant_id=contoso.onmicrosoft.com",
            "grant_type=client_credentials",
            "scopes=https://graph.microsoft.com/.default",
            f"authority_host={authority}",
            f"base_url={base}",
        ]
        return [
            *(a for f in fields for a in ("--set", f)),
            "--certificate-file",
            str(tmp_path / "app.pem"),
        ]

    assert (
        cli(
            "auth",
            "add",
            "Cert",
            *cert_args("https://login.example.test", "https://graph.microsoft.com/v1.0"),
        ).code
        == 0
    )
    shown = cli("auth", "show", "Cert").json()
    assert shown["secrets"] == {"client_certificate": "********"}
    assert "PRIVATE KEY" not in json.dumps(shown)

    token_url = "https://login.example.test/contoso.onmicrosoft.com/oauth2/v2.0/token"
    httpx2_mock.add_response(
        url=token_url,
        json={"access_token": "cert-token", "token_type": "Bearer", "expires_in": 3600},
    )
    httpx2_mock.add_response(
        url="https://graph.microsoft.com/v1.0/users/u1/calendar", json={"id": "c"}
    )
    assert cli("run", "get_calendar", "--auth", "Cert", "--set", "user_id=u1").code == 0
    form = dict(parse_qsl(httpx2_mock.get_requests()[0].content.decode()))
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "client_secret" not in form
    header, claims = (
        json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
        for p in form["client_assertion"].split(".")[:2]
    )
    assert (header["alg"], header["x5t"]) == ("RS256", certificate_parts(pem)[1])
    assert (claims["iss"], claims["sub"], claims["aud"]) == ("app-1", "app-1", token_url)
    assert form["client_id"] == "app-1"  # required by the Microsoft identity platform


def test_client_credentials_with_a_certificate_end_to_end(
    config: Path, local: tuple[Sandbox, str], cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    _, url = local
    (tmp_path / "app.pem").write_text(_certificate_pem())
    fields = [
        "client_id=app-1",
        "tenant_id=contoso.onmicrosoft.com",
        "grant_type=client_credentials",
        "scopes=https://graph.microsoft.com/.default",
        f"authority_host={url}",
        f"base_url={url}/v1.0",
    ]
    argv = [
        *(a for f in fields for a in ("--set", f)),
        "--certificate-file",
        str(tmp_path / "app.pem"),
    ]
    assert cli("auth", "add", "CertLocal", *argv).code == 0
    # The local identity platform checks the assertion's claims and its x5t header.
    ran = cli("run", "list_calendars", "--auth", "CertLocal", "--set", f"user_id={ADELE}")
    assert ran.code == 0, ran.err
    assert "PRIVATE KEY" not in ran.out + ran.err


@pytest.mark.parametrize("grant", ["client_credentials", "refresh_token"])
def test_v1_token_endpoint_end_to_end(
    config: Path, local: tuple[Sandbox, str], cli: Callable[..., CliResult], grant: str
) -> None:
    _, url = local
    if grant == "client_credentials":
        argv = [*_app_args(url), "--set", "api_version=v1.0"]
        assert cli("auth", "add", "V1", *argv).code == 2  # the app-only grant needs a credential
        os.environ["V1_SECRET"] = SECRET
        try:
            assert cli("auth", "add", "V1", *argv, "--secret-env", "V1_SECRET").code == 0
        finally:
            del os.environ["V1_SECRET"]
        ran = cli("run", "get_calendar", "--auth", "V1", "--set", f"user_id={ADELE}")
    else:
        signed_in = sign_in_without_browser(mscal.load_connector().spec, _person_form(url), ADELE)
        values = {**signed_in.values, "api_version": "v1.0"}
        assert signed_in.refresh_token is not None
        AuthStore().save(
            StoredAuthentication(
                "V1",
                values,
                tokens={
                    "refresh_token": signed_in.refresh_token.reveal(),
                    "access_token": "expired",
                    "expires_at": 0,
                },
            )
        )
        ran = cli("run", "get_calendar", "--auth", "V1")
    assert ran.code == 0, ran.err
    assert ran.json()["isDefaultCalendar"] is True
