"""Ready Temporal activities: `mscal.run_operation` runs an operation by name with inputs and
a stored authentication; `mscal.poll_trigger` and `mscal.commit_trigger` run a trigger's rounds
from a workflow (see `TriggerRequest`).

    worker = Worker(client, task_queue="calendar", activities=[run_operation], ...)
    # in a workflow:
    await workflow.execute_activity(
        run_operation,
        OperationRequest("create_event", {"event": {...}}, auth="Production"),
        start_to_close_timeout=timedelta(minutes=5),
    )

Errors come back as `ApplicationError`s whose `type` is the connector's error class and whose
details are its `to_dict()`: bad inputs and a refused or missing authentication are
`non_retryable`; a `ThrottlingError` asks for the next attempt after its `retry_after`
(`next_retry_delay`); the network, the store and Graph's 5xx are left to the retry policy.
The workflow id and activity id (the same on every attempt) seed the ids a create sends (its
`transactionId`), so a retried activity makes one event.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from mscal.errors import ConnectorError
from mscal.integrations.runner import StoredRunner, verdict

runner = StoredRunner()
T = TypeVar("T")


@dataclass
class OperationRequest:
    """What the activity runs: an operation, its inputs, the stored authentication's name."""

    operation: str
    inputs: dict[str, Any] = field(default_factory=dict)
    auth: str = ""
    base_url: str | None = None


def use_connector(connector: Any) -> None:
    """Run activities with this connector instead of the shipped one (see celery.py)."""
    global runner  # noqa: PLW0603  (the worker's one runner)
    runner = StoredRunner(connector)


def application_error(error: ConnectorError, attempt: int) -> ApplicationError:
    """The connector's error as Temporal's: its class as `type`, its details, and whether and
    when to try again."""
    decided = verdict(error, attempt)
    throttled = decided.retry and getattr(error, "retry_after", None) is not None
    return ApplicationError(
        str(error),
        error.to_dict(),
        type=type(error).__name__,
        non_retryable=not decided.retry,
        next_retry_delay=dt.timedelta(seconds=decided.delay)
        if throttled and decided.delay
        else None,
    )


@activity.defn(name="mscal.run_operation")
async def run_operation(request: OperationRequest) -> Any:
    """Run the request's operation; the result is the operation's output (JSON)."""
    info = activity.info()
    key = f"temporal:{info.workflow_namespace}:{info.workflow_id}:{info.activity_id}"
    try:
        return await runner.arun(
            request.operation, request.inputs, request.auth, key=key, base_url=request.base_url
        )
    except ConnectorError as exc:
        raise application_error(exc, info.attempt - 1) from None


@dataclass
class TriggerRequest:
    """A trigger on a stored authentication. A workflow (one per trigger) polls it, records
    the changes (starting what they start), then commits the round's `token`:

        round = await workflow.execute_activity(poll_trigger, request, ...)
        for change in round.changes: ...
        await workflow.execute_activity(commit_trigger, TriggerCommit(request, round.token), ...)

    Until the commit, a poll gives the same changes with the same `dedupe_key`s, so an activity
    retried after a lost worker loses nothing."""

    trigger: str
    inputs: dict[str, Any] = field(default_factory=dict)
    auth: str = ""
    base_url: str | None = None


@dataclass
class TriggerRound:
    changes: list[dict[str, Any]]
    token: str


@dataclass
class TriggerCommit:
    request: TriggerRequest
    token: str


@activity.defn(name="mscal.poll_trigger")
async def poll_trigger(request: TriggerRequest) -> TriggerRound:
    """One round: its changes (trigger, change, event_id, dedupe_key, event) and its token."""
    changes, token = await _off_the_loop(runner.poll_aside, request)
    return TriggerRound([change.to_dict() for change in changes], token)


@activity.defn(name="mscal.commit_trigger")
async def commit_trigger(commit: TriggerCommit) -> bool:
    """Save the round's state; False if it was saved already or a later poll replaced it."""
    saved: bool = await _off_the_loop(runner.commit, commit.request, commit.token)
    return saved


async def _off_the_loop(call: Callable[..., T], request: TriggerRequest, *extra: Any) -> T:
    """A trigger call of the runner (sync: the store and the session are) on a thread, its
    errors as Temporal's."""
    try:
        return await asyncio.to_thread(
            call, request.trigger, request.inputs, request.auth, *extra, base_url=request.base_url
        )
    except ConnectorError as exc:
        raise application_error(exc, activity.info().attempt - 1) from None
