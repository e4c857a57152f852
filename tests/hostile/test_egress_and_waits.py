"""Issue 14: redirects of writes, an upload host's redirect to Graph, Retry-After honoured as
said, the environment's proxy kept away from loopback and plain-http origins, and `--base-url`
with a stored authentication."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from mscal.call.guard import may_use_env_proxy
from mscal.errors import ThrottlingError
from tests.conftest import CANARY_TOKEN, GRAPH, CliResult
from tests.hostile.server import Answer, Hostile, hostile_server

ELSEWHERE = "https://elsewhere.example/landing"
WRITES: list[tuple[str, dict[str, Any]]] = [
    ("create_event", {"event": {"subject": "x"}}),
    ("update_event", {"event_id": "e1", "event": {"subject": "x"}}),
    ("delete_event", {"event_id": "e1"}),
]


@pytest.mark.httpx2_mock(assert_all_responses_were_requested=False)  # elsewhere gets nothing
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(("operation", "inputs"), WRITES)
def test_a_write_redirected_to_another_origin_is_an_error_never_a_get(
    operation: str,
    inputs: dict[str, Any],
    status: int,
    httpx2_mock: HTTPXMock,
    run: Callable[..., Any],
) -> None:
    httpx2_mock.add_response(status_code=status, headers={"Location": ELSEWHERE})
    httpx2_mock.add_response(url=ELSEWHERE, json={"looks": "like success"})
    with pytest.raises(mscal.EgressError, match="a write is never re-sent off the Graph host"):
        run(operation, inputs)
    assert [str(r.url.host) for r in httpx2_mock.get_requests()] == ["graph.microsoft.com"]


def test_a_get_redirected_elsewhere_still_goes_there_bare(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(status_code=302, headers={"Location": ELSEWHERE})
    httpx2_mock.add_response(url=ELSEWHERE, json={"id": "e1"})
    assert run("get_event", {"event_id": "e1"}) == {"id": "e1"}
    assert "authorization" not in httpx2_mock.get_requests()[-1].headers


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_an_upload_hosts_redirect_to_graph_is_refused(
    status: int, httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    upload = "https://outlook.office.com/upload/s1?authtoken=abc"
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/events/e1/attachments/createUploadSession",
        status_code=201,
        json={"uploadUrl": upload},
    )
    httpx2_mock.add_response(
        url=upload, method="PUT", status_code=status, headers={"Location": f"{GRAPH}/me/events"}
    )
    with pytest.raises(mscal.EgressError, match="never gains the token"):
        run("upload_event_attachment", {"event_id": "e1", "name": "x", "content_bytes": "aGk="})
    _session, put = httpx2_mock.get_requests()  # nothing went to Graph after the upload host
    assert put.url.host == "outlook.office.com" and "authorization" not in put.headers


@pytest.mark.parametrize("told", ["61", "130", "3600"])
def test_a_retry_after_past_the_longest_wait_gives_up_at_once_with_the_servers_value(
    told: str, httpx2_mock: HTTPXMock, run: Callable[..., Any], no_sleep: list[float]
) -> None:
    httpx2_mock.add_response(
        status_code=429,
        headers={"Retry-After": told},
        json={"error": {"code": "TooManyRequests", "message": "slow down"}},
    )
    with pytest.raises(ThrottlingError) as caught:
        run("list_calendars")
    assert no_sleep == []  # never a clamped wait
    assert len(httpx2_mock.get_requests()) == 1
    assert caught.value.retry_after == float(told)
    assert f"try again in {told} s" in str(caught.value)
    assert f"Graph asked for a wait of {told} s, longer than the longest wait (60 s)" in str(
        caught.value
    )


def test_a_retry_after_within_the_longest_wait_is_slept_exactly(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], no_sleep: list[float]
) -> None:
    httpx2_mock.add_response(status_code=503, headers={"Retry-After": "60"})
    httpx2_mock.add_response(json={"value": []})
    run("list_calendars")
    assert no_sleep == [60.0]


def test_a_batched_retry_after_past_the_longest_wait_fails_that_input_at_once(
    httpx2_mock: HTTPXMock, connector: mscal.Connector, auth: mscal.Authentication
) -> None:
    answer = {
        "responses": [
            {"id": "0", "status": 204},
            {"id": "1", "status": 429, "headers": {"Retry-After": "130"}, "body": {}},
            {"id": "2", "status": "not a status"},
        ]
    }
    httpx2_mock.add_response(url=f"{GRAPH}/$batch", json=answer)
    inputs = [{"event_id": e} for e in "abc"]
    outcomes = list(connector.run_many("delete_event", inputs, auth=auth))
    assert [o.ok for o in outcomes] == [True, False, False]
    assert isinstance(outcomes[1].error, ThrottlingError)
    assert outcomes[1].error.retry_after == 130.0
    assert outcomes[2].error is not None and "502" in str(outcomes[2].error)
    assert len(httpx2_mock.get_requests()) == 1


@pytest.fixture(scope="module")
def graph() -> Iterator[Hostile]:
    with hostile_server() as server:
        server.answer(lambda _: Answer(200, '{"value": []}', {"content-type": "application/json"}))
        yield server


@pytest.fixture(scope="module")
def proxy() -> Iterator[Hostile]:
    with hostile_server() as server:
        server.answer(
            lambda _: Answer(
                200, '{"value": [], "proxied": true}', {"content-type": "application/json"}
            )
        )
        yield server


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
def test_the_environments_proxy_never_sees_a_loopback_origin(
    variable: str,
    graph: Hostile,
    proxy: Hostile,
    connector: mscal.Connector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, proxy.url)
    before = len(proxy.seen)
    auth = connector.authentication({"base_url": f"{graph.url}/v1.0"}, access_token=CANARY_TOKEN)
    assert connector.run("list_events", auth=auth)["value"] == []
    assert len(proxy.seen) == before
    assert graph.seen[-1].headers["Authorization"] == f"Bearer {CANARY_TOKEN}"


def test_which_urls_may_use_the_environments_proxy() -> None:
    assert may_use_env_proxy("https://graph.microsoft.com/v1.0")
    assert may_use_env_proxy("https://login.microsoftonline.com/x/oauth2/v2.0/token")
    for url in ("http://127.0.0.1:8765/v1.0", "https://localhost:8443/v1.0", "http://[::1]/x"):
        assert not may_use_env_proxy(url)


def test_base_url_with_a_stored_authentication_only_on_its_origin(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: Callable[..., CliResult],
    graph: Hostile,
    proxy: Hostile,
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("MSCAL_SHARED_AUTHENTICATIONS", raising=False)
    store = tmp_path / "config" / "mscal" / "authentications"
    store.mkdir(parents=True, mode=0o700)
    record = {
        "values": {"client_id": "app", "base_url": f"{graph.url}/v1.0"},
        "tokens": {"access_token": CANARY_TOKEN, "expires_at": 4_000_000_000},
    }
    (store / "Local.json").write_text(json.dumps(record))
    elsewhere = f"{proxy.url}/v1.0"  # another origin (another port)
    before = len(proxy.seen)
    refused = cli("run", "list_events", "--auth", "Local", "--base-url", elsewhere)
    assert refused.code == 2
    assert "is not the origin of authentication 'Local'" in refused.err
    assert "--send-token-to-base-url" in refused.err
    assert len(proxy.seen) == before
    same = cli("run", "list_events", "--auth", "Local", "--base-url", f"{graph.url}/v1.0/")
    assert same.code == 0, same.err
    allowed = cli(
        "run", "list_events", "--auth", "Local", "--base-url", elsewhere, "--send-token-to-base-url"
    )
    assert allowed.code == 0, allowed.err
    assert proxy.seen[-1].headers["Authorization"] == f"Bearer {CANARY_TOKEN}"
