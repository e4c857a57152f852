"""Reliability against the local Graph service over real sockets: paging through a token
expiry, the per-mailbox limit, deadlines, redirects to another server, resumable sync rounds."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import mscal
from mscal.auth.signin import sign_in_without_browser
from mscal.errors import DeadlineError, ResyncRequiredError
from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox
from tests.e2e.conftest import ADELE

RANGE = {"start_date_time": "2027-03-01T00:00:00Z", "end_date_time": "2027-03-08T00:00:00Z"}


@pytest.fixture
def faults(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.faults.clear()
    yield sandbox
    sandbox.faults.clear()


def _seed(sandbox: Sandbox, name: str, count: int, day: str = "2027-03-02") -> str:
    """A calendar of `count` events, written straight into the service's store."""
    owner = sandbox.tenant.user_owner(ADELE)
    calendar = sandbox.tenant.create_calendar(owner, {"name": name})
    for number in range(count):
        sandbox.tenant.create_event(
            owner,
            calendar["id"],
            {
                "subject": f"{name} {number}",
                "body": {"contentType": "text", "content": f"Agenda item {number}"},
                "location": {"displayName": f"Room {number % 7}"},
                "start": {"dateTime": f"{day}T{number % 24:02d}:00:00", "timeZone": "UTC"},
                "end": {"dateTime": f"{day}T{number % 24:02d}:30:00", "timeZone": "UTC"},
            },
        )
    return str(calendar["id"])


def test_ten_pages_with_the_token_expiring_after_page_five(
    faults: Sandbox, connector: mscal.Connector, form: dict[str, Any]
) -> None:
    calendar = _seed(faults, "Thousand", 1000)
    auth = sign_in_without_browser(connector.spec, form, ADELE)
    faults.faults.add("expire-token after=5 times=1 path=/events")
    refreshes = faults.identity.grants["refresh_token"]
    result = connector.run(
        "list_events", {"calendar_id": calendar, "top": 100, "all_pages": True}, auth=auth
    )
    ids = [event["id"] for event in result["value"]]
    assert len(ids) == 1000
    assert len(set(ids)) == 1000  # 0 duplicates
    assert faults.identity.grants["refresh_token"] - refreshes == 1
    assert faults.faults.requests == 11  # 10 pages and the replay of page 6 after its 401
    assert result["next_link"] is None


def test_twenty_concurrent_operations_never_exceed_four_in_flight(
    faults: Sandbox, connector: mscal.Connector, adele: mscal.Authentication
) -> None:
    faults.faults.add("delay=0.1 path=/calendar$")

    async def twenty() -> list[Any]:
        # A session per call, as a builder running steps in parallel would: the slots are the
        # connector's, so the limit holds across sessions.
        return list(
            await asyncio.gather(*(connector.arun("get_calendar", auth=adele) for _ in range(20)))
        )

    answers = asyncio.run(twenty())
    assert all(answer["isDefaultCalendar"] for answer in answers)
    assert faults.faults.requests == 20  # none was throttled and retried
    assert max(faults.faults.peak_in_flight.values()) == 4


def test_threads_share_the_mailbox_limit_and_it_is_configurable(
    faults: Sandbox, connector: mscal.Connector, adele: mscal.Authentication
) -> None:
    faults.faults.add("delay=0.1 path=/calendar$")
    with (
        connector.session(adele, max_in_flight_per_mailbox=2) as session,
        ThreadPoolExecutor(10) as pool,
    ):
        answers = list(pool.map(lambda _n: session.run("get_calendar"), range(20)))
    assert len(answers) == 20
    assert faults.faults.requests == 20
    assert max(faults.faults.peak_in_flight.values()) == 2


def test_the_operation_deadline_cuts_a_slow_answer(
    faults: Sandbox, connector: mscal.Connector, adele: mscal.Authentication
) -> None:
    faults.faults.add("delay=3 times=1 path=/calendar$")
    began = time.monotonic()
    with (
        connector.session(adele, limits={"deadline_seconds": 0.5}) as session,
        pytest.raises(DeadlineError) as caught,
    ):
        session.run("get_calendar")
    assert time.monotonic() - began < 2.0
    assert caught.value.client_request_id is not None


class _Elsewhere:
    """A second server on another port: records what arrives there."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.app = Starlette(routes=[Route("/landing", self.landing)])

    async def landing(self, request: Request) -> JSONResponse:
        with self.lock:
            self.seen.append(dict(request.headers))
        return JSONResponse({"id": "landed"})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_redirect_to_another_server_gets_no_credentials(
    faults: Sandbox, connector: mscal.Connector, adele: mscal.Authentication, host: str
) -> None:
    elsewhere = _Elsewhere()
    with BackgroundServer(elsewhere.app) as url:
        port = url.rsplit(":", 1)[1]
        faults.faults.add(
            f"status=302 location=http://{host}:{port}/landing times=1 path=/calendar$"
        )
        assert connector.run("get_calendar", auth=adele) == {"id": "landed"}
    (headers,) = elsewhere.seen
    assert "authorization" not in headers
    assert "cookie" not in headers
    assert "client-request-id" not in headers
    assert set(headers) <= {"host", "accept", "accept-encoding", "user-agent", "connection"}


def test_a_failed_sync_round_resumes_from_its_last_link(
    faults: Sandbox, connector: mscal.Connector, adele: mscal.Authentication
) -> None:
    calendar = _seed(faults, "Synced", 50, day="2027-03-03")
    scope = {"calendar_id": calendar, **RANGE, "page_size": 10}
    # The fourth page keeps failing: the round stops with what it had and where to go on.
    faults.faults.add("status=503 retry-after=0 after=3 times=4 path=/calendarView/delta")
    with connector.session(adele) as session:
        with pytest.raises(mscal.PagingError) as caught:
            session.run("sync_calendar_view", scope)
        stopped = caught.value
        assert stopped.collected == 30
        assert stopped.resume_link is not None
        rest = session.run("sync_calendar_view", {"next_link": stopped.resume_link})
    assert len(rest["value"]) == 20
    assert rest["delta_link"]
    subjects = {e["subject"] for e in rest["value"]}
    assert subjects <= {f"Synced {n}" for n in range(50)}
    # The first 30 plus the resumed 20 are the 50 events, each once.
    first_round = connector.run("sync_calendar_view", scope, auth=adele)
    assert len(first_round["value"]) == 50
    resumed_ids = {e["id"] for e in rest["value"]}
    assert len(resumed_ids) == 20
    assert resumed_ids < {e["id"] for e in first_round["value"]}


def test_an_expired_delta_token_asks_for_a_full_resync(
    faults: Sandbox, connector: mscal.Connector, adele: mscal.Authentication, service: str
) -> None:
    first = connector.run("sync_calendar_view", RANGE, auth=adele)
    assert httpx2.post(f"{service}/_sandbox/expire-delta-tokens").status_code == 204
    with pytest.raises(ResyncRequiredError) as caught:
        connector.run("sync_calendar_view", {"delta_link": first["delta_link"]}, auth=adele)
    assert caught.value.status_code == 410
    assert "a full resync is needed" in str(caught.value)
    assert isinstance(caught.value, mscal.GraphError)
