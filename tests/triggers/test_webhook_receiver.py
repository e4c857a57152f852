"""The notification endpoint a builder mounts: the validation handshake, clientState checked
(a forged or bare notification answered 202 and dropped, and logged), the body capped, lifecycle
events queued; and a notification's `resource` never makes the runtime fetch anything: only
the delta round on the Graph origin goes out."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from mscal.triggers.state import MemoryStateStore
from mscal.triggers.watch import Watch
from mscal.triggers.webhook import Answer, NotificationReceiver
from mscal.triggers.webhook_mode import WebhookMode
from tests.conftest import GRAPH

NOTIFICATION = (
    mscal.load_connector().spec.trigger("event_created").source["subscription"]["notification"]
)


class Calls:
    def __init__(self) -> None:
        self.changes = 0
        self.lifecycle: list[str] = []


def _receiver(secret: str | None = "s3cret") -> tuple[NotificationReceiver, Calls]:
    calls = Calls()

    def changed() -> None:
        calls.changes += 1

    receiver = NotificationReceiver(NOTIFICATION, lambda: secret, changed, calls.lifecycle.append)
    return receiver, calls


def _body(**item: Any) -> bytes:
    return json.dumps(
        {"value": [{"subscriptionId": "sub1", "changeType": "updated", **item}]}
    ).encode()


def test_the_validation_handshake_answers_the_decoded_token_as_text() -> None:
    receiver, calls = _receiver()
    answer = receiver.handle("POST", "validationToken=Validation%3A+Testing+client+app", b"")
    assert (answer.status, answer.content_type) == (200, "text/plain; charset=utf-8")
    assert answer.body == b"Validation: Testing client app"
    assert calls.changes == 0


def test_a_notification_is_queued_and_answered_202() -> None:
    receiver, calls = _receiver()
    assert receiver.handle("POST", "", _body(clientState="s3cret")).status == 202
    assert calls.changes == 1
    lifecycle = _body(clientState="s3cret", lifecycleEvent="subscriptionRemoved")
    assert receiver.handle("POST", "", lifecycle).status == 202
    assert calls.lifecycle == ["subscriptionRemoved"] and calls.changes == 1


@pytest.mark.parametrize("client_state", [None, "wrong", "s3cret-and-more", 7])
def test_a_notification_without_the_right_client_state_is_dropped_and_logged(
    client_state: Any, caplog: pytest.LogCaptureFixture
) -> None:
    receiver, calls = _receiver()
    item = {} if client_state is None else {"clientState": client_state}
    with caplog.at_level(logging.WARNING, logger="mscal.triggers.webhook"):
        answer = receiver.handle("POST", "", _body(**item))
    assert answer.status == 202  # a forger learns nothing
    assert calls.changes == 0 and receiver.dropped == 1
    assert "clientState missing or wrong (subscription sub1)" in caplog.text
    assert "s3cret" not in caplog.text


def test_no_subscription_yet_means_nothing_is_genuine() -> None:
    receiver, calls = _receiver(secret=None)
    assert receiver.handle("POST", "", _body(clientState="anything")).status == 202
    assert calls.changes == 0


def test_the_body_is_capped_and_bad_bodies_refused() -> None:
    receiver, _ = _receiver()
    big = b"x" * (int(NOTIFICATION["max_body_bytes"]) + 1)
    assert receiver.handle("POST", "", big).status == 413
    assert receiver.handle("POST", "", b"{not json").status == 400
    assert receiver.handle("GET", "", b"").status == 405


def test_over_asgi_the_body_is_read_only_up_to_the_cap() -> None:
    receiver, calls = _receiver()
    sent: list[dict[str, Any]] = []
    chunk = b"x" * 65536
    chunks = iter([*([chunk] * 100), b""])
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        body = next(chunks)
        read += 1
        return {"type": "http.request", "body": body, "more_body": bool(body)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "query_string": b""}
    asyncio.run(receiver(scope, receive, send))
    assert sent[0]["status"] == 413
    assert read <= int(NOTIFICATION["max_body_bytes"]) // len(chunk) + 1  # stopped at the cap
    assert calls.changes == 0


def test_a_notification_resource_is_never_fetched(httpx2_mock: HTTPXMock) -> None:
    connector = mscal.load_connector()
    trigger = connector.trigger(
        "event_created", {}, auth=connector.authentication(access_token="t")
    )
    watch = Watch(trigger, MemoryStateStore(), lambda changes: None, interval=60)
    mode = WebhookMode(watch, "https://hooks.example.com/notify")
    delta = {"value": [], "@odata.deltaLink": f"{GRAPH}/me/calendarView/delta?$deltatoken=d1"}
    httpx2_mock.add_response(json=delta, is_reusable=True)
    watch.round()
    watch.update(lambda state: state.update(subscription={"client_state": "s3cret"}))
    mode._client_state = "s3cret"
    forged_target = "https://evil.example/steal?token=1"
    answer = mode.receiver.handle(
        "POST", "", _body(clientState="s3cret", resource=forged_target, resourceData={"id": "x"})
    )
    assert answer.status == 202
    watch.round()  # the round the notification asked for
    urls = [str(r.url) for r in httpx2_mock.get_requests()]
    assert len(urls) == 2
    assert all(u.startswith(f"{GRAPH}/me/calendarView/delta") for u in urls)


def test_a_trigger_gives_a_builder_its_webhook_handler() -> None:
    connector = mscal.load_connector()
    trigger = connector.trigger(
        "event_changed", {}, auth=connector.authentication(access_token="t")
    )
    calls = Calls()

    def changed() -> None:
        calls.changes += 1

    handler = trigger.webhook_handler("s3cret", changed, calls.lifecycle.append)
    assert handler.handle("POST", "validationToken=a%20b", b"") == Answer(200, body=b"a b")
    assert handler.handle("POST", "", _body(clientState="s3cret")).status == 202
    assert handler.handle("POST", "", _body(clientState="guess")).status == 202
    lifecycle = {"value": [{"subscriptionId": "sub1", "clientState": "s3cret",
                            "lifecycleEvent": "missed"}]}  # fmt: skip
    assert handler.handle("POST", "", json.dumps(lifecycle).encode()).status == 202
    assert (calls.changes, calls.lifecycle, handler.dropped) == (1, ["missed"], 1)
