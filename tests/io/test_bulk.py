"""run_many: JSON batches, per-request retries, results in input order; and lazy paging."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from mscal.call.batching import Outcome
from tests.conftest import CANARY_TOKEN, GRAPH

BATCH = f"{GRAPH}/$batch"


def _event(n: int) -> dict[str, Any]:
    return {"event": {"subject": f"E{n}"}}


def _payload(request: httpx2.Request) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = json.loads(request.content)["requests"]
    return requests


def _answer(*responses: dict[str, Any]) -> dict[str, Any]:
    return {"responses": list(responses)}


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The bulk run's clock and sleep: sleeping moves the clock; the sleeps are recorded."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr("mscal.io.bulk.monotonic", lambda: now[0])
    monkeypatch.setattr("mscal.io.bulk.sleep", sleep)
    return slept


@pytest.fixture
def session(connector: mscal.Connector, auth: mscal.Authentication) -> Iterator[Any]:
    with connector.session(auth) as opened:
        yield opened


def test_inputs_are_packed_into_one_sequential_batch(httpx2_mock: HTTPXMock, session: Any) -> None:
    httpx2_mock.add_response(
        url=BATCH,
        method="POST",
        json=_answer(
            *(
                {"id": str(n), "status": 201, "body": {"id": f"e{n}", "subject": f"E{n}"}}
                for n in (2, 0, 1)  # Graph answers in any order
            )
        ),
    )
    outcomes = list(session.run_many("create_event", [_event(n) for n in range(3)]))
    assert [o.to_dict() for o in outcomes] == [
        {"index": n, "ok": True, "result": {"id": f"e{n}", "subject": f"E{n}"}} for n in range(3)
    ]
    (request,) = httpx2_mock.get_requests()
    assert request.headers["Authorization"] == f"Bearer {CANARY_TOKEN}"
    inner = _payload(request)
    assert [(r["id"], r["method"], r["url"], r.get("dependsOn")) for r in inner] == [
        ("0", "POST", "/me/events", None),
        ("1", "POST", "/me/events", ["0"]),
        ("2", "POST", "/me/events", ["1"]),
    ]
    for n, entry in enumerate(inner):
        assert entry["body"]["subject"] == f"E{n}"
        assert entry["body"]["transactionId"]  # each create stays safe to resend
        assert entry["headers"]["content-type"] == "application/json"
        assert "authorization" not in {k.lower() for k in entry["headers"]}
    assert len({e["headers"]["client-request-id"] for e in inner}) == 3


def test_twenty_at_most_per_batch(httpx2_mock: HTTPXMock, session: Any) -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200,
            json=_answer(*({"id": r["id"], "status": 204} for r in _payload(request))),
        )

    httpx2_mock.add_callback(answer, url=BATCH, is_reusable=True)
    inputs = [{"event_id": f"e{n}"} for n in range(45)]
    outcomes = list(session.run_many("delete_event", inputs))
    assert [o.index for o in outcomes] == list(range(45))
    assert all(o.ok for o in outcomes)
    sizes = sorted(len(_payload(r)) for r in httpx2_mock.get_requests())
    assert sizes == [5, 20, 20]
    urls = {e["url"] for r in httpx2_mock.get_requests() for e in _payload(r)}
    assert urls == {f"/me/events/e{n}" for n in range(45)}


def test_throttled_requests_are_retried_alone_after_their_retry_after(
    httpx2_mock: HTTPXMock, session: Any, fake_clock: list[float]
) -> None:
    httpx2_mock.add_response(
        url=BATCH,
        json=_answer(
            {"id": "0", "status": 201, "body": {"id": "e0"}},
            {
                "id": "1",
                "status": 429,
                "headers": {"Retry-After": "7"},
                "body": {"error": {"code": "ApplicationThrottled", "message": "slow"}},
            },
            {"id": "2", "status": 424, "body": {"error": {"code": "FailedDependency"}}},
        ),
    )
    httpx2_mock.add_response(
        url=BATCH,
        json=_answer(
            {"id": "1", "status": 201, "body": {"id": "e1"}},
            {"id": "2", "status": 201, "body": {"id": "e2"}},
        ),
    )
    outcomes = list(session.run_many("create_event", [_event(n) for n in range(3)]))
    assert [o.result for o in outcomes] == [{"id": "e0"}, {"id": "e1"}, {"id": "e2"}]
    first, second = httpx2_mock.get_requests()
    assert [e["id"] for e in _payload(second)] == ["1", "2"]
    # The retry kept its transactionId: a create that did land is not made twice.
    assert _payload(first)[1]["body"] == _payload(second)[0]["body"]
    assert sum(fake_clock) >= 7


def test_a_request_throttled_past_its_retries_is_a_typed_error(
    httpx2_mock: HTTPXMock, session: Any, fake_clock: list[float], no_sleep: list[float]
) -> None:
    def busy(request: httpx2.Request) -> httpx2.Response:
        first, *rest = _payload(request)
        return httpx2.Response(
            200,
            json=_answer(
                {
                    "id": first["id"],
                    "status": 503,
                    "headers": {"Retry-After": "2"},
                    "body": {"error": {"code": "serviceNotAvailable", "message": "busy"}},
                },
                *({"id": r["id"], "status": 424} for r in rest),
            ),
        )

    httpx2_mock.add_callback(busy, url=BATCH, is_reusable=True)
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/events/b",
        method="DELETE",
        status_code=503,
        headers={"Retry-After": "2"},
        json={"error": {"code": "serviceNotAvailable", "message": "busy"}},
        is_reusable=True,
    )
    outcomes = list(session.run_many("delete_event", [{"event_id": "a"}, {"event_id": "b"}]))
    for outcome in outcomes:
        assert isinstance(outcome.error, mscal.ThrottlingError)
        assert outcome.error.retry_after == 2.0
        assert "try again in 2 s" in str(outcome.error)
    # "a" is tried 4 times (3 retries), "b" held back behind it; then "b" goes alone, as a
    # plain request with its own 3 retries.
    sent = httpx2_mock.get_requests()
    batches = [[e["id"] for e in _payload(r)] for r in sent if r.url == BATCH]
    assert batches == [["0", "1"]] * 4
    assert [r.method for r in sent[4:]] == ["DELETE"] * 4
    assert fake_clock == [2.0, 2.0, 2.0]  # the mailbox waited as Retry-After said
    assert no_sleep == [2.0, 2.0, 2.0]


def test_inner_errors_and_bad_inputs_are_outcomes_in_order(
    httpx2_mock: HTTPXMock, session: Any
) -> None:
    httpx2_mock.add_response(
        url=BATCH,
        json=_answer(
            {"id": "0", "status": 204},
            {
                "id": "2",
                "status": 404,
                "headers": {"request-id": "rid-2"},
                "body": {"error": {"code": "ErrorItemNotFound", "message": "gone"}},
            },
        ),
    )
    inputs = [{"event_id": "a"}, {"event_id": ""}, {"event_id": "c"}]
    outcomes = list(session.run_many("delete_event", inputs))
    assert [o.index for o in outcomes] == [0, 1, 2]
    assert outcomes[0].ok and outcomes[0].result == {"deleted": True}
    assert isinstance(outcomes[1].error, mscal.InputError)
    assert outcomes[1].error.field == "event_id"
    error = outcomes[2].error
    assert isinstance(error, mscal.GraphError)
    assert (error.status_code, error.code, error.request_id) == (404, "ErrorItemNotFound", "rid-2")
    assert outcomes[2].to_dict()["error"]["client_request_id"]
    # Only the two valid inputs were sent, in one batch.
    (request,) = httpx2_mock.get_requests()
    assert [e["url"] for e in _payload(request)] == ["/me/events/a", "/me/events/c"]


def test_a_failed_batch_fails_each_of_its_requests(
    httpx2_mock: HTTPXMock, session: Any, no_sleep: list[float]
) -> None:
    httpx2_mock.add_exception(httpx2.ReadError("reset"), url=BATCH)
    # create_calendar is not safe to resend: the batch, which may have run, is not sent again.
    inputs = [{"calendar": {"name": f"C{n}"}} for n in range(2)]
    outcomes = list(session.run_many("create_calendar", inputs))
    assert [type(o.error) for o in outcomes] == [mscal.TransportError, mscal.TransportError]
    assert len(httpx2_mock.get_requests()) == 1


def test_async_run_many(httpx2_mock: HTTPXMock, connector: mscal.Connector, auth: Any) -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200,
            json=_answer(
                *({"id": r["id"], "status": 201, "body": {"n": r["id"]}} for r in _payload(request))
            ),
        )

    httpx2_mock.add_callback(answer, url=BATCH, is_reusable=True)

    async def main() -> list[Outcome]:
        async with connector.async_session(auth) as session:
            return [o async for o in session.run_many("create_event", map(_event, range(30)))]

    outcomes = asyncio.run(main())
    assert [o.result for o in outcomes] == [{"n": str(n)} for n in range(30)]


# -- lazy paging ---------------------------------------------------------------------------------


def _three_pages(httpx2_mock: HTTPXMock) -> None:
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/events",
        json={"value": [1, 2], "@odata.nextLink": f"{GRAPH}/me/events?p=2"},
    )
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/events?p=2",
        json={"value": [], "@odata.nextLink": f"{GRAPH}/me/events?p=3"},
    )
    httpx2_mock.add_response(url=f"{GRAPH}/me/events?p=3", json={"value": [3]})


def test_iterate_reads_one_page_at_a_time(httpx2_mock: HTTPXMock, session: Any) -> None:
    _three_pages(httpx2_mock)
    items = session.iterate("list_events")
    assert next(items) == 1
    assert len(httpx2_mock.get_requests()) == 1
    assert next(items) == 2
    assert len(httpx2_mock.get_requests()) == 1
    assert list(items) == [3]
    assert len(httpx2_mock.get_requests()) == 3


def test_all_pages_collects_what_iterate_yields(httpx2_mock: HTTPXMock, session: Any) -> None:
    _three_pages(httpx2_mock)
    collected = session.run("list_events", {"all_pages": True})
    _three_pages(httpx2_mock)
    assert collected["value"] == list(session.iterate("list_events")) == [1, 2, 3]


def test_iterate_checks_inputs_before_sending(httpx2_mock: HTTPXMock, session: Any) -> None:
    with pytest.raises(mscal.InputError):
        session.iterate("list_events", {"top": 0})
    with pytest.raises(mscal.SpecError, match="not paged"):
        session.iterate("get_event", {"event_id": "e"})
    assert httpx2_mock.get_requests() == []


def test_async_iterate(httpx2_mock: HTTPXMock, connector: mscal.Connector, auth: Any) -> None:
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/events",
        json={"value": [1, 2], "@odata.nextLink": f"{GRAPH}/me/events?p=2"},
    )

    async def main() -> list[Any]:
        async with connector.async_session(auth) as session:
            return [item async for item in session.iterate("list_events", {"max_items": 2})]

    assert asyncio.run(main()) == [1, 2]
    assert len(httpx2_mock.get_requests()) == 1


def test_cli_input_file_prints_one_line_per_input(
    httpx2_mock: HTTPXMock, cli: Callable[..., Any], tmp_path: Any
) -> None:
    httpx2_mock.add_response(
        url=BATCH, json=_answer({"id": "0", "status": 204}, {"id": "1", "status": 204})
    )
    items = tmp_path / "items.jsonl"
    items.write_text('{"event_id": "a"}\n\n{"event_id": "b"}\n{"event_id": ""}\n')
    result = cli("run", "delete_event", "--input-file", str(items), "--token", CANARY_TOKEN)
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [(line["index"], line["ok"]) for line in lines] == [(0, True), (1, True), (2, False)]
    assert lines[2]["error"]["field"] == "event_id"
    assert result.code == 1
    assert "2 of 3 succeeded, 1 failed" in result.err


def test_cli_input_file_a_broken_line_is_that_inputs_failure(
    httpx2_mock: HTTPXMock, cli: Callable[..., Any], tmp_path: Any
) -> None:
    # The file is streamed, so a broken line cannot stop what ran before it: it is that
    # input's failure (naming the line), and the lines around it run.
    httpx2_mock.add_response(url=f"{GRAPH}/me/events/a", method="DELETE", status_code=204)
    httpx2_mock.add_response(url=f"{GRAPH}/me/events/c", method="DELETE", status_code=204)
    items = tmp_path / "items.jsonl"
    items.write_bytes(b'{"event_id": "a"}\n{oops\n{"event_id": "\xff"}\n[1]\n{"event_id": "c"}\n')
    result = cli("run", "delete_event", "--input-file", str(items), "--token", CANARY_TOKEN)
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [(line["index"], line["ok"]) for line in lines] == [
        (0, True),
        (1, False),
        (2, False),
        (3, False),
        (4, True),
    ]
    assert "line 2 is not valid JSON" in lines[1]["error"]["message"]
    assert lines[2]["error"]["rule"] == "encoding"
    assert "line 4 must be a JSON object" in lines[3]["error"]["message"]
    assert result.code == 1
    assert "2 of 5 succeeded, 3 failed" in result.err


def test_cli_input_file_on_a_terminal_shows_a_progress_bar(
    httpx2_mock: HTTPXMock,
    cli: Callable[..., Any],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    httpx2_mock.add_response(
        url=BATCH, json=_answer({"id": "0", "status": 204}, {"id": "1", "status": 204})
    )
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.chdir(tmp_path)
    items = tmp_path / "items.jsonl"
    items.write_text('{"event_id": "a"}\n{"event_id": "b"}\n')
    result = cli("run", "delete_event", "--input-file", str(items), "--token", CANARY_TOKEN)
    assert result.code == 0
    assert result.out == ""  # nothing failed: no lines, only the bar and the summary
    assert "2/2" in result.err
    # The outcomes are kept all the same: every line in a results file the summary names.
    (kept,) = tmp_path.glob("mscal-results-delete_event-*.jsonl")
    assert f"2 of 2 succeeded, 0 failed; every outcome, one JSON line each, is in {kept.name}" in (
        result.err
    )
    assert [json.loads(line) for line in kept.read_text().splitlines()] == [
        {"index": 0, "ok": True, "result": {"deleted": True}},
        {"index": 1, "ok": True, "result": {"deleted": True}},
    ]


def test_cli_input_file_from_stdin(
    httpx2_mock: HTTPXMock, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    httpx2_mock.add_response(url=f"{GRAPH}/me/events/a", method="DELETE", status_code=204)
    monkeypatch.setattr("sys.stdin", io.StringIO('{"event_id": "a"}\n'))
    result = cli("run", "delete_event", "--input-file", "-", "--token", CANARY_TOKEN)
    assert result.code == 0
    assert json.loads(result.out) == {"index": 0, "ok": True, "result": {"deleted": True}}


def test_the_connector_runs_many_and_iterates_in_sessions_of_their_own(
    httpx2_mock: HTTPXMock, connector: mscal.Connector, auth: Any
) -> None:
    httpx2_mock.add_response(
        url=BATCH, json=_answer({"id": "0", "status": 204}, {"id": "1", "status": 204})
    )
    inputs = [{"event_id": "a"}, {"event_id": "b"}]
    outcomes = list(connector.run_many("delete_event", inputs, auth=auth))
    assert [(o.index, o.ok) for o in outcomes] == [(0, True), (1, True)]
    _three_pages(httpx2_mock)
    assert list(connector.iterate("list_events", auth=auth)) == [1, 2, 3]
