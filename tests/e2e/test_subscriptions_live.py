"""The local service's subscriptions, as Graph keeps them: the validation handshake (loopback
only, the decoded token as text/plain), the 10,080-minute maximum and 1,000 a mailbox, expiry by
the service's clock, notifications (`resourceData` with id, @odata.type, @odata.etag) retried a
bounded number of times, lifecycle notifications; and the subscription operations over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

import mscal
from mscal.io.session import Session
from mscal.sandbox.domain.subscriptions import MAX_MINUTES, PER_MAILBOX, graph_time
from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox
from tests.e2e.conftest import ALEX, raw

Scope = dict[str, Any]


class Endpoint:
    """A notification endpoint that answers as told and keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.validations: list[str] = []
        self.status = 202
        self.echo = True
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        from urllib.parse import parse_qs  # noqa: PLC0415

        token = parse_qs(scope["query_string"].decode()).get("validationToken")
        if token:
            self.validations.append(token[0])
            answer, status = (token[0] if self.echo else "nope").encode(), 200
        else:
            with self.lock:
                self.received.append(json.loads(body))
            answer, status = b"", self.status
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": answer})


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[Endpoint, str]]:
    app = Endpoint()
    with BackgroundServer(app) as url:  # type: ignore[arg-type]  # any ASGI app
        yield app, f"{url}/hook"


@pytest.fixture
def as_alex(connector: mscal.Connector, alex: mscal.Authentication) -> Iterator[Session]:
    with connector.session(alex) as session:
        yield session


def _body(url: str, minutes: int = 60, **extra: Any) -> dict[str, Any]:
    expiry = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    return {
        "resource": "/me/events",
        "changeType": "created,updated,deleted",
        "notificationUrl": url,
        "lifecycleNotificationUrl": url,
        "expirationDateTime": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "clientState": "s3cret",
        **extra,
    }


EVENT = {
    "start": {"dateTime": "2026-12-20T10:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2026-12-20T10:30:00", "timeZone": "UTC"},
}


def _wait(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_create_validates_the_url_and_notifications_follow(
    as_alex: Session, sandbox: Sandbox, endpoint: tuple[Endpoint, str]
) -> None:
    app, url = endpoint
    created = as_alex.run("create_subscription", {"subscription": _body(url)})
    assert created["resource"] == "/me/events" and created["clientState"] == "s3cret"
    assert len(app.validations) == 2  # the notification URL and the lifecycle URL
    assert " " in app.validations[0]  # a token that must be decoded from the query
    owner = sandbox.tenant.user_owner(ALEX)
    event, _ = sandbox.tenant.create_event(owner, None, {"subject": "Ping", **EVENT})
    _wait(lambda: any(n["value"][0]["resourceData"]["id"] == event["id"] for n in app.received))
    item = next(
        n["value"][0] for n in app.received if n["value"][0]["resourceData"]["id"] == event["id"]
    )
    assert item["subscriptionId"] == created["id"] and item["clientState"] == "s3cret"
    assert item["changeType"] == "created"
    assert item["resourceData"]["@odata.type"] == "#Microsoft.Graph.Event"
    assert item["resourceData"]["@odata.etag"] == f'W/"{event["changeKey"]}"'
    listed = as_alex.run("list_subscriptions", {})["value"]
    assert created["id"] in [s["id"] for s in listed]
    later = graph_time(dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    renewed = as_alex.run(
        "renew_subscription",
        {"subscription_id": created["id"], "expiration_date_time": later},
    )
    assert renewed["expirationDateTime"] == later
    assert as_alex.run("reauthorize_subscription", {"subscription_id": created["id"]}) == {
        "reauthorized": True
    }
    assert (
        as_alex.run("get_subscription", {"subscription_id": created["id"]})["id"] == created["id"]
    )
    assert as_alex.run("delete_subscription", {"subscription_id": created["id"]}) == {
        "deleted": True
    }
    with pytest.raises(mscal.GraphError) as caught:
        as_alex.run("get_subscription", {"subscription_id": created["id"]})
    assert caught.value.status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"notificationUrl": "https://example.com/hook"}, 400, "only calls loopback"),
        ({"expirationDateTime": "2020-01-01T00:00:00Z"}, 400, "must be in the future"),
        ({"changeType": "created,moved"}, 400, "changeType"),
        ({"resource": "/me/messages"}, 400, "is not supported"),
        ({"clientState": "x" * 129}, 400, "128"),
    ],
    ids=["not-loopback", "past", "change-type", "resource", "client-state"],
)
def test_create_refuses_what_graph_refuses(
    as_alex: Session,
    endpoint: tuple[Endpoint, str],
    change: dict[str, Any],
    status: int,
    message: str,
) -> None:
    body = {**_body(endpoint[1]), **change}
    with pytest.raises(mscal.GraphError) as caught:  # the service itself refuses it
        raw(as_alex, "POST", "/subscriptions", body)
    assert caught.value.status_code == status and message in caught.value.message


