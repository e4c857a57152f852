"""The mailbox budget shared through a real Redis: two connectors with stores of their own
stand for two workers (each its own Redis connection and slots, as in two processes)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx2
import pytest

import mscal
from mscal import load_connector
from mscal.auth.signin import sign_in_without_browser
from mscal.auth.tokens import StaticToken
from mscal.call.guard import Origin
from mscal.io.mailbox_key import MailboxKey, Principal
from mscal.secret import Secret
from mscal.state.choose import open_store
from mscal.state.redis_slots import RedisSlots
from mscal.state.redis_store import RedisStore
from tests.redis_server import free_port

USERS = ["adele", "alex", "megan"]
DOMAIN = "contoso.onmicrosoft.com"


def _app(connector: mscal.Connector, service: str) -> mscal.Authentication:
    return connector.authentication(
        {
            "client_id": "budget-tests",
            "tenant_id": DOMAIN,
            "authority_host": service,
            "base_url": f"{service}/v1.0",
            "grant_type": "client_credentials",
            "client_secret": "any-secret-works-here",
        }
    )


def _hammer(connectors: list[mscal.Connector], service: str, calls: int) -> None:
    """`calls` requests spread over the users' mailboxes, 8 threads per connector."""
    sessions = [c.session(_app(c, service)) for c in connectors]
    try:
        work = [(sessions[i % len(sessions)], USERS[i % len(USERS)]) for i in range(calls)]
        with ThreadPoolExecutor(8 * len(sessions)) as pool:
            results = pool.map(
                lambda job: job[0].run(
                    "list_calendars", {"user_id": f"{job[1]}@{DOMAIN}", "select": ["id"]}
                ),
                work,
            )
            assert all(r["value"] for r in results)
    finally:
        for session in sessions:
            session.close()


def _latency(service: str, seconds: float) -> None:
    httpx2.post(f"{service}/_sandbox/faults", json={"fault": f"latency={seconds}"})


def test_two_workers_keep_at_most_four_in_flight_per_mailbox(
    store_url: str, service: str, stats: Callable[[], dict[str, Any]]
) -> None:
    _latency(service, 0.05)
    _hammer([mscal.load_connector(store=store_url) for _ in range(2)], service, 240)
    seen = stats()
    assert len(seen["peak_in_flight"]) == 3, seen
    assert max(seen["peak_in_flight"].values()) <= 4, seen
    assert seen["concurrency_refused"] == {}, seen


def test_without_a_shared_store_two_workers_overrun_the_limit(
    service: str, stats: Callable[[], dict[str, Any]]
) -> None:
    # The control: each connector keeps its own 4 per mailbox, so together they send up to 8,
    # and the service (as Graph) refuses what is over 4.
    _latency(service, 0.05)
    _hammer([mscal.load_connector(store="files") for _ in range(2)], service, 240)
    seen = stats()
    assert sum(seen["concurrency_refused"].values()) > 0, seen


def test_a_retry_after_seen_by_one_worker_pauses_the_mailbox_for_all(
    store_url: str, service: str, stats: Callable[[], dict[str, Any]]
) -> None:
    first, second = (mscal.load_connector(store=store_url) for _ in range(2))
    httpx2.post(
        f"{service}/_sandbox/faults",
        json={"fault": "status=429 retry-after=2 times=1 path=/users/alex"},
    )
    inputs = {"user_id": f"alex@{DOMAIN}", "select": ["id"]}
    with first.session(_app(first, service)) as a, second.session(_app(second, service)) as b:
        b.run("list_calendars", {"user_id": f"megan@{DOMAIN}"})  # a token, before timing
        thrown = threading.Thread(target=a.run, args=("list_calendars", inputs))
        thrown.start()
        time.sleep(0.5)  # the 429 has come back by now; the first worker is waiting it out
        started = time.monotonic()
        b.run("list_calendars", {"user_id": f"megan@{DOMAIN}"})
        other_mailbox = time.monotonic() - started
        started = time.monotonic()
        b.run("list_calendars", inputs)
        paused = time.monotonic() - started
        thrown.join()
    assert other_mailbox < 0.5, other_mailbox
    assert 1.0 <= paused <= 3.0, paused  # what was left of the 2 seconds


