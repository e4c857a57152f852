"""Trigger state and leases, the same contract on both stores."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mscal.state.contract import StateStore
from mscal.state.files import FileStore
from mscal.state.leases import RedisLease
from mscal.state.redis_store import RedisStore


@pytest.fixture(params=["files", "redis"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[StateStore, StateStore]:
    """Two handles on one store, as two workers have."""
    if request.param == "files":
        return FileStore(triggers=tmp_path), FileStore(triggers=tmp_path)
    url = request.getfixturevalue("store_url")
    return RedisStore(url), RedisStore(url)


def test_state_is_json_by_key_and_seen_by_every_worker(
    stores: tuple[StateStore, StateStore],
) -> None:
    first, second = stores
    assert first.triggers.load("events-of/alex") is None
    first.triggers.save("events-of/alex", {"delta_link": "https://x/delta?token=1", "seen": [1]})
    assert second.triggers.load("events-of/alex") == {
        "delta_link": "https://x/delta?token=1",
        "seen": [1],
    }
    assert second.triggers.load("events-of/megan") is None


def test_one_lease_holder_at_a_time(stores: tuple[StateStore, StateStore]) -> None:
    first, second = stores
    with first.triggers.lease("t1", 30) as mine:
        assert mine.held and mine.renew()
        with second.triggers.lease("t1", 30) as theirs:
            assert not theirs.held and not theirs.renew()
        with second.triggers.lease("t2", 30) as other_trigger:
            assert other_trigger.held
    with second.triggers.lease("t1", 30) as after_release:
        assert after_release.held


def test_a_redis_lease_of_a_dead_holder_ends_with_its_time(store_url: str) -> None:
    dead, alive = RedisStore(store_url), RedisStore(store_url)
    key = f"{dead.connection.prefix}trigger:t3:lease"
    lease = RedisLease(dead.connection, key, "dead-worker", 0.5)
    assert lease.take()  # and never given back: the holder died
    with alive.triggers.lease("t3", 30) as early:
        assert not early.held
    time.sleep(0.6)
    with alive.triggers.lease("t3", 30) as later:
        assert later.held
    assert not lease.renew()  # the dead holder cannot take it back