def test_the_connector_refuses_a_long_client_state_before_sending(
    as_alex: Session, endpoint: tuple[Endpoint, str]
) -> None:
    with pytest.raises(mscal.InputError) as caught:
        as_alex.run(
            "create_subscription", {"subscription": _body(endpoint[1], clientState="x" * 129)}
        )
    assert caught.value.field == "subscription.clientState"


def test_the_maximum_lifetime_and_a_url_that_does_not_echo(
    as_alex: Session, endpoint: tuple[Endpoint, str]
) -> None:
    app, url = endpoint
    with pytest.raises(mscal.GraphError) as caught:
        as_alex.run("create_subscription", {"subscription": _body(url, minutes=MAX_MINUTES + 5)})
    assert f"{MAX_MINUTES} minutes" in caught.value.message
    app.echo = False
    try:
        with pytest.raises(mscal.GraphError) as caught:
            as_alex.run("create_subscription", {"subscription": _body(url)})
    finally:
        app.echo = True
    assert caught.value.code == "ValidationError"


def test_a_mailbox_holds_at_most_a_thousand(
    as_alex: Session, sandbox: Sandbox, endpoint: tuple[Endpoint, str]
) -> None:
    subscriptions = sandbox.tenant.subscriptions
    owner = sandbox.tenant.user_owner("megan@contoso.onmicrosoft.com")
    body = _body(endpoint[1], resource="/users/megan@contoso.onmicrosoft.com/events")
    template = subscriptions.check_new(owner, body)
    with sandbox.store.transaction():  # seeded through the store: not what is under test here
        for number in range(PER_MAILBOX - len(subscriptions.watching(owner.key, None))):
            seeded = {**template, "id": f"seeded-{number}"}
            sandbox.store.put("subscription", seeded, owner=owner.key, track=False)
    with pytest.raises(mscal.GraphError) as caught:
        as_alex.run("create_subscription", {"subscription": body})
    assert caught.value.status_code == 403 and "1000" in caught.value.message
    for subscription in subscriptions.watching(owner.key, None):
        subscriptions.delete(subscription["id"])


