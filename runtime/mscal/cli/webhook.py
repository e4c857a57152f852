"""`mscal watch --webhook PUBLIC_URL --listen HOST:PORT`: the notification endpoint served with
uvicorn on HOST:PORT (PUBLIC_URL is where Graph reaches it, e.g. through a tunnel), the
subscription kept alive, a round when notified and a safety round every --interval seconds."""

from __future__ import annotations

import threading
import time

from mscal.cli.usage import UsageError
from mscal.triggers.watch import Watch
from mscal.triggers.webhook_mode import WebhookMode


def run_webhook(watch: Watch, public_url: str, listen: str, interval: float | None) -> int:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--listen {listen!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    try:
        # Imported here: only webhook mode serves HTTP (uvicorn comes with the webhook extra).
        import uvicorn  # noqa: PLC0415
    except ModuleNotFoundError:
        raise UsageError(
            "mscal watch --webhook needs a web server (uvicorn is missing): "
            "pip install 'microsoft-calendar-connector[webhook]'"
        ) from None
    mode = WebhookMode(watch, public_url)
    watch.interval = interval or mode.spec.safety_round_seconds
    config = uvicorn.Config(
        mode.app, host=host.strip("[]"), port=int(port), log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="mscal-webhook")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise UsageError(f"--listen {listen}: cannot listen there")
        time.sleep(0.01)
    try:
        mode.start()
        watch.run()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return 0
