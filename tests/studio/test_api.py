"""The studio's API over a real loopback socket: who may call it, what it answers, what it sends
to the local Graph service, and what it never gives back (secrets)."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from mscal.auth.signin import sign_in_without_browser
from mscal.auth.store import AuthStore, StoredAuthentication
from mscal.cli.auth import stored_connection
from mscal.sandbox.server import BackgroundServer
from mscal.spec.load import default_spec_root
from mscal.studio.access import SECURITY_HEADERS, TOKEN_HEADER
from mscal.studio.app import STATIC, Studio

ADELE = "adele@contoso.onmicrosoft.com"


@pytest.fixture(scope="module")
def signed_in(studio: tuple[Studio, str], store: AuthStore, service: str) -> str:
    """An authentication saved in the studio's store, signed in as Adele."""
    app, _ = studio
    form = {
        "client_id": "studio-api-tests",
        "tenant_id": "contoso.onmicrosoft.com",
        "authority_host": service,
        "base_url": f"{service}/v1.0",
    }
    auth = sign_in_without_browser(app.spec.connector().spec, form, ADELE)
    assert auth.access_token is not None and auth.refresh_token is not None
    store.save(
        StoredAuthentication(
            "Adele",
            dict(auth.values),
            {},
            {
                "access_token": auth.access_token.reveal(),
                "refresh_token": auth.refresh_token.reveal(),
                "expires_at": auth.expires_at,
            },
        )
    )
    return "Adele"


@pytest.fixture(scope="module")
def client(studio: tuple[Studio, str]) -> Iterator[httpx2.Client]:
    app, _ = studio
    headers = {TOKEN_HEADER: app.token, "Origin": app.origin}
    with httpx2.Client(base_url=app.origin, headers=headers, timeout=30) as http:
        yield http


def test_the_printed_url_carries_the_token_and_binds_loopback(studio: tuple[Studio, str]) -> None:
    app, url = studio
    assert url == f"{app.origin}/?token={app.token}"
    assert app.origin.startswith("http://127.0.0.1:")
    assert len(app.token) >= 32


def test_every_api_call_needs_the_token(studio: tuple[Studio, str]) -> None:
    app, _ = studio
    for token in (None, "wrong", app.token[:-1]):
        headers = {TOKEN_HEADER: token} if token else {}
        answer = httpx2.get(f"{app.origin}/api/authentications", headers=headers)
        assert answer.status_code == 401
        assert "token" in answer.json()["error"]["message"]
    answer = httpx2.get(f"{app.origin}/api/overview", headers={TOKEN_HEADER: app.token})
    assert answer.status_code == 200


def test_state_changing_calls_need_the_studios_origin(studio: tuple[Studio, str]) -> None:
    app, _ = studio
    body = {"name": "Evil", "client_id": "x", "tenant_id": "common"}
    for origin in (None, "http://evil.example", "null", app.origin.replace("127.0.0.1", "[::1]")):
        headers = {TOKEN_HEADER: app.token, **({"Origin": origin} if origin else {})}
        answer = httpx2.post(f"{app.origin}/api/authentications", json=body, headers=headers)
        assert answer.status_code == 403, origin
    assert app.store.find("Evil") is None


def test_a_rebound_host_name_is_refused(studio: tuple[Studio, str]) -> None:
    app, _ = studio
    answer = httpx2.get(
        f"{app.origin}/api/overview", headers={TOKEN_HEADER: app.token, "Host": "evil.example"}
    )
    assert answer.status_code == 421


def test_answers_carry_the_security_headers(studio: tuple[Studio, str]) -> None:
    app, _ = studio
    for path in ("/", "/static/studio.js"):
        answer = httpx2.get(app.origin + path)
        assert answer.status_code == 200
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers[name] == value


def test_the_pages_own_assets_are_under_one_megabyte() -> None:
    sizes = {p.name: p.stat().st_size for p in STATIC.rglob("*") if p.is_file()}
    total = sum(sizes.values())
    print(f"studio assets: {total} bytes ({sizes})")
    assert total < 1_000_000
    assert (STATIC / "vendor" / "jsoneditor.LICENSE.txt").read_text().startswith("The MIT License")


def test_overview_groups_operations_as_the_spec_does(client: httpx2.Client) -> None:
    overview = client.get("/api/overview").json()
    groups = [group["title"] for group in overview["groups"]]
    assert groups[:3] == ["Calendars", "Calendar groups", "Events"]
    assert groups[-1] == "Advanced"
    advanced = overview["groups"][-1]["operations"]
    assert [op["name"] for op in advanced] == ["raw_http_request"]
    form = overview["auth_form"]
    assert list(form["properties"])[:6] == [
        "name",
        "where",
        "api_version",
        "client_id",
        "tenant_id",
        "client_secret",
    ]
    assert form["properties"]["client_secret"]["format"] == "password"
    assert form["properties"]["where"]["options"]["enum_titles"] == ["Personal", "Organisational"]
    assert set(form["properties"]["advanced"]["properties"]) == {
        "client_certificate",
        "grant_type",
        "authority_host",
        "base_url",
    }