def test_expiry_by_the_clock_lifecycle_and_bounded_retries(
    as_alex: Session, sandbox: Sandbox, service: str, endpoint: tuple[Endpoint, str]
) -> None:
    app, url = endpoint
    created = as_alex.run("create_subscription", {"subscription": _body(url)})
    app.received.clear()
    answer = httpx2.post(
        f"{service}/_sandbox/subscriptions/lifecycle",
        json={"event": "missed", "subscription": created["id"]},
    )
    assert answer.json() == {"sent": [created["id"]], "applied": [created["id"]]}
    _wait(lambda: bool(app.received))
    assert app.received[0]["value"][0]["lifecycleEvent"] == "missed"
    app.status = 503  # the endpoint fails: retried a bounded number of times, then given up
    before = dict(sandbox.notifier.stats)
    owner = sandbox.tenant.user_owner(ALEX)
    sandbox.tenant.create_event(owner, None, {"subject": "Unheard", **EVENT})
    _wait(lambda: sandbox.notifier.stats["given_up"] > before.get("given_up", 0))
    # Given up, the change becomes a `missed` lifecycle notification to the lifecycle URL (here
    # the same failing endpoint: it too is tried 1 + 3 times, then given up, and that is all).
    assert sandbox.notifier.wait_idle()
    after = sandbox.notifier.stats
    assert after["retried"] - before.get("retried", 0) == 6
    assert after["given_up"] - before.get("given_up", 0) == 2
    assert after["missed"] - before.get("missed", 0) == 1
    assert app.received[-1]["value"][0]["lifecycleEvent"] == "missed"
    app.status = 202
    moved = httpx2.post(f"{service}/_sandbox/clock", json={"advance_minutes": 61}).json()
    assert moved["expired"] == [created["id"]]
    with pytest.raises(mscal.GraphError) as caught:
        as_alex.run("get_subscription", {"subscription_id": created["id"]})
    assert caught.value.status_code == 404


def test_without_a_lifecycle_url_no_lifecycle_notification_is_sent(
    as_alex: Session, sandbox: Sandbox, service: str, endpoint: tuple[Endpoint, str]
) -> None:
    app, url = endpoint
    body = {k: v for k, v in _body(url, 600).items() if k != "lifecycleNotificationUrl"}
    created = as_alex.run("create_subscription", {"subscription": body})
    app.received.clear()
    lifecycle = f"{service}/_sandbox/subscriptions/lifecycle"
    missed = httpx2.post(lifecycle, json={"event": "missed", "subscription": created["id"]})
    assert missed.json() == {"sent": [], "applied": [created["id"]]}
    removed = {"event": "subscriptionRemoved", "subscription": created["id"]}
    assert httpx2.post(lifecycle, json=removed).json()["sent"] == []
    assert sandbox.notifier.wait_idle()
    assert app.received == []  # nothing went to the notification URL instead
    with pytest.raises(mscal.GraphError) as caught:  # but the removal took effect
        as_alex.run("get_subscription", {"subscription_id": created["id"]})
    assert caught.value.status_code == 404


def test_an_occurrence_deleted_is_notified_as_its_series_updated(
    as_alex: Session, sandbox: Sandbox, endpoint: tuple[Endpoint, str]
) -> None:
    # As at Graph: deleting one occurrence (edited before, so stored of its own) notifies an
    # `updated` of the series master, and nothing of the occurrence itself.
    app, url = endpoint
    created = as_alex.run("create_subscription", {"subscription": _body(url, 600)})
    owner = sandbox.tenant.user_owner(ALEX)
    series = {
        "subject": "Weekly sync",
        **EVENT,
        "recurrence": {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "numberOfOccurrences": 3, "startDate": "2026-12-20"},
        },
    }
    master, _ = sandbox.tenant.create_event(owner, None, series)
    window = (dt.datetime(2026, 12, 19), dt.datetime(2026, 12, 25))
    occurrence = sandbox.tenant.events.instances(owner, master["id"], *window)[1]["id"]
    sandbox.tenant.events.update_event(owner, occurrence, {"subject": "Moved"})
    assert sandbox.notifier.wait_idle()
    app.received.clear()
    sandbox.tenant.events.delete_event(owner, occurrence)
    assert sandbox.notifier.wait_idle()
    told = [n["value"][0] for n in app.received]
    # (`created` or `updated`: the service calls a change within a second of an event's
    # creation `created`, as a new event is saved more than once while it is made.)
    assert [(t["resourceData"]["id"], t["changeType"] != "deleted") for t in told] == [
        (master["id"], True)
    ]
    as_alex.run("delete_subscription", {"subscription_id": created["id"]})
