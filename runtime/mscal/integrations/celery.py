"""Ready Celery tasks: `mscal.run_operation(operation, inputs, auth=NAME)`, and
`mscal.poll_trigger(trigger, inputs, auth=NAME, on_change=TASK)` for Celery beat to run.

    app = Celery("crm", broker="redis://…", include=["mscal.integrations.celery"])
    run_operation.delay("create_event", {"user_id": "…", "event": {…}}, auth="Production")

The worker runs the operation with the stored authentication `auth` (from the store
`MSCAL_STORE` names; with Redis every worker shares the mailbox budget and one refresh).

- A `ThrottlingError` is retried with `countdown` = its `retry_after`; a network or store
  failure, or a 5xx, after a backoff; anything else (`InputError`, a refused or missing
  authentication, another 4xx) fails at once and is never retried.
- The task is `acks_late` and `reject_on_worker_lost`: a worker killed mid-task leaves the
  message to be delivered again. A create's `transactionId` is derived from the task id (the
  same on every retry and redelivery), so Graph makes one event however often it runs.
- `poll_trigger` runs one round of a trigger and sends each change (a JSON object: trigger,
  change, event_id, dedupe_key, event) as the task `on_change`, on this task's queue unless
  `queue` is given, before the trigger's state is saved in the store: a round that fails is run
  again from the same state, and a change sent twice (a worker lost between sending and saving)
  carries the same `dedupe_key`.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from mscal.errors import ConnectorError, InputError
from mscal.integrations.runner import StoredRunner, verdict

# Enough for a throttled mailbox to drain; a task past it fails with the last error.
MAX_RETRIES = 12

runner = StoredRunner()


def use_connector(connector: Any) -> None:
    """Run tasks with this connector (a spec of your own, a store object) instead of the
    shipped one with the store `MSCAL_STORE` names."""
    global runner  # noqa: PLW0603  (the worker's one runner)
    runner.close()
    runner = StoredRunner(connector)


# celery ships no type information: the decorator is untyped.
@shared_task(  # type: ignore[untyped-decorator]
    bind=True,
    name="mscal.run_operation",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def run_operation(
    self: Task,
    operation: str,
    inputs: dict[str, Any] | None = None,
    auth: str = "",
    base_url: str | None = None,
) -> Any:
    """Run `operation` with `inputs` and the stored authentication `auth`; the result is
    the operation's output (JSON)."""
    try:
        return runner.run(
            operation, inputs, auth, key=f"celery:{self.request.id}", base_url=base_url
        )
    except ConnectorError as exc:
        decided = verdict(exc, self.request.retries)
        if not decided.retry:
            raise
        raise self.retry(exc=exc, countdown=decided.delay) from None


@shared_task(  # type: ignore[untyped-decorator]
    bind=True,
    name="mscal.poll_trigger",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def poll_trigger(
    self: Task,
    trigger: str,
    inputs: dict[str, Any] | None = None,
    auth: str = "",
    on_change: str = "",
    queue: str | None = None,
    base_url: str | None = None,
) -> int:
    """One round of `trigger` with the stored authentication `auth`: each change is sent as
    the task `on_change` (its one argument: the change) before the state is saved; the result
    is how many were sent."""
    if not on_change:
        raise InputError("on_change", "required", "name the task each change is sent to")
    routing = queue or (self.request.delivery_info or {}).get("routing_key")

    def emit(changes: list[Any]) -> None:
        for change in changes:
            self.app.send_task(on_change, args=[change.to_dict()], queue=routing)

    try:
        return len(runner.poll(trigger, inputs, auth, emit, base_url=base_url))
    except ConnectorError as exc:
        decided = verdict(exc, self.request.retries)
        if not decided.retry:
            raise
        raise self.retry(exc=exc, countdown=decided.delay) from None
