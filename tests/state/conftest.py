"""A real redis-server for the module, a fresh key prefix for each test, and a local Graph
service whose every request takes a little network time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox, create_sandbox
from tests.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with RedisServer() as url:
        yield url


@pytest.fixture
def store_url(redis_url: str) -> str:
    """The server, with a prefix of this test's own (so tests never see each other's keys)."""
    return f"{redis_url}?prefix=t{uuid.uuid4().hex[:8]}:"


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return create_sandbox(":memory:", seed=True)


@pytest.fixture(scope="module")
def service(sandbox: Sandbox) -> Iterator[str]:
    with BackgroundServer(sandbox.app) as url:
        yield url


@pytest.fixture
def stats(service: str) -> Any:
    """The service's counters, read afresh (faults and counters cleared first)."""
    httpx2.delete(f"{service}/_sandbox/faults")

    def read() -> dict[str, Any]:
        answer: dict[str, Any] = httpx2.get(f"{service}/_sandbox/stats").json()
        return answer

    return read
