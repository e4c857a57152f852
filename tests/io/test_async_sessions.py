"""The async driver sends the same requests and returns the same results as the sync one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from tests.conftest import CANARY_TOKEN, GRAPH
from tests.operations.test_requests import EXAMPLES, assert_sent, mock_canned


@pytest.mark.parametrize(("operation", "example"), EXAMPLES.values(), ids=EXAMPLES.keys())
def test_async_session_replays_every_example(
    httpx2_mock: HTTPXMock,
    connector: mscal.Connector,
    auth: mscal.Authentication,
    operation: str,
    example: dict[str, Any],
) -> None:
    mock_canned(httpx2_mock, example)

    async def main() -> Any:
        async with connector.async_session(auth) as session:
            return await session.run(operation, example["input"])

    output = asyncio.run(main())

    assert_sent(httpx2_mock.get_requests(), example)
    assert output == example["output"]
    assert CANARY_TOKEN not in repr(output)


def test_async_session_runs_concurrently_and_pages(
    httpx2_mock: HTTPXMock, connector: mscal.Connector, auth: mscal.Authentication
) -> None:
    page_2 = f"{GRAPH}/me/events?%24skiptoken=2"
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/events", json={"value": [1], "@odata.nextLink": page_2}
    )
    httpx2_mock.add_response(url=page_2, json={"value": [2]})
    httpx2_mock.add_response(url=f"{GRAPH}/me/calendar", json={"id": "c"}, is_reusable=True)

    async def main() -> list[object]:
        async with connector.async_session(auth) as session:
            return list(
                await asyncio.gather(
                    session.run("list_events", {"all_pages": True}),
                    *(session.run("get_calendar") for _ in range(5)),
                )
            )

    results = asyncio.run(main())
    assert results[0] == {"value": [1, 2], "next_link": None}
    assert results[1:] == [{"id": "c"}] * 5


def test_async_errors_are_the_same_types(
    httpx2_mock: HTTPXMock,
    connector: mscal.Connector,
    auth: mscal.Authentication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_sleep(_seconds: float) -> None:
        return None

    monkeypatch.setattr("mscal.io.drivers._asleep", no_sleep)
    httpx2_mock.add_response(status_code=503, headers={"Retry-After": "1"})
    httpx2_mock.add_response(
        status_code=404, json={"error": {"code": "ErrorItemNotFound", "message": "gone"}}
    )
    with pytest.raises(mscal.GraphError) as caught:
        asyncio.run(connector.arun("get_event", {"event_id": "e"}, auth=auth))
    assert caught.value.code == "ErrorItemNotFound"
    assert len(httpx2_mock.get_requests()) == 2
    with pytest.raises(mscal.InputError):
        asyncio.run(connector.arun("get_event", {}, auth=auth))
