"""Real Celery worker processes for tests and the bench: each `celery worker` a process of its
own (a thread pool inside), on one queue of its own per run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.state.celery_app import app

ROOT = Path(__file__).resolve().parents[2]


class CeleryWorkers:
    def __init__(
        self, redis_url: str, store_url: str, *, workers: int, threads: int, prefetch: int = 1
    ) -> None:
        base = redis_url.rsplit("/", 1)[0]
        self.env = {
            **os.environ,
            "MSCAL_STORE": store_url,
            "MSCAL_TEST_BROKER": f"{base}/1",
            "MSCAL_TEST_BACKEND": f"{base}/2",
        }
        self.store_url = store_url
        self.queue = f"mscal-{uuid.uuid4().hex[:8]}"
        self.count, self.threads, self.prefetch = workers, threads, prefetch
        self.processes: list[subprocess.Popen[bytes]] = []
        os.environ.update({k: self.env[k] for k in ("MSCAL_TEST_BROKER", "MSCAL_TEST_BACKEND")})
        app.conf.update(broker_url=self.env["MSCAL_TEST_BROKER"])
        app.conf.update(result_backend=self.env["MSCAL_TEST_BACKEND"])
        self.app = app

    def __enter__(self) -> CeleryWorkers:
        for number in range(self.count):
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable, "-m", "celery", "-A", "tests.state.celery_app",
                        "worker", "--pool", "threads", "--concurrency", str(self.threads),
                        "--prefetch-multiplier", str(self.prefetch),
                        "--queues", self.queue, "--hostname", f"w{number}-{self.queue}@test",
                        "--without-gossip", "--without-mingle", "--without-heartbeat",
                        "--loglevel", "WARNING",
                    ],
                    cwd=ROOT,
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            replies = self.app.control.ping(timeout=0.5)
            if sum(1 for r in replies for name in r if self.queue in name) >= self.count:
                return self
        self.__exit__(None, None, None)
        raise RuntimeError("the Celery workers did not start")

    def send(
        self, operation: str, inputs: dict[str, Any], auth: str, task_id: str | None = None
    ) -> Any:
        return self.app.send_task(
            "mscal.run_operation", args=[operation, inputs, auth], queue=self.queue,
            task_id=task_id,
        )  # fmt: skip

    def kill(self, number: int) -> None:
        os.kill(self.processes[number].pid, signal.SIGKILL)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
