"""One refresh across workers: tokens of a named authentication kept in a real Redis."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import pytest
import redis

import mscal
from mscal.auth.store import StoredAuthentication
from mscal.state.redis_store import RedisStore
from mscal.state.stored import stored_connection

DOMAIN = "contoso.onmicrosoft.com"
SECRET = "any-secret-works-here"


def _save(store_url: str, service: str) -> None:
    RedisStore(store_url).authentications.save(
        StoredAuthentication(
            "App",
            {
                "client_id": "token-tests",
                "tenant_id": DOMAIN,
                "authority_host": service,
                "base_url": f"{service}/v1.0",
                "grant_type": "client_credentials",
            },
            {"client_secret": SECRET},
        )
    )


def _worker(store_url: str) -> Callable[[], Any]:
    """A worker of its own: its own connector, Redis connection and token source."""
    connector = mscal.load_connector(store=store_url)
    tokens, authentication = stored_connection(
        connector.spec, connector.store.authentications, "App"
    )
    session = connector.session(tokens, base_url=authentication.base_url)
    return lambda: session.run("list_calendars", {"user_id": f"alex@{DOMAIN}", "select": ["id"]})


def _grants(stats: Callable[[], dict[str, Any]]) -> int:
    return int(stats()["token_requests"].get("client_credentials", 0))


def _all_at_once(workers: list[Callable[[], Any]]) -> None:
    with ThreadPoolExecutor(len(workers)) as pool:
        assert all(r["value"] for r in pool.map(lambda run: run(), workers))


def test_workers_share_one_token_and_one_refresh(
    store_url: str, service: str, stats: Callable[[], dict[str, Any]]
) -> None:
    _save(store_url, service)
    before = _grants(stats)
    workers = [_worker(store_url) for _ in range(6)]
    _all_at_once(workers)
    assert _grants(stats) - before == 1
    # The token dies at the service: every worker that holds it gets a 401.
    httpx2.post(f"{service}/_sandbox/faults", json={"fault": "expire-token times=1"})
    _all_at_once(workers * 3)
    assert _grants(stats) - before == 2
    stored = RedisStore(store_url).authentications.load("App").tokens
    assert stored["access_token"] and stored["expires_at"] > time.time()


def test_a_dead_holder_frees_the_refresh_lock_when_its_lease_ends(
    store_url: str, service: str, stats: Callable[[], dict[str, Any]]
) -> None:
    url = f"{store_url}&refresh_lease_seconds=1"
    _save(url, service)
    store = RedisStore(url)
    prefix = store.connection.prefix
    # A worker took the lock and died: only its lease keeps it.
    before = _grants(stats)
    raw = redis.Redis.from_url(store.connection.url)
    assert raw.set(f"{prefix}auth:App:refresh", "dead-worker", nx=True, px=1000)
    started = time.monotonic()
    _worker(url)()
    waited = time.monotonic() - started
    assert 0.7 <= waited <= 3.0, waited
    assert _grants(stats) - before == 1


def test_secrets_stay_out_of_reprs_errors_and_logs(
    store_url: str, service: str, caplog: pytest.LogCaptureFixture
) -> None:
    _save(store_url, service)
    caplog.set_level(logging.DEBUG)
    _worker(store_url)()
    store = RedisStore(store_url)
    token = store.authentications.load("App").tokens["access_token"]
    shown = " ".join(
        [
            repr(store),
            repr(store.authentications.load("App")),
            repr(store.authentications.persistence("App")),
            caplog.text,
        ]
    )
    assert SECRET not in shown and token not in shown


def test_many_threads_of_one_worker_wait_for_the_same_refresh(
    store_url: str, service: str, stats: Callable[[], dict[str, Any]]
) -> None:
    _save(store_url, service)
    before = _grants(stats)
    run = _worker(store_url)
    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _grants(stats) - before == 1
