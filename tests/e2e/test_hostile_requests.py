"""Issue 14: the local service under hostile requests, over a real loopback socket. Every bad
request gets a 4xx in Graph's envelope (the identity platform's shape under /oauth2/), nothing
it accepts can poison a mailbox, Graph's limits keep any one request from stalling the others,
and the service stays up throughout."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

import mscal
from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox, create_sandbox
from tests.e2e.conftest import ADELE, q

EVENT = {
    "subject": "ok",
    "start": {"dateTime": "2026-12-08T09:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2026-12-08T10:00:00", "timeZone": "UTC"},
}
DAILY = {
    **EVENT,
    "subject": "daily",
    "recurrence": {
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "noEnd", "startDate": "2026-12-08"},
    },
}


@pytest.fixture(scope="module")
def http(service: str, adele: mscal.Authentication) -> Iterator[httpx2.Client]:
    token = adele.access_token.reveal()  # type: ignore[union-attr]
    with httpx2.Client(
        base_url=service, headers={"Authorization": f"Bearer {token}"}, timeout=20
    ) as client:
        yield client


def _graph_error(response: httpx2.Response, status: int | None = None) -> dict[str, Any]:
    """A 4xx (the given one) in Graph's envelope, with Graph's headers."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["request-id"]
    error = response.json()["error"]
    assert error["code"] and error["message"] and error["innerError"]["request-id"]
    return dict(error)


def _still_serves(http: httpx2.Client) -> None:
    listed = http.get("/v1.0/me/events", params={"$top": "50"})
    assert listed.status_code == 200, listed.text[:300]
    window = {"startDateTime": "2026-12-01T00:00:00Z", "endDateTime": "2026-12-31T00:00:00Z"}
    assert http.get("/v1.0/me/calendarView", params=window).status_code == 200


DEEP = "[" * 10_000 + "]" * 10_000
BAD_BODIES = {
    "nested 10,000 deep": '{"subject": "x", "categories": ' + DEEP + "}",
    "nested 65 deep": '{"subject": "x", "extensions": ' + "[" * 65 + "]" * 65 + "}",
    "a lone surrogate": '{"subject": "\\ud800", "start": {"dateTime": "2026-12-08T09:00:00"}}',
    "a lone surrogate in a key": '{"\\udc00": 1}',
    "1e400": '{"subject": "x", "reminderMinutesBeforeStart": 1e400}',
    "NaN": '{"subject": "x", "reminderMinutesBeforeStart": NaN}',
    "100,000 digits": '{"subject": "x", "reminderMinutesBeforeStart": ' + "9" * 100_000 + "}",
}


@pytest.mark.parametrize("shape", BAD_BODIES)
def test_a_hostile_json_body_is_a_400_and_nothing_is_stored(
    shape: str, http: httpx2.Client
) -> None:
    before = len(http.get("/v1.0/me/events", params={"$top": "500"}).json()["value"])
    response = http.post(
        "/v1.0/me/events",
        content=BAD_BODIES[shape].encode(),
        headers={"Content-Type": "application/json"},
    )
    _graph_error(response, 400)
    assert len(http.get("/v1.0/me/events", params={"$top": "500"}).json()["value"]) == before
    _still_serves(http)


