"""A ready Celery task: `mscal.run_operation(operation, inputs, auth=NAME)`.

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
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from mscal.errors import ConnectorError
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
