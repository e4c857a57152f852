"""A newcomer's named authentications (issue 15), against the local service on a real loopback
socket: one step to save and sign in against it, refusals before saving, `--replace` that keeps
what is not given, advice that names the authentication, and sign-in that says what it awaits."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

import mscal
from mscal.auth.login import sign_in_with_browser
from mscal.auth.store import AuthStore
from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox, create_sandbox
from tests.conftest import CliResult

SECRET = "canary-newcomer-secret-81d2"
RIGHT = "canary-right-secret-2b7e"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("MSCAL_SHARED_AUTHENTICATIONS", raising=False)
    return tmp_path / "config" / "mscal" / "authentications"


@pytest.fixture(scope="module")
def local() -> Iterator[str]:
    with BackgroundServer(create_sandbox(":memory:", seed=True).app) as url:
        yield url


@pytest.fixture(scope="module")
def strict() -> Iterator[tuple[Sandbox, str]]:
    sandbox = create_sandbox(":memory:", seed=True, strict=True, clients={"app": RIGHT})
    with BackgroundServer(sandbox.app) as url:
        yield sandbox, url


def _saved(config: Path) -> list[str]:
    return sorted(p.stem for p in config.glob("*.json")) if config.exists() else []


def test_one_step_against_a_running_local_service(
    config: Path, local: str, cli: Callable[..., CliResult]
) -> None:
    added = cli("auth", "add", "Local", "--sandbox", local)
    assert added.code == 0, added.err
    assert "Signed in to the local service. Try: mscal run list_calendars --auth Local" in added.out
    values = AuthStore().load("Local").values
    assert (values["authority_host"], values["base_url"]) == (local, f"{local}/v1.0")
    listed = cli("run", "list_calendars", "--auth", "Local")
    assert listed.code == 0, listed.err
    assert listed.json()["value"][0]["name"] == "Calendar"
    tested = cli("auth", "test", "Local")
    assert "signed in as adele@contoso.onmicrosoft.com, a person (delegated)" in tested.out
    other = cli("auth", "add", "Alex", "--sandbox", local, "--user", "alex@contoso.onmicrosoft.com")
    assert other.code == 0, other.err
    assert "alex@contoso.onmicrosoft.com" in cli("auth", "test", "Alex").out


def test_one_step_refuses_when_no_local_service_answers(
    config: Path, cli: Callable[..., CliResult]
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = cli("auth", "add", "Local", "--sandbox", f"http://127.0.0.1:{port}")
    assert result.code == 1
    assert f"no local Graph service answers at http://127.0.0.1:{port}" in result.err
    assert "mscal sandbox --seed" in result.err
    assert _saved(config) == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (["tenant_id=contoso.com"], "client_id: is required (Client ID): mscal auth add Bad --set"),
        (
            ["client_id=a", "tenant_id=contoso.com", "grant_type=client_credentials"],
            "scopes: client_credentials uses the permissions granted to the app",
        ),
        (["client_id=a", "offline_access=yes"], "offline_access: must be true or false, got 'yes'"),
        (["client_id=a", "tenent_id=contoso.com"], "did you mean tenant_id"),
    ],
)
def test_refused_before_saving(
    config: Path,
    cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
    fields: list[str],
    expected: str,
) -> None:
    monkeypatch.setenv("APP_SECRET", SECRET)
    argv = [arg for f in fields for arg in ("--set", f)]
    result = cli("auth", "add", "Bad", *argv, "--secret-env", "APP_SECRET")
    assert result.code == 2
    assert result.err.startswith("mscal: error: ") and expected in result.err
    assert SECRET not in result.err
    assert _saved(config) == []


def test_login_without_a_client_id_says_what_to_do(
    config: Path, cli: Callable[..., CliResult]
) -> None:
    # A file saved by an older version, without the client id the form requires.
    config.mkdir(parents=True)
    (config / "Old.json").write_text(json.dumps({"values": {"tenant_id": "common"}}))
    result = cli("auth", "login", "Old", "--no-browser")
    assert result.code == 2
    assert "client_id: is missing from authentication 'Old': mscal auth add Old --replace" in (
        result.err
    )


def test_following_the_advice_keeps_the_other_fields(
    config: Path,
    strict: tuple[Sandbox, str],
    cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, url = strict
    monkeypatch.setenv("WRONG", SECRET)
    fields = {
        "client_id": "app",
        "tenant_id": "contoso.onmicrosoft.com",
        "grant_type": "client_credentials",
        "scopes": "https://graph.microsoft.com/.default",
        "authority_host": url,
        "base_url": f"{url}/v1.0",
    }
    argv = [arg for k, v in fields.items() for arg in ("--set", f"{k}={v}")]
    assert cli("auth", "add", "Prod App", *argv, "--secret-env", "WRONG").code == 0
    failed = cli("auth", "test", "Prod App")
    assert failed.code == 1
    # The advice names this authentication, not a placeholder.
    assert "save it with mscal auth add Prod App --replace --secret-stdin" in failed.err
    assert SECRET not in failed.err
    before = AuthStore().load("Prod App").values
    monkeypatch.setattr("sys.stdin", io.StringIO(RIGHT + "\n"))
    replaced = cli("auth", "add", "Prod App", "--replace", "--secret-stdin")
    assert replaced.code == 0, replaced.err
    assert "Changed: client_secret; kept: " in replaced.out and "authority_host" in replaced.out
    record = AuthStore().load("Prod App")
    assert record.values == before and record.secrets == {"client_secret": RIGHT}
    assert "works: signed in as " in cli("auth", "test", "Prod App").out


def test_secret_stdin_on_a_terminal_prompts_without_echo(
    config: Path, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("typed-not-read\n"))
    monkeypatch.setattr(
        "mscal.cli.auth_add.getpass.getpass", lambda prompt: prompts.append(prompt) or SECRET
    )
    assert cli("auth", "add", "T", "--set", "client_id=a", "--secret-stdin").code == 0
    assert prompts == ["Client secret (the Value, not shown as you type): "]
    assert AuthStore().load("T").secrets == {"client_secret": SECRET}


def test_browser_sign_in_says_what_it_waits_for(local: str) -> None:
    connector = mscal.load_connector()
    form = {"client_id": "person-app", "authority_host": local, "base_url": f"{local}/v1.0"}
    shown: list[str] = []
    with pytest.raises(mscal.AuthError) as refused:
        sign_in_with_browser(
            connector.spec,
            connector.authentication(form),
            show=shown.append,
            open_browser=False,
            timeout=0.3,
        )
    assert shown[0].startswith("Open this page to sign in: ")
    assert shown[1].startswith(
        "Waiting up to 0 s for the sign-in to come back to http://127.0.0.1:"
    )
    assert "open the page in a browser on this machine" in shown[1]
    assert "mscal auth login NAME --device-code" in shown[1]
    assert "no sign-in came back within 0 s" in str(refused.value)
    assert "--device-code" in str(refused.value)


def test_sandbox_banner_says_how_to_sign_in_and_logs_each_request(tmp_path: Path) -> None:
    """The real command in a process of its own: the banner's commands, one line per request
    (never the query), and a busy port refused before any banner."""
    command = [sys.executable, "-m", "mscal.cli", "sandbox", "--db", ":memory:", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stderr is not None
        banner: list[str] = []
        while not banner or not banner[-1].startswith("Requests are logged"):
            banner.append(process.stdout.readline())
            assert banner[-1], "the banner ended early"
        url = banner[0].split(": ", 1)[1].strip().removesuffix("/v1.0")
        assert f"  mscal auth add Local --sandbox {url}\n" in banner
        assert "  mscal run list_calendars --auth Local\n" in banner
        port = int(url.rsplit(":", 1)[1])
        httpx2.get(f"{url}/v1.0/me/calendars?$filter=canary-query", timeout=10)
        line = process.stderr.readline()
        assert re.fullmatch(r"127\.0\.0\.1 GET /v1\.0/me/calendars 401 \d+ ms\n", line), line
        busy = subprocess.run(
            [*command[:-1], str(port)], check=False, capture_output=True, text=True, timeout=60
        )
        assert busy.returncode == 2 and busy.stdout == ""
        assert f"cannot listen on 127.0.0.1 port {port}" in busy.stderr
        assert "Traceback" not in busy.stderr
    finally:
        process.terminate()
        process.wait(timeout=10)