BAD_REQUESTS: dict[str, dict[str, Any]] = {
    "a 5,000-deep $filter": {
        "method": "GET",
        "url": "/v1.0/me/events",
        "params": {"$filter": "(" * 5000 + "subject eq 'a'" + ")" * 5000},
    },
    "an unknown Prefer time zone": {
        "method": "GET",
        "url": "/v1.0/me/events",
        "headers": {"Prefer": 'outlook.timezone="America"'},
    },
    "a bad X-Sandbox-Fault": {
        "method": "GET",
        "url": "/v1.0/me/events",
        "headers": {"X-Sandbox-Fault": "status=abc"},
    },
    "a fault that would sleep a day": {
        "method": "GET",
        "url": "/v1.0/me/events",
        "headers": {"X-Sandbox-Fault": "delay=86400"},
    },
    "a date past 9999": {
        "method": "POST",
        "url": "/v1.0/me/events",
        "json": {
            **EVENT,
            "start": {"dateTime": "9999-12-31T23:00:00", "timeZone": "Pacific/Kiritimati"},
            "end": {"dateTime": "9999-12-31T23:59:59", "timeZone": "Etc/GMT+12"},
        },
    },
    "a date that is no date": {
        "method": "GET",
        "url": "/v1.0/me/calendarView",
        "params": {"startDateTime": "10000-01-01T00:00:00Z", "endDateTime": "x"},
    },
    "a series with interval -1": {
        "method": "POST",
        "url": "/v1.0/me/events",
        "json": {
            **DAILY,
            "recurrence": {**DAILY["recurrence"], "pattern": {"type": "daily", "interval": -1}},
        },
    },
    "a series with interval 10**30": {
        "method": "POST",
        "url": "/v1.0/me/events",
        "json": {
            **DAILY,
            "recurrence": {**DAILY["recurrence"], "pattern": {"type": "daily", "interval": 10**30}},
        },
    },
    "wrong types": {
        "method": "POST",
        "url": "/v1.0/me/events",
        "json": {"subject": ["x"], "start": "tomorrow", "end": 5, "attendees": "everyone"},
    },
    "a method Starlette does not route": {"method": "OPTIONS", "url": "/v1.0/me/events"},
    "a path outside every route": {"method": "GET", "url": "/nowhere/at/all"},
    "bad JSON to revoke-tokens": {
        "method": "POST",
        "url": "/_sandbox/revoke-tokens",
        "content": b"{not json",
    },
    "a JSON array to revoke-tokens": {
        "method": "POST",
        "url": "/_sandbox/revoke-tokens",
        "content": b'["x"]',
    },
    "a bad fault rule": {
        "method": "POST",
        "url": "/_sandbox/faults",
        "json": {"fault": "path=(a)\\1"},
    },
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_a_bad_request_is_a_graph_4xx_never_a_500(case: str, http: httpx2.Client) -> None:
    began = time.monotonic()
    response = http.request(**BAD_REQUESTS[case])
    assert time.monotonic() - began < 5
    _graph_error(response)
    _still_serves(http)


def test_the_identity_platform_answers_in_its_own_shape(service: str) -> None:
    with httpx2.Client(base_url=service) as client:
        wrong_method = client.get("/contoso.onmicrosoft.com/oauth2/v2.0/token")
        too_big = client.post(
            "/contoso.onmicrosoft.com/oauth2/v2.0/token", content=b"x" * (5 << 20)
        )
    for response in (wrong_method, too_big):
        assert 400 <= response.status_code < 500
        body = response.json()
        assert body["error"] in {"invalid_request", "invalid_client", "unsupported_grant_type"}
        assert body["error_description"].startswith("AADSTS")


def test_a_body_over_4_mb_is_refused_declared_or_streamed(http: httpx2.Client) -> None:
    big = json.dumps({**EVENT, "body": {"content": "x" * (5 << 20)}}).encode()
    declared = http.post(
        "/v1.0/me/events", content=big, headers={"Content-Type": "application/json"}
    )
    assert _graph_error(declared, 413)["code"] == "RequestEntityTooLarge"

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 1 << 16):
            yield big[start : start + (1 << 16)]

    streamed = http.post(
        "/v1.0/me/events", content=chunks(), headers={"Content-Type": "application/json"}
    )
    _graph_error(streamed, 413)
    _still_serves(http)


def _batch(http: httpx2.Client, requests: list[dict[str, Any]]) -> httpx2.Response:
    began = time.monotonic()
    response = http.post("/v1.0/$batch", json={"requests": requests})
    assert time.monotonic() - began < 5
    return response


def test_batches_are_one_level_deep_at_most_20_and_acyclic(http: httpx2.Client) -> None:
    get = {"method": "GET", "url": "/me/events"}
    assert (
        "cycle"
        in _graph_error(_batch(http, [{**get, "id": "1", "dependsOn": ["1"]}]), 400)["message"]
    )
    cycle = [{**get, "id": "1", "dependsOn": ["2"]}, {**get, "id": "2", "dependsOn": ["1"]}]
    assert "cycle" in _graph_error(_batch(http, cycle), 400)["message"]
    nested = {
        "id": "1",
        "method": "POST",
        "url": "/$batch",
        "headers": {"Content-Type": "application/json"},
        "body": {"requests": [get | {"id": "a"}]},
    }
    assert "Nested" in _graph_error(_batch(http, [nested]), 400)["message"]
    _graph_error(_batch(http, [{**get, "id": str(i)} for i in range(21)]), 400)
    _graph_error(_batch(http, [{**get, "id": "1", "dependsOn": "1"}]), 400)
    chain = [{**get, "id": "1"}, {**get, "id": "2", "dependsOn": ["1"]}]
    assert _batch(http, chain).status_code == 200


def test_graphs_windows_keep_one_request_from_stalling_the_others(http: httpx2.Client) -> None:
    created = http.post("/v1.0/me/events", json=DAILY)
    assert created.status_code == 201, created.text
    schedule = {
        "schedules": [ADELE],
        "startTime": {"dateTime": "2000-01-01T00:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2100-01-01T00:00:00", "timeZone": "UTC"},
        "availabilityViewInterval": 5,
    }
    began = time.monotonic()
    assert (
        "62 days"
        in _graph_error(http.post("/v1.0/me/calendar/getSchedule", json=schedule), 400)["message"]
    )
    short = {**schedule, "endTime": {"dateTime": "2000-01-02T00:00:00", "timeZone": "UTC"}}
    _graph_error(
        http.post("/v1.0/me/calendar/getSchedule", json={**short, "availabilityViewInterval": 1})
    )
    everything = {"startDateTime": "0001-01-01T00:00:00Z", "endDateTime": "9999-12-31T00:00:00Z"}
    _graph_error(http.get("/v1.0/me/calendarView", params=everything), 400)
    series = created.json()["id"]
    _graph_error(http.get(f"/v1.0/me/events/{q(series)}/instances", params=everything), 400)
    assert time.monotonic() - began < 5
    http.delete(f"/v1.0/me/events/{q(series)}")


