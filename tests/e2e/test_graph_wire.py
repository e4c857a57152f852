"""Graph's wire, on a real socket: ids in the URL-safe alphabet, one `Date`, Graph's JSON
`Content-Type` and `OData-Version`, `request-id` and `client-request-id` on every answer
(errors and the catch-all 404 included), a `WWW-Authenticate` challenge on 401, and 405 with
`Allow`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx2
import pytest

from mscal.sandbox.http.envelope import GRAPH_JSON
from mscal.sandbox.service import Sandbox
from tests.e2e.conftest import ADELE

EVENT = {
    "subject": "Wire",
    "start": {"dateTime": "2027-02-01T10:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2027-02-01T11:00:00", "timeZone": "UTC"},
}


@pytest.fixture(scope="module")
def graph(service: str, sandbox: Sandbox) -> Iterator[httpx2.Client]:
    token = sandbox.identity.issue_for(ADELE)
    with httpx2.Client(
        base_url=f"{service}/v1.0", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def _graph_headers(answer: httpx2.Response, client_request_id: str | None = None) -> None:
    assert len(answer.headers.get_list("date")) == 1, answer.headers
    assert answer.headers["content-type"] == GRAPH_JSON
    assert answer.headers["odata-version"] == "4.0"
    assert re.fullmatch(r"[0-9a-f-]{36}", answer.headers["request-id"])
    assert answer.headers["client-request-id"] == (
        client_request_id or answer.headers["request-id"]
    )


def _envelope(answer: httpx2.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    inner = error["innerError"]
    assert inner["request-id"] == answer.headers["request-id"]
    when = dt.datetime.fromisoformat(inner["date"]).replace(tzinfo=dt.UTC)
    assert abs(dt.datetime.now(dt.UTC) - when) < dt.timedelta(minutes=1)


def test_ids_use_the_url_safe_alphabet(graph: httpx2.Client) -> None:
    ids = []
    for _ in range(12):
        created = graph.post("/me/events", json=EVENT)
        assert created.status_code == 201
        ids.append(created.json()["id"])
        calendar = graph.post("/me/calendars", json={"name": f"Wire {len(ids)}"})
        ids.append(calendar.json()["id"])
    for value in ids:
        assert re.fullmatch(r"AAMk[A-Za-z0-9_-]+=", value), value
    # As they are, unencoded, they name the thing in a path (what python-o365 does).
    assert graph.get(f"/me/events/{ids[0]}").json()["id"] == ids[0]


def test_an_answer_carries_graphs_headers_and_echoes_the_client_request_id(
    graph: httpx2.Client,
) -> None:
    answer = graph.get("/me/calendars", headers={"client-request-id": "c0ffee-42"})
    assert answer.status_code == 200
    _graph_headers(answer, "c0ffee-42")
    created = graph.post("/me/events", json=EVENT)
    _graph_headers(created)


def test_errors_carry_the_same_headers_in_graphs_envelope(graph: httpx2.Client) -> None:
    missing = graph.get("/me/events/AAMkAnotThereAtAll=", headers={"client-request-id": "e-1"})
    _envelope(missing, 404, "ErrorItemNotFound")
    _graph_headers(missing, "e-1")
    assert missing.json()["error"]["innerError"]["client-request-id"] == "e-1"


def test_the_catch_all_404_is_graphs_envelope_with_a_request_id_and_a_date(
    service: str,
) -> None:
    answer = httpx2.get(f"{service}/beta-nowhere/x", headers={"client-request-id": "n-1"})
    _envelope(answer, 404, "ResourceNotFound")
    _graph_headers(answer, "n-1")


def test_401_challenges_with_bearer(service: str) -> None:
    answer = httpx2.get(f"{service}/v1.0/me/events")
    _envelope(answer, 401, "InvalidAuthenticationToken")
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'authorization_uri="{service}/common/oauth2/authorize"' in challenge
    _graph_headers(answer)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/me/calendarGroups", "GET, POST"),
        ("DELETE", "/me/events", "GET, POST"),
        ("OPTIONS", "/me/calendars", "GET, POST"),
        ("PUT", "/me/calendar", "GET, PATCH"),
    ],
)
def test_a_method_graph_does_not_serve_is_405_with_allow(
    graph: httpx2.Client, method: str, path: str, allowed: str
) -> None:
    answer = graph.request(method, path, json={})
    _envelope(answer, 405, "Request_BadRequest")
    assert answer.headers["allow"] == allowed
    _graph_headers(answer)