def _key(mailbox: str, token: str = "opaque", *, signed_in: bool = False) -> MailboxKey:
    origin = Origin.from_base_url("https://graph.microsoft.com/v1.0")
    naming = load_connector().spec.defaults.concurrency.signed_in_user
    principal = Principal(StaticToken(Secret(token)), origin, "app-1", naming)
    return MailboxKey("graph.microsoft.com:443/v1.0", mailbox, principal, signed_in=signed_in)


def _slots(store_url: str, **window: Any) -> RedisSlots:
    store = RedisStore(store_url)
    slots = store.slots(4, "^/(?:me|users/[^/]+)", window.get("requests", 0), window.get("s", 1))
    assert isinstance(slots, RedisSlots)
    return slots


def test_a_dead_holders_slots_come_back_when_their_lease_ends(store_url: str) -> None:
    dead = _slots(f"{store_url}&lease_seconds=1")
    key = _key("users/u1")
    stack = ExitStack()
    for _ in range(4):
        stack.enter_context(dead.for_thread(key))  # never given back: the worker died
    alive = _slots(store_url)
    assert alive.in_flight(key) == 4
    started = time.monotonic()
    with alive.for_thread(key):
        waited = time.monotonic() - started
    assert 0.5 <= waited <= 2.0, waited


def test_the_window_lets_through_its_requests_then_waits(store_url: str) -> None:
    slots = _slots(store_url, requests=3, s=1.0)
    key = _key("users/u2")
    started = time.monotonic()
    for _ in range(3):
        with slots.for_thread(key):
            pass
    assert time.monotonic() - started < 0.3
    with slots.for_thread(key):
        waited = time.monotonic() - started
    assert 0.8 <= waited <= 1.6, waited


def _jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.c2ln"


def test_me_and_the_same_user_by_id_are_one_mailbox() -> None:
    token = _jwt({"oid": "5A7B0C1D-0000-4000-8000-000000000001", "appid": "app-x"})
    me = _key("me", token, signed_in=True)
    by_id = _key("users/5a7b0c1d-0000-4000-8000-000000000001", token)
    assert (
        me.name()
        == by_id.name()
        == ("app-1|graph.microsoft.com:443/v1.0|users/5a7b0c1d-0000-4000-8000-000000000001")
    )
    assert _key("users/someone-else", token).name() != me.name()


def test_me_is_looked_up_once_when_the_token_is_not_a_jwt(
    store_url: str, service: str, stats: Callable[[], dict[str, Any]]
) -> None:
    connector = mscal.load_connector(store=store_url)
    form = {
        "client_id": "budget-tests",
        "tenant_id": DOMAIN,
        "authority_host": service,
        "base_url": f"{service}/v1.0",
    }
    adele = sign_in_without_browser(connector.spec, form, f"adele@{DOMAIN}")
    with connector.session(adele) as session:
        me = session.run("raw_http_request", {"method": "GET", "endpoint": "/me"})["body"]
        slot_of = session._wiring.slot_of
        assert slot_of is not None
        key_me, key_id = slot_of("/me/events"), slot_of(f"/users/{me['id']}/events")
        assert isinstance(key_me, MailboxKey) and isinstance(key_id, MailboxKey)
        before = stats()["requests"]
        assert key_me.name() == key_id.name() == f"budget-tests|{key_id.place}|users/{me['id']}"
        assert key_me.name() == key_id.name()
        assert stats()["requests"] == before  # the id was found once, on the first /me call


def test_an_unreachable_store_fails_the_call_and_sends_nothing(
    service: str, stats: Callable[[], dict[str, Any]]
) -> None:
    url = f"redis://:hunter2-password@127.0.0.1:{free_port()}/0"
    connector = mscal.load_connector(store=url)
    auth = _app(connector, service)
    before = stats()["requests"]
    with pytest.raises(mscal.StoreError) as caught:
        connector.run("list_calendars", {"user_id": f"alex@{DOMAIN}"}, auth=auth)
    message = str(caught.value)
    assert "could not take a mailbox slot" in message and "nothing was sent" in message
    assert "hunter2" not in message and "hunter2" not in repr(open_store(url))
    assert stats()["requests"] == before
