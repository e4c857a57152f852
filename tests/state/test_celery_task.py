"""The ready Celery task on a real worker (Redis as broker): retries as the error says, never
for bad inputs, and one event for one task however often it runs."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator

import httpx2
import pytest
import redis

from mscal.errors import (
    AuthError,
    GraphError,
    InputError,
    StoreError,
    ThrottlingError,
    TransportError,
)
from mscal.integrations import celery as integration
from mscal.integrations.celery import run_operation
from mscal.integrations.runner import BACKOFF_SECONDS, verdict
from mscal.sandbox.service import Sandbox
from tests.e2e.trigger_scenario import timed_event
from tests.state.celery_workers import CeleryWorkers
from tests.state.test_celery_workers import create_inputs, events_made, save_app_authentication

MEGAN = "megan@contoso.onmicrosoft.com"


@pytest.fixture(scope="module")
def worker(redis_url: str, service: str) -> Iterator[CeleryWorkers]:
    store_url = f"{redis_url}?prefix=k{uuid.uuid4().hex[:8]}:"
    save_app_authentication(store_url, service)
    with CeleryWorkers(redis_url, store_url, workers=1, threads=2) as workers:
        yield workers


def test_a_throttled_task_is_retried_after_retry_after_and_makes_one_event(
    worker: CeleryWorkers, service: str, sandbox: Sandbox
) -> None:
    httpx2.delete(f"{service}/_sandbox/faults")
    # Four 429s: the call's own three retries wait 1 s each, then the task is retried by
    # Celery with countdown = retry_after (1 s), and that attempt gets through.
    httpx2.post(
        f"{service}/_sandbox/faults",
        json={"fault": "status=429 retry-after=1 times=4 path=/users/megan"},
    )
    subject = f"throttled-{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    result = worker.send("create_event", create_inputs(MEGAN, subject), "App")
    assert result.get(timeout=60)["subject"] == subject
    assert 3.5 <= time.monotonic() - started <= 15
    assert events_made(sandbox, subject) == {subject: 1}


def test_bad_inputs_fail_at_once_and_are_never_retried(worker: CeleryWorkers, service: str) -> None:
    before = httpx2.get(f"{service}/_sandbox/stats").json()["requests"]
    result = worker.send("create_event", {"user_id": MEGAN, "event": "not an object"}, "App")
    with pytest.raises(Exception) as failed:
        result.get(timeout=30)
    assert "event" in str(failed.value)
    assert result.state == "FAILURE"
    assert httpx2.get(f"{service}/_sandbox/stats").json()["requests"] == before


def test_an_unknown_authentication_fails_and_is_never_retried(worker: CeleryWorkers) -> None:
    result = worker.send("list_calendars", {}, "Nobody")
    with pytest.raises(Exception, match="no authentication named 'Nobody'"):
        result.get(timeout=30)
    assert result.state == "FAILURE"


def test_running_one_task_again_makes_no_second_event(
    worker: CeleryWorkers, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a redelivery (acks_late after a killed worker) does: the same task id, run twice.
    monkeypatch.setenv("MSCAL_STORE", worker.store_url)
    integration.use_connector(None)
    subject = f"again-{uuid.uuid4().hex[:6]}"
    task_id = str(uuid.uuid4())
    first = run_operation.apply(
        args=["create_event", create_inputs(MEGAN, subject), "App"], task_id=task_id
    ).get()
    second = run_operation.apply(
        args=["create_event", create_inputs(MEGAN, subject), "App"], task_id=task_id
    ).get()
    assert first["id"] == second["id"] and first["transactionId"] == second["transactionId"]
    other = run_operation.apply(args=["create_event", create_inputs(MEGAN, subject), "App"])
    assert other.get()["id"] != first["id"]
    assert events_made(sandbox, subject) == {subject: 2}
    integration.use_connector(None)


def test_which_failures_are_tried_again_and_when() -> None:
    throttled = ThrottlingError(status_code=429, code="TooManyRequests", message="m", retry_after=7)
    assert verdict(throttled, 0).retry and verdict(throttled, 0).delay == 7
    for passing in (TransportError("reset"), StoreError("down")):
        assert verdict(passing, 0).delay == BACKOFF_SECONDS[0]
        assert verdict(passing, 99).delay == BACKOFF_SECONDS[-1]
    assert verdict(GraphError(status_code=502, code="x", message="m"), 1).retry
    for final in (
        InputError("event", "type", "must be an object"),
        AuthError("invalid_client"),
        GraphError(status_code=403, code="ErrorAccessDenied", message="m"),
        GraphError(status_code=404, code="ErrorItemNotFound", message="m"),
    ):
        assert verdict(final, 0).retry is False


def test_poll_trigger_sends_each_change_once_as_a_task(
    worker: CeleryWorkers, sandbox: Sandbox, redis_url: str
) -> None:
    # Celery beat would send this every minute; here it is sent by hand, with changes between.
    def poll() -> int:
        result = worker.app.send_task(
            "mscal.poll_trigger",
            args=["event_created", {"user_id": MEGAN}, "App", "tests.record_change"],
            queue=worker.queue,
        )
        return int(result.get(timeout=60))

    received = redis.Redis.from_url(worker.env["MSCAL_TEST_BACKEND"])
    changes_key = f"changes:{worker.queue}"
    assert poll() == 0  # the baseline
    owner = sandbox.tenant.user_owner(MEGAN)
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    made = []
    for number in range(3):
        body = timed_event(f"Polled {number}", start, 30)
        made.append(sandbox.tenant.create_event(owner, None, body)[0]["id"])
    assert poll() == 3
    assert poll() == 0  # the state moved on, in the store
    deadline = time.monotonic() + 30
    while received.llen(changes_key) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    changes = [json.loads(raw) for raw in received.lrange(changes_key, 0, -1)]
    assert sorted(c["event_id"] for c in changes) == sorted(made)
    assert {(c["trigger"], c["change"]) for c in changes} == {("event_created", "created")}
    with pytest.raises(Exception) as refused:  # no task to send the changes to
        worker.app.send_task(
            "mscal.poll_trigger", args=["event_created", {}, "App"], queue=worker.queue
        ).get(timeout=60)
    assert "on_change" in str(refused.value)
