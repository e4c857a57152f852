"""The Celery app the test workers run (`celery -A tests.state.celery_app worker`): Redis as
broker and result backend, the connector's ready task, acks_late redelivery after 10 s."""

from __future__ import annotations

import os

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
