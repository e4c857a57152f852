"""Microsoft's Graph SDK for Python works against the local service, changed only in base URL
and token: listing calendars, and creating, reading, updating, listing and deleting events."""

from __future__ import annotations

import asyncio
from typing import Any

from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.event import Event
from msgraph.generated.models.item_body import ItemBody

from mscal.sandbox.service import Sandbox
from tests.e2e.conftest import MEGAN


class FixedToken(AccessTokenProvider):  # type: ignore[misc]
    def __init__(self, token: str) -> None:
        self._token = token

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: Any = None
    ) -> str:
        return self._token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator([])


def test_microsoft_graph_sdk_against_the_local_service(sandbox: Sandbox, service: str) -> None:
    adapter = GraphRequestAdapter(
        BaseBearerTokenAuthenticationProvider(FixedToken(sandbox.identity.issue_for(MEGAN)))
    )
    adapter.base_url = f"{service}/v1.0"
    client = GraphServiceClient(request_adapter=adapter)

    async def scenario() -> dict[str, Any]:
        calendars = await client.me.calendars.get()
        created = await client.me.events.post(
            Event(
                subject="From the Graph SDK",
                body=ItemBody(content="<p>hello</p>"),
                start=DateTimeTimeZone(
                    date_time="2026-12-03T10:00:00", time_zone="Pacific Standard Time"
                ),
                end=DateTimeTimeZone(
                    date_time="2026-12-03T11:00:00", time_zone="Pacific Standard Time"
                ),
            )
        )
        fetched = await client.me.events.by_event_id(created.id).get()
        patched = await client.me.events.by_event_id(created.id).patch(
            Event(subject="Renamed by the SDK")
        )
        listed = await client.me.events.get()
        await client.me.events.by_event_id(created.id).delete()
        after = await client.me.events.get()
        return {
            "calendars": [c.name for c in calendars.value],
            "created": created,
            "fetched": fetched,
            "patched": patched,
            "listed": [e.subject for e in listed.value],
            "after": [e.id for e in after.value],
        }

    seen = asyncio.run(scenario())
    assert seen["calendars"] == ["Calendar"]
    assert seen["created"].subject == "From the Graph SDK"
    assert seen["fetched"].id == seen["created"].id
    assert (
        seen["fetched"].start.date_time == "2026-12-03T18:00:00.0000000"
    )  # stored and returned in UTC
    assert seen["fetched"].original_start_time_zone == "Pacific Standard Time"
    assert seen["patched"].subject == "Renamed by the SDK"
    assert "Renamed by the SDK" in seen["listed"]
    assert seen["created"].id not in seen["after"]
