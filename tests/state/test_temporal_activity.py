"""The Temporal activity under temporalio.testing.ActivityEnvironment (no server), against the
local service with a Redis store; and the async side of the shared mailbox budget."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

import mscal
from mscal.errors import InputError, ThrottlingError
from mscal.integrations import temporal
from mscal.integrations.temporal import (
    OperationRequest,
    TriggerCommit,
    TriggerRequest,
    TriggerRound,
    application_error,
    run_operation,
)
from mscal.sandbox.service import Sandbox
from mscal.state.stored import stored_connection
from tests.e2e.trigger_scenario import timed_event
from tests.state.test_celery_workers import create_inputs, events_made, save_app_authentication

MEGAN = "megan@contoso.onmicrosoft.com"
USERS = [f"{n}@contoso.onmicrosoft.com" for n in ("adele", "alex", "megan")]


@pytest.fixture
def connector(store_url: str, service: str) -> Iterator[mscal.Connector]:
    save_app_authentication(store_url, service)
    httpx2.delete(f"{service}/_sandbox/faults")
    connector = mscal.load_connector(store=store_url)
    temporal.use_connector(connector)
    yield connector
    temporal.use_connector(None)


def _environment(activity_id: str, attempt: int = 1) -> ActivityEnvironment:
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(
        environment.info, activity_id=activity_id, workflow_id="wf-1", attempt=attempt
    )
    return environment


def test_an_activity_retried_with_its_id_makes_one_event(
    connector: mscal.Connector, sandbox: Sandbox
) -> None:
    subject = f"activity-{uuid.uuid4().hex[:6]}"
    request = OperationRequest("create_event", create_inputs(MEGAN, subject), auth="App")
    first = asyncio.run(_environment("act-1").run(run_operation, request))
    again = asyncio.run(_environment("act-1", attempt=2).run(run_operation, request))
    assert first["id"] == again["id"]
    other = asyncio.run(_environment("act-2").run(run_operation, request))
    assert other["id"] != first["id"]
    assert events_made(sandbox, subject) == {subject: 2}


def _failure(request: OperationRequest) -> ApplicationError:
    with pytest.raises(ApplicationError) as raised:
        asyncio.run(_environment(f"act-{uuid.uuid4().hex}").run(run_operation, request))
    return raised.value


def test_bad_inputs_and_a_missing_authentication_are_not_retryable(
    connector: mscal.Connector, service: str
) -> None:
    before = httpx2.get(f"{service}/_sandbox/stats").json()["requests"]
    bad = _failure(OperationRequest("create_event", {"event": "text"}, auth="App"))
    assert bad.type == "InputError" and bad.non_retryable
    assert bad.details[0]["field"] == "event"
    missing = _failure(OperationRequest("list_calendars", {}, auth="Nobody"))
    assert missing.type == "InputError" and missing.non_retryable
    assert httpx2.get(f"{service}/_sandbox/stats").json()["requests"] == before


def test_throttling_asks_for_the_next_attempt_after_retry_after(
    connector: mscal.Connector, service: str
) -> None:
    httpx2.post(
        f"{service}/_sandbox/faults",
        json={"fault": "status=429 retry-after=1 times=4 path=/users/megan"},
    )
    error = _failure(OperationRequest("list_calendars", {"user_id": MEGAN}, auth="App"))
    assert error.type == "ThrottlingError" and not error.non_retryable
    assert error.next_retry_delay == dt.timedelta(seconds=1)
    assert error.details[0]["status_code"] == 429


def test_the_mapping_of_each_kind_of_error() -> None:
    throttled = application_error(
        ThrottlingError(status_code=429, code="TooManyRequests", message="m", retry_after=30), 0
    )
    assert throttled.next_retry_delay == dt.timedelta(seconds=30) and not throttled.non_retryable
    refused = application_error(InputError("top", "maximum", "must be at most 1000"), 0)
    assert refused.non_retryable and refused.next_retry_delay is None
    assert refused.details[0] == {
        "type": "InputError",
        "message": "top: must be at most 1000",
        "field": "top",
        "rule": "maximum",
    }
    network = application_error(mscal.TransportError("connection reset"), 0)
    assert not network.non_retryable and network.next_retry_delay is None  # the policy's


def test_async_workers_share_the_budget_too(
    store_url: str, service: str, connector: mscal.Connector
) -> None:
    httpx2.post(f"{service}/_sandbox/faults", json={"fault": "latency=0.05"})

    async def worker(calls: int) -> list[Any]:
        own = mscal.load_connector(store=store_url)  # its own Redis clients and slots
        tokens, authentication = stored_connection(own.spec, own.store.authentications, "App")
        async with own.async_session(tokens, base_url=authentication.base_url) as session:
            return await asyncio.gather(
                *(
                    session.run("list_calendars", {"user_id": USERS[i % 3], "select": ["id"]})
                    for i in range(calls)
                )
            )

    async def both() -> list[list[Any]]:
        return await asyncio.gather(worker(60), worker(60))

    assert all(r["value"] for rs in asyncio.run(both()) for r in rs)
    stats = httpx2.get(f"{service}/_sandbox/stats").json()
    httpx2.delete(f"{service}/_sandbox/faults")
    assert max(stats["peak_in_flight"].values()) <= 4, stats
    assert stats["concurrency_refused"] == {}, stats


def test_a_trigger_round_is_saved_only_by_its_commit(
    connector: mscal.Connector, sandbox: Sandbox
) -> None:
    request = TriggerRequest("event_created", {"user_id": MEGAN}, auth="App")
    commit = temporal.commit_trigger

    def poll() -> TriggerRound:
        environment = _environment(f"poll-{uuid.uuid4().hex[:6]}")
        result: TriggerRound = asyncio.run(environment.run(temporal.poll_trigger, request))
        return result

    def committed(token: str) -> bool:
        environment = _environment(f"commit-{uuid.uuid4().hex[:6]}")
        return bool(asyncio.run(environment.run(commit, TriggerCommit(request, token))))

    baseline = poll()
    assert baseline.changes == [] and committed(baseline.token)
    owner = sandbox.tenant.user_owner(MEGAN)
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    made = set()
    for number in range(2):
        body = timed_event(f"Temporal {number}", start)
        made.add(sandbox.tenant.create_event(owner, None, body)[0]["id"])
    first = poll()
    assert {c["event_id"] for c in first.changes} == made
    again = poll()  # the first poll's result was lost (a worker gone): the same changes
    assert [c["dedupe_key"] for c in again.changes] == [c["dedupe_key"] for c in first.changes]
    assert not committed(first.token)  # replaced by the later poll: saves nothing
    assert committed(again.token)
    assert not committed(again.token)  # a commit that comes twice changes nothing
    assert poll().changes == []