def test_a_rule_of_the_form_names_its_field_and_saves_nothing(
    client: httpx2.Client, service: str, store: AuthStore
) -> None:
    body = {
        "name": "AppOnly",
        "where": "personal",
        "client_id": "x",
        "tenant_id": "contoso.onmicrosoft.com",
        "advanced": {"grant_type": "client_credentials", "base_url": f"{service}/v1.0"},
    }
    answer = client.post("/api/authentications/check", json=body)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "client_secret"
    assert "needs a client secret" in error["message"]
    assert client.post("/api/authentications", json=body).status_code == 422
    assert store.find("AppOnly") is None


def test_client_credentials_are_saved_signed_in_and_the_secret_never_comes_back(
    client: httpx2.Client, service: str, store: AuthStore
) -> None:
    secret = "s3cret-value-for-the-studio"
    body = {
        "name": "App",
        "where": "personal",
        "client_id": "studio-app",
        "tenant_id": "contoso.onmicrosoft.com",
        "client_secret": secret,
        "scopes": ["https://graph.microsoft.com/.default"],
        "advanced": {
            "grant_type": "client_credentials",
            "authority_host": service,
            "base_url": f"{service}/v1.0",
        },
    }
    created = client.post("/api/authentications", json=body)
    assert created.status_code == 200, created.text
    assert created.json() == {"name": "App", "signed_in": True}
    assert store.load("App").secrets == {"client_secret": secret}
    assert store.load("App").tokens["access_token"]
    listed = client.get("/api/authentications")
    assert secret not in listed.text
    (app,) = [auth for auth in listed.json() if auth["name"] == "App"]
    assert app["secrets_set"] == ["client_secret"] and app["signed_in"] is True
    again = client.post("/api/authentications", json=body)
    assert again.status_code == 422 and again.json()["error"]["field"] == "name"
    assert secret not in again.text


def test_a_person_signs_in_through_the_local_identity_platform(
    client: httpx2.Client, service: str, store: AuthStore, studio: tuple[Studio, str]
) -> None:
    body = {
        "name": "Person",
        "where": "personal",
        "client_id": "studio-person",
        "tenant_id": "contoso.onmicrosoft.com",
        "advanced": {"authority_host": service, "base_url": f"{service}/v1.0"},
    }
    created = client.post("/api/authentications", json=body).json()
    authorize = created["redirect"]
    assert authorize.startswith(f"{service}/contoso.onmicrosoft.com/oauth2/v2.0/authorize?")
    assert "code_challenge_method=S256" in authorize
    assert store.load("Person").tokens == {}
    # The browser's walk: the platform redirects to the studio's /callback, which redirects
    # to the page.
    back = httpx2.get(authorize).headers["location"]
    assert back.startswith(f"{studio[0].origin}/callback?")
    page = httpx2.get(back)
    assert page.status_code == 303 and page.headers["location"] == "/#signed-in=Person"
    assert store.load("Person").tokens["refresh_token"]
    # A state is good once.
    again = httpx2.get(back)
    assert again.headers["location"].startswith("/#signin-error=")


def test_inputs_are_checked_by_the_runtime_with_its_message(client: httpx2.Client) -> None:
    answer = client.post(
        "/api/check",
        json={
            "operation": "create_event",
            "inputs": {"event": {"start": {"dateTime": "tomorrow", "timeZone": "UTC"}}},
        },
    ).json()
    assert answer["ok"] is False
    assert answer["error"]["field"] == "event.start.dateTime"
    assert answer["error"]["rule"] == "pattern"
    ok = client.post("/api/check", json={"operation": "list_calendars", "inputs": {"top": 5}})
    assert ok.json() == {"ok": True, "error": None}


def test_run_shows_the_exact_request_with_the_token_masked(
    client: httpx2.Client, signed_in: str, service: str, store: AuthStore
) -> None:
    answer = client.post(
        "/api/run",
        json={"operation": "list_calendars", "inputs": {"top": 2}, "auth": signed_in},
    ).json()
    assert "error" not in answer, answer
    (exchange,) = answer["exchanges"]
    request = exchange["request"]
    assert request["method"] == "GET"
    assert request["url"] == f"{service}/v1.0/me/calendars?%24top=2"
    assert request["headers"]["authorization"] == "Bearer ********"
    token = store.load(signed_in).tokens["access_token"]
    assert token not in str(answer)
    assert exchange["response"]["status"] == 200
    assert exchange["response"]["body"]["value"][0]["name"] == answer["result"]["value"][0]["name"]
    assert exchange["response"]["ms"] > 0


def test_a_paged_run_resumes_at_its_next_link(client: httpx2.Client, signed_in: str) -> None:
    first = client.post(
        "/api/run",
        json={"operation": "list_calendars", "inputs": {"top": 1}, "auth": signed_in},
    ).json()
    link = first["result"]["next_link"]
    second = client.post(
        "/api/run",
        json={"operation": "list_calendars", "inputs": {"next_link": link}, "auth": signed_in},
    ).json()
    assert second["exchanges"][0]["request"]["url"] == link
    assert second["result"]["value"][0]["id"] != first["result"]["value"][0]["id"]


