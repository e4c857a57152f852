"""Fault injection: throttling, outages, slow answers, expired tokens, dropped connections."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx2
import pytest

import mscal
from mscal.auth.signin import sign_in_without_browser
from mscal.sandbox.service import Sandbox
from tests.e2e.conftest import ADELE


@pytest.fixture
def faults(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.faults.clear()
    yield sandbox
    sandbox.faults.clear()


def test_always_429_gives_four_requests_and_a_throttling_error(
    faults: Sandbox, connector: mscal.Connector, adele: mscal.Authentication
) -> None:
    faults.faults.add("status=429 retry-after=0 path=/calendars")
    before = faults.faults.requests
    with pytest.raises(mscal.GraphError) as caught:
        connector.run("list_calendars", auth=adele)
    assert faults.faults.requests - before == 4
    assert (caught.value.status_code, caught.value.code) == (429, "TooManyRequests")


def test_429_once_with_retry_after_waits_then_succeeds(
    faults: Sandbox, connector: mscal.Connector, adele: mscal.Authentication
) -> None:
    faults.faults.add("status=429 retry-after=1 times=1")
    began = time.monotonic()
    assert connector.run("get_calendar", auth=adele)["isDefaultCalendar"] is True
    assert time.monotonic() - began >= 1.0


def test_503_and_504_are_retried(
    faults: Sandbox,
    connector: mscal.Connector,
    adele: mscal.Authentication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("mscal.io.drivers.time.sleep", lambda _s: None)
    faults.faults.add("status=503 times=1")
    faults.faults.add("status=504 times=1")
    before = faults.faults.requests
    assert connector.run("get_calendar", auth=adele)["isDefaultCalendar"] is True
    assert faults.faults.requests - before == 3


def test_per_request_fault_header(
    faults: Sandbox,
    connector: mscal.Connector,
    adele: mscal.Authentication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("mscal.io.drivers.time.sleep", lambda _s: None)
    with pytest.raises(mscal.GraphError) as caught:
        connector.run(
            "raw_http_request",
            {"endpoint": "/me/calendar", "headers": {"X-Sandbox-Fault": "status=503"}},
            auth=adele,
        )
    assert caught.value.status_code == 503
    assert (
        connector.run("raw_http_request", {"endpoint": "/me/calendar"}, auth=adele)["status_code"]
        == 200
    )


def test_slow_responses(
    faults: Sandbox, connector: mscal.Connector, adele: mscal.Authentication
) -> None:
    faults.faults.add("delay=0.3 times=1")
    began = time.monotonic()
    connector.run("get_calendar", auth=adele)
    assert time.monotonic() - began >= 0.3


def test_token_expiry_is_refreshed_once(
    faults: Sandbox, connector: mscal.Connector, form: dict[str, object]
) -> None:
    auth = sign_in_without_browser(connector.spec, form, ADELE)
    faults.faults.add("expire-token times=1")
    before = faults.faults.requests
    assert connector.run("get_calendar", auth=auth)["isDefaultCalendar"] is True
    assert faults.faults.requests - before == 2  # the 401, then the replay with a fresh token


def test_a_dropped_connection_after_commit_does_not_duplicate_events(
    faults: Sandbox,
    connector: mscal.Connector,
    adele: mscal.Authentication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every create is committed and its answer dropped; the runtime resends it with the same
    # transactionId, which the service de-duplicates: 100 runs, exactly 100 events.
    monkeypatch.setattr("mscal.io.drivers.time.sleep", lambda _s: None)
    calendar = connector.run(
        "create_calendar", {"calendar": {"name": "Dropped answers"}}, auth=adele
    )
    before = faults.faults.requests
    with connector.session(adele) as session:
        for number in range(100):
            faults.faults.add("drop method=POST path=/events$ times=1")  # this run's first attempt
            session.run(
                "create_event",
                {
                    "calendar_id": calendar["id"],
                    "event": {
                        "subject": f"Run {number}",
                        "start": {"dateTime": "2026-12-09T10:00:00", "timeZone": "UTC"},
                        "end": {"dateTime": "2026-12-09T11:00:00", "timeZone": "UTC"},
                    },
                },
            )
        events = session.run(
            "list_events", {"calendar_id": calendar["id"], "all_pages": True, "top": 100}
        )
    assert faults.faults.requests - before == 200 + 1  # each create twice, and the listing
    assert sorted(e["subject"] for e in events["value"]) == sorted(f"Run {n}" for n in range(100))
    connector.run("delete_calendar", {"calendar_id": calendar["id"]}, auth=adele)


def test_mailbox_concurrency_is_limited_to_four(
    faults: Sandbox, connector: mscal.Connector, adele: mscal.Authentication
) -> None:
    faults.faults.add("delay=0.2 path=/calendar$")

    async def burst() -> list[object]:
        async with httpx2.AsyncClient() as client:
            token = adele.access_token.reveal() if adele.access_token else ""
            base = adele.values["base_url"]
            return list(
                await asyncio.gather(
                    *(
                        client.get(
                            f"{base}/me/calendar", headers={"Authorization": f"Bearer {token}"}
                        )
                        for _ in range(8)
                    )
                )
            )

    answers = asyncio.run(burst())
    statuses = sorted(a.status_code for a in answers)  # type: ignore[attr-defined]
    assert statuses.count(200) == 4 and statuses.count(429) == 4
    throttled = next(a for a in answers if a.status_code == 429)  # type: ignore[attr-defined]
    assert throttled.json()["error"]["code"] == "ApplicationThrottled"  # type: ignore[attr-defined]
    assert max(faults.faults.peak_in_flight.values()) == 4


def test_admin_endpoints_switch_faults(faults: Sandbox, service: str) -> None:
    assert (
        httpx2.post(f"{service}/_sandbox/faults", json={"fault": "status=503 times=1"}).status_code
        == 204
    )
    token = faults.identity.issue_for(ADELE)
    assert (
        httpx2.get(
            f"{service}/v1.0/me/calendar", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 503
    )
    stats = httpx2.get(f"{service}/_sandbox/stats").json()
    assert stats["requests"] >= 1
    assert httpx2.post(f"{service}/_sandbox/faults", json={"fault": "bogus=1"}).status_code == 400
    assert httpx2.delete(f"{service}/_sandbox/faults").status_code == 204
