"""The Celery app the test workers run (`celery -A tests.state.celery_app worker`): Redis as
broker and result backend, the connector's ready task, acks_late redelivery after 10 s."""

from __future__ import annotations

import json
import os
from typing import Any

from celery import Celery

app = Celery(
    "mscal-tests",
    broker=os.environ.get("MSCAL_TEST_BROKER", "redis://127.0.0.1:6379/1"),
    backend=os.environ.get("MSCAL_TEST_BACKEND", "redis://127.0.0.1:6379/2"),
    include=["mscal.integrations.celery"],
)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=1,
    # A killed worker's unacknowledged messages are delivered again after 10 s (the others
    # look for them every second).
    broker_transport_options={
        "visibility_timeout": 10,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    },
    result_expires=600,
    worker_hijack_root_logger=False,
)


@app.task(bind=True, name="tests.record_change")  # type: ignore[untyped-decorator]
def record_change(self: Any, change: dict[str, Any]) -> None:
    """What a workflow would do with a trigger's change: here, keep it in a Redis list named
    after the queue it came on (one list per test run)."""
    import redis  # noqa: PLC0415  (only the workers run this)

    queue = (self.request.delivery_info or {}).get("routing_key")
    client = redis.Redis.from_url(os.environ["MSCAL_TEST_BACKEND"])
    client.rpush(f"changes:{queue}", json.dumps(change))
