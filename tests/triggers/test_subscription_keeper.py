"""The subscription a webhook trigger keeps: the exact create request (the spec's resource for
the trigger's inputs, a fresh clientState, an expiry a minute short of the maximum), renewal
only when due, and a new subscription when Graph no longer knows the old one (404)."""

from __future__ import annotations

import datetime as dt
import json

from pytest_httpx2 import HTTPXMock

import mscal
from mscal.triggers.subscription import SubscriptionKeeper, SubscriptionSpec
from tests.conftest import GRAPH

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
URL = "https://hooks.example.com/notify"


def _keeper(clock: list[dt.datetime]) -> tuple[SubscriptionKeeper, mscal.Connector]:
    connector = mscal.load_connector()
    definition = connector.spec.trigger("event_changed")
    spec = SubscriptionSpec.from_spec(definition.source["subscription"])
    inputs = {"user_id": "adele@contoso.com", "calendar_id": "c1"}
    keeper = SubscriptionKeeper(spec, inputs, definition.input_names, URL, lambda: clock[0])
    return keeper, connector


def test_create_then_renew_when_due_then_recreate_after_a_404(httpx2_mock: HTTPXMock) -> None:
    clock = [NOW]
    keeper, connector = _keeper(clock)
    httpx2_mock.add_response(
        method="POST",
        url=f"{GRAPH}/subscriptions",
        status_code=201,
        json={"id": "sub1", "expirationDateTime": "2026-12-14T11:59:00Z"},
    )
    state: dict[str, object] = {}
    with connector.session(connector.authentication(access_token="t")) as session:
        keeper.ensure(session, state)
        sent = json.loads(httpx2_mock.get_requests()[0].content)
        secret = sent.pop("clientState")
        assert sent == {
            "resource": "/users/adele@contoso.com/calendars/c1/events",
            "changeType": "created,updated,deleted",
            "notificationUrl": URL,
            "lifecycleNotificationUrl": URL,
            "expirationDateTime": "2026-12-14T11:59:00Z",  # 10,079 minutes ahead
        }
        assert len(secret) >= 40 and state["subscription"]["client_state"] == secret  # type: ignore[index]

        clock[0] = NOW + dt.timedelta(days=3)  # four days left: not due yet
        keeper.ensure(session, state)
        assert len(httpx2_mock.get_requests()) == 1

        clock[0] = NOW + dt.timedelta(days=4, hours=1)  # under three days left: renewed
        httpx2_mock.add_response(
            method="PATCH",
            url=f"{GRAPH}/subscriptions/sub1",
            status_code=404,
            json={"error": {"code": "ResourceNotFound", "message": "gone"}},
        )
        httpx2_mock.add_response(
            method="POST",
            url=f"{GRAPH}/subscriptions",
            status_code=201,
            json={"id": "sub2", "expirationDateTime": "2026-12-18T12:59:00Z"},
        )
        keeper.ensure(session, state)
    patch, again = httpx2_mock.get_requests()[1:]
    assert json.loads(patch.content) == {"expirationDateTime": "2026-12-18T12:59:00Z"}
    assert json.loads(again.content)["clientState"] != secret  # a fresh secret for a new one
    assert state["subscription"]["id"] == "sub2"  # type: ignore[index]
    assert (keeper.creations, keeper.renewals) == (2, 0)
