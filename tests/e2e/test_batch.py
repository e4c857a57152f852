"""JSON batching in the local service: dependsOn, 424, the 20-request cap, inner throttling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from mscal.sandbox.service import Sandbox
from tests.e2e.conftest import ADELE


@pytest.fixture
def batch(sandbox: Sandbox, service: str) -> Iterator[Any]:
    sandbox.faults.clear()
    headers = {"Authorization": f"Bearer {sandbox.identity.issue_for(ADELE)}"}

    def post(requests: list[dict[str, Any]], **extra: str) -> httpx2.Response:
        return httpx2.post(
            f"{service}/v1.0/$batch", json={"requests": requests}, headers={**headers, **extra}
        )

    yield post
    sandbox.faults.clear()


EVENT = {
    "subject": "Batched",
    "start": {"dateTime": "2026-12-02T10:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2026-12-02T11:00:00", "timeZone": "UTC"},
}
JSON = {"Content-Type": "application/json"}


def test_batch_runs_requests_and_reports_each_status(batch: Any) -> None:
    answer = batch(
        [
            {"id": "a", "method": "POST", "url": "/me/events", "headers": JSON, "body": EVENT},
            {"id": "b", "method": "GET", "url": "/me/calendar?$select=name"},
            {"id": "c", "method": "GET", "url": "/me/events/AAMkAGDoesNotExistAtAll="},
        ]
    )
    assert answer.status_code == 200
    by_id = {r["id"]: r for r in answer.json()["responses"]}
    assert by_id["a"]["status"] == 201 and by_id["a"]["body"]["subject"] == "Batched"
    assert by_id["a"]["headers"]["Location"].endswith(f"events('{by_id['a']['body']['id']}')")
    assert by_id["b"]["status"] == 200 and by_id["b"]["body"]["name"] == "Calendar"
    assert (
        by_id["c"]["status"] == 404 and by_id["c"]["body"]["error"]["code"] == "ErrorItemNotFound"
    )
    assert [r["id"] for r in answer.json()["responses"]] == ["a", "b", "c"]
    batch(
        [
            {
                "id": "d",
                "method": "DELETE",
                "url": f"/me/events/{by_id['a']['body']['id'].replace('/', '%2F')}",
            }
        ]
    )


def test_depends_on_orders_requests_and_a_failed_dependency_gives_424(batch: Any) -> None:
    answer = batch(
        [
            {"id": "1", "method": "GET", "url": "/me/events/AAMkAGDoesNotExistAtAll="},
            {"id": "2", "method": "GET", "url": "/me/calendar", "dependsOn": ["1"]},
            {"id": "3", "method": "GET", "url": "/me/calendar", "dependsOn": ["2"]},
            {"id": "4", "method": "GET", "url": "/me/calendar"},
        ]
    ).json()["responses"]
    assert [(r["id"], r["status"]) for r in answer] == [
        ("1", 404),
        ("2", 424),
        ("3", 424),
        ("4", 200),
    ]


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ([{"id": str(i), "method": "GET", "url": "/me/calendar"} for i in range(21)], "maximum"),
        (
            [
                {"id": "1", "method": "GET", "url": "/me"},
                {"id": "1", "method": "GET", "url": "/me"},
            ],
            "Duplicate",
        ),
        ([{"id": "1", "method": "GET", "url": "/me", "dependsOn": ["9"]}], "unknown request"),
        ([{"id": "1", "method": "TRACE", "url": "/me"}], "Invalid method"),
        ([{"id": "1", "method": "GET", "url": "https://evil.example/me"}], "relative"),
        ([], "non-empty"),
    ],
)
def test_invalid_batches_are_refused_whole(
    batch: Any, requests: list[dict[str, Any]], message: str
) -> None:
    answer = batch(requests)
    assert answer.status_code == 400 and message in answer.json()["error"]["message"]


def test_inner_requests_are_throttled_per_mailbox(batch: Any, sandbox: Sandbox) -> None:
    sandbox.faults.add("delay=0.2 path=/calendar$")
    answer = batch(
        [{"id": str(i), "method": "GET", "url": "/me/calendar"} for i in range(8)]
    ).json()
    statuses = sorted(r["status"] for r in answer["responses"])
    assert statuses == [200] * 4 + [429] * 4
    throttled = next(r for r in answer["responses"] if r["status"] == 429)
    assert throttled["headers"]["Retry-After"] == "1"
    chained = batch(
        [
            {
                "id": str(i),
                "method": "GET",
                "url": "/me/calendar",
                **({"dependsOn": [str(i - 4)]} if i >= 4 else {}),
            }
            for i in range(8)
        ]
    ).json()
    assert (
        sorted(r["status"] for r in chained["responses"]) == [200] * 8
    )  # four chains: never over 4


def test_inner_faults_apply_per_request(batch: Any) -> None:
    answer = batch(
        [
            {
                "id": "1",
                "method": "GET",
                "url": "/me/calendar",
                "headers": {"X-Sandbox-Fault": "status=503"},
            },
            {"id": "2", "method": "GET", "url": "/me/calendar"},
        ]
    ).json()["responses"]
    assert [(r["id"], r["status"]) for r in answer] == [("1", 503), ("2", 200)]


def test_the_batch_itself_needs_a_token(service: str) -> None:
    answer = httpx2.post(
        f"{service}/v1.0/$batch", json={"requests": [{"id": "1", "method": "GET", "url": "/me"}]}
    )
    assert (
        answer.status_code == 401 and answer.json()["error"]["code"] == "InvalidAuthenticationToken"
    )
