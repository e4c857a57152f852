"""The ready Celery task on a real worker (Redis as broker): retries as the error says, never
for bad inputs, and one event for one task however often it runs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx2
import pytest

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