def test_old_bad_rows_never_poison_a_mailbox(sandbox: Sandbox, http: httpx2.Client) -> None:
    # Rows as an older service stored them, before it refused them on write.
    single = http.post("/v1.0/me/events", json={**EVENT, "subject": "poison-me"}).json()
    series = http.post("/v1.0/me/events", json={**DAILY, "subject": "poison-series"}).json()
    with sandbox.store.transaction():
        sandbox.store._db.execute(
            "UPDATE docs SET data = replace(replace(data, '\"poison-me\"', '\"\\ud800 \\udfff\"'),"
            " '\"interval\": 1', '\"interval\": -1') WHERE kind = 'event'"
            " AND (data LIKE '%poison-me%' OR data LIKE '%poison-series%')"
        )
    _still_serves(http)
    shown = http.get(f"/v1.0/me/events/{q(single['id'])}")
    assert shown.status_code == 200 and shown.json()["subject"] == "\ufffd \ufffd"
    http.delete(f"/v1.0/me/events/{q(single['id'])}")
    http.delete(f"/v1.0/me/events/{q(series['id'])}")


def test_a_catastrophic_fault_pattern_cannot_stall_the_service(http: httpx2.Client) -> None:
    added = http.post("/_sandbox/faults", json={"fault": "status=503 path=(a+)+$"})
    assert added.status_code == 204
    try:
        began = time.monotonic()
        response = http.get("/v1.0/me/events/" + "a" * 5000 + "!")
        assert time.monotonic() - began < 2
        assert response.status_code in (400, 404)
    finally:
        http.delete("/_sandbox/faults")


def test_a_request_past_the_time_limit_is_a_504_and_frees_its_mailbox(
    connector: mscal.Connector,
) -> None:
    sandbox = create_sandbox(":memory:", seed=True, request_seconds=1.0)
    from mscal.auth.signin import sign_in_without_browser  # noqa: PLC0415 (this test only)

    with BackgroundServer(sandbox.app) as url:
        form = {
            "client_id": "e2e",
            "tenant_id": "contoso.onmicrosoft.com",
            "authority_host": url,
            "base_url": f"{url}/v1.0",
        }
        auth = sign_in_without_browser(connector.spec, form, ADELE)
        headers = {"Authorization": f"Bearer {auth.access_token.reveal()}"}  # type: ignore[union-attr]
        with httpx2.Client(base_url=url, headers=headers, timeout=20) as client:
            began = time.monotonic()
            slow = client.get("/v1.0/me/events", headers={"X-Sandbox-Fault": "delay=30"})
            assert time.monotonic() - began < 5
            assert _graph_error_5xx(slow) == "GatewayTimeout"
            assert client.get("/v1.0/me/events").status_code == 200
        assert dict(sandbox.faults.in_flight).get(ADELE.lower(), 0) == 0 or all(
            v == 0 for v in sandbox.faults.in_flight.values()
        )


def _graph_error_5xx(response: httpx2.Response) -> str:
    assert response.status_code == 504, response.text[:300]
    return str(response.json()["error"]["code"])


def test_a_graceful_shutdown_lets_requests_in_flight_finish(connector: mscal.Connector) -> None:
    sandbox = create_sandbox(":memory:", seed=True)
    server = BackgroundServer(sandbox.app)
    url = server.start()
    from mscal.auth.signin import sign_in_without_browser  # noqa: PLC0415 (this test only)

    form = {
        "client_id": "e2e",
        "tenant_id": "contoso.onmicrosoft.com",
        "authority_host": url,
        "base_url": f"{url}/v1.0",
    }
    auth = sign_in_without_browser(connector.spec, form, ADELE)
    headers = {"Authorization": f"Bearer {auth.access_token.reveal()}"}  # type: ignore[union-attr]
    answers: list[int] = []

    def slow_request() -> None:
        with httpx2.Client(base_url=url, headers=headers, timeout=20) as client:
            answers.append(
                client.get("/v1.0/me/events", headers={"X-Sandbox-Fault": "delay=1"}).status_code
            )

    worker = threading.Thread(target=slow_request)
    worker.start()
    time.sleep(0.4)  # the request is in flight
    server.stop()
    worker.join(timeout=10)
    assert answers == [200]


def test_the_database_file_is_private(tmp_path: Path) -> None:
    fresh = tmp_path / "data" / "sandbox.db"
    create_sandbox(fresh).store.close()
    assert oct(fresh.stat().st_mode & 0o777) == "0o600"
    assert oct(fresh.parent.stat().st_mode & 0o777) == "0o700"
    old = tmp_path / "old.db"
    create_sandbox(old).store.close()
    old.chmod(0o644)
    sandbox = create_sandbox(old)
    assert oct(old.stat().st_mode & 0o777) == "0o600"
    for extra in (tmp_path / "old.db-wal", tmp_path / "old.db-shm"):
        if extra.exists():
            assert extra.stat().st_mode & 0o077 == 0
    sandbox.store.close()
    assert os.access(old, os.R_OK)