def test_the_egress_guard_stops_a_raw_request_off_the_graph_host(
    client: httpx2.Client, signed_in: str
) -> None:
    answer = client.post(
        "/api/run",
        json={
            "operation": "raw_http_request",
            "inputs": {"endpoint": "/../../evil"},
            "auth": signed_in,
        },
    ).json()
    assert answer["exchanges"] == []
    assert answer["error"]["type"] in {"EgressError", "InputError"}


def test_a_lookup_lists_what_its_operation_returns(client: httpx2.Client, signed_in: str) -> None:
    answer = client.post(
        "/api/lookup", json={"operation": "create_event", "field": "calendar_id", "auth": signed_in}
    )
    choices = answer.json()["choices"]
    listed = client.post(
        "/api/run", json={"operation": "list_calendars", "inputs": {}, "auth": signed_in}
    ).json()["result"]["value"]
    assert choices[: len(listed)] == [{"value": c["id"], "label": c["name"]} for c in listed]
    refused = client.post(
        "/api/lookup", json={"operation": "create_event", "field": "event", "auth": signed_in}
    )
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "event"


def test_unknown_operations_and_bad_bodies_are_refused_clearly(client: httpx2.Client) -> None:
    unknown = client.post("/api/run", json={"operation": "nope", "inputs": {}})
    assert unknown.status_code == 422
    assert unknown.json()["error"] == {
        "type": "InputError",
        "field": "operation",
        "rule": "unknown",
        "message": "no operation named 'nope'",
    }
    bad = client.post("/api/run", content=b"[1, 2", headers={"Content-Type": "application/json"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "body"


def test_a_change_to_the_spec_on_disk_shows_on_the_next_call(tmp_path: Path) -> None:
    fork = tmp_path / "fork"
    fork.mkdir()
    shutil.copy(default_spec_root() / "connector.yaml", fork)
    for folder in ("operations", "schemas", "triggers"):
        shutil.copytree(default_spec_root() / folder, fork / folder)
    app = Studio(fork, AuthStore(personal=tmp_path / "auth"))
    server = BackgroundServer(app.app)
    app.bound(server.url)
    headers = {TOKEN_HEADER: app.token}
    with server:

        def titles() -> list[Any]:
            overview = httpx2.get(f"{app.origin}/api/overview", headers=headers).json()
            return [op["title"] for group in overview["groups"] for op in group["operations"]]

        assert "List calendars" in titles()
        calendars = fork / "operations" / "calendars.yaml"
        text = calendars.read_text(encoding="utf-8")
        calendars.write_text(
            text.replace("title: List calendars", "title: List my calendars"), encoding="utf-8"
        )
        assert "List my calendars" in titles()
        calendars.write_text(text.replace("operations:", "operations: [", 1), encoding="utf-8")
        broken = httpx2.get(f"{app.origin}/api/overview", headers=headers)
        assert broken.status_code == 400
        assert "calendars.yaml" in broken.json()["error"]["message"]


def test_a_watch_refuses_bad_inputs_by_field_and_delivers_changes(
    client: httpx2.Client, signed_in: str, studio: tuple[Studio, str], store: AuthStore
) -> None:
    bad = client.post(
        "/api/watches",
        json={"trigger": "event_created", "inputs": {"window_days": 0}, "auth": signed_in},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "window_days"
    unknown = client.post("/api/watches", json={"trigger": "nope", "auth": signed_in})
    assert unknown.json()["error"]["field"] == "trigger"
    started = client.post(
        "/api/watches",
        json={"trigger": "event_created", "inputs": {}, "auth": signed_in, "interval": 0.5},
    ).json()
    watch = started["id"]

    def seen() -> dict[str, Any]:
        answer: dict[str, Any] = client.get(f"/api/watches/{watch}?after=0").json()
        return answer

    deadline = time.monotonic() + 20
    while seen()["rounds"] < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert seen()["changes"] == []  # the first round is a baseline
    app, _ = studio
    connector = app.spec.connector()
    tokens, auth = stored_connection(connector, signed_in, store)
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    event = connector.run(
        "create_event",
        {
            "event": {
                "subject": "Seen by a watch",
                "start": {"dateTime": start.strftime("%Y-%m-%dT%H:00:00"), "timeZone": "UTC"},
                "end": {"dateTime": start.strftime("%Y-%m-%dT%H:30:00"), "timeZone": "UTC"},
            }
        },
        auth=tokens,
        base_url=auth.base_url,
    )
    while not seen()["changes"] and time.monotonic() < deadline:
        time.sleep(0.1)
    (change,) = seen()["changes"]
    assert (change["change"], change["event_id"]) == ("created", event["id"])
    assert client.get(f"/api/watches/{watch}?after=1").json()["changes"] == []
    assert client.post(f"/api/watches/{watch}/stop").json() == {"stopped": True}
    assert seen()["running"] is False
