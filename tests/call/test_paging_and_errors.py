"""Paging options, Graph's error envelope, and retries on throttling."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from mscal.call.retry import parse_retry_after
from tests.conftest import GRAPH

PAGE_1 = f"{GRAPH}/me/events"
PAGE_2 = f"{GRAPH}/me/events?%24skiptoken=p2"
PAGE_3 = f"{GRAPH}/me/events?%24skiptoken=p3"


def _pages(httpx2_mock: HTTPXMock, *, prefer: str | None = None) -> None:
    headers = {"Prefer": prefer} if prefer else None
    httpx2_mock.add_response(
        url=PAGE_1, json={"value": [1, 2], "@odata.nextLink": PAGE_2}, match_headers=headers
    )
    httpx2_mock.add_response(
        url=PAGE_2, json={"value": [3, 4], "@odata.nextLink": PAGE_3}, match_headers=headers
    )
    httpx2_mock.add_response(url=PAGE_3, json={"value": [5]}, match_headers=headers)


def test_first_page_only_by_default(httpx2_mock: HTTPXMock, run: Callable[..., Any]) -> None:
    httpx2_mock.add_response(url=PAGE_1, json={"value": [1, 2], "@odata.nextLink": PAGE_2})
    assert run("list_events") == {"value": [1, 2], "next_link": PAGE_2}
    assert len(httpx2_mock.get_requests()) == 1


def test_all_pages_follows_next_links_with_the_same_headers(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    _pages(httpx2_mock, prefer='outlook.timezone="UTC"')
    result = run("list_events", {"all_pages": True, "time_zone": "UTC"})
    assert result == {"value": [1, 2, 3, 4, 5], "next_link": None}
    requests = httpx2_mock.get_requests()
    assert [str(r.url) for r in requests] == [PAGE_1, PAGE_2, PAGE_3]
    assert len({r.headers["client-request-id"] for r in requests}) == 1
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in requests)


def test_max_items_stops_once_enough_are_collected(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(url=PAGE_1, json={"value": [1, 2], "@odata.nextLink": PAGE_2})
    httpx2_mock.add_response(url=PAGE_2, json={"value": [3, 4], "@odata.nextLink": PAGE_3})
    # Stopped inside page 2: the link resumes at its item 4, not at page 3 (which would lose 4).
    resume = f"{PAGE_2}#mscal-skip=1"
    assert run("list_events", {"max_items": 3}) == {"value": [1, 2, 3], "next_link": resume}
    assert len(httpx2_mock.get_requests()) == 2


def test_a_resume_link_starts_right_after_the_last_item_returned(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    _pages(httpx2_mock, prefer='outlook.timezone="UTC"')
    httpx2_mock.add_response(url=PAGE_2, json={"value": [3, 4], "@odata.nextLink": PAGE_3})
    seen: list[Any] = []
    result = run("list_events", {"max_items": 3, "time_zone": "UTC"})
    seen += result["value"]
    # Page 2 again (the fragment is never sent), less the item already returned.
    result = run(
        "list_events", {"next_link": result["next_link"], "max_items": 1, "time_zone": "UTC"}
    )
    assert result == {"value": [4], "next_link": PAGE_3}
    seen += result["value"]
    result = run(
        "list_events", {"next_link": result["next_link"], "max_items": 5, "time_zone": "UTC"}
    )
    assert result == {"value": [5], "next_link": None}
    seen += result["value"]
    assert seen == [1, 2, 3, 4, 5]
    sent = [str(r.url) for r in httpx2_mock.get_requests()]
    assert sent == [PAGE_1, PAGE_2, PAGE_2, PAGE_3]
    assert all(r.headers["Prefer"] == 'outlook.timezone="UTC"' for r in httpx2_mock.get_requests())


def test_a_resume_inside_a_resumed_page_adds_up(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(url=PAGE_2, json={"value": [3, 4, 5, 6], "@odata.nextLink": PAGE_3})
    result = run("list_events", {"next_link": f"{PAGE_2}#mscal-skip=1", "max_items": 2})
    assert result == {"value": [4, 5], "next_link": f"{PAGE_2}#mscal-skip=3"}
    assert [str(r.url) for r in httpx2_mock.get_requests()] == [PAGE_2]


def test_a_listing_resumes_from_its_link_alone(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    # The dates (and the event) the first request needed are in the link.
    view = f"{GRAPH}/me/calendarView?startDateTime=2026-11-23T00%3A00%3A00Z&%24skip=10"
    instances = f"{GRAPH}/me/events/e1/instances?startDateTime=a&%24skip=10"
    httpx2_mock.add_response(url=view, json={"value": [11]})
    httpx2_mock.add_response(url=instances, json={"value": [12]})
    assert run("list_calendar_view", {"next_link": view}) == {"value": [11], "next_link": None}
    assert run("list_event_instances", {"next_link": instances}) == {
        "value": [12],
        "next_link": None,
    }
    # Without a link they are still required, and nothing is sent.
    with pytest.raises(mscal.InputError) as caught:
        run("list_calendar_view", {"end_date_time": "2026-11-30T00:00:00Z"})
    assert (caught.value.field, caught.value.rule) == ("start_date_time", "required")
    assert len(httpx2_mock.get_requests()) == 2


def test_next_link_input_resumes_there(httpx2_mock: HTTPXMock, run: Callable[..., Any]) -> None:
    httpx2_mock.add_response(url=PAGE_3, json={"value": [5]})
    assert run("list_events", {"next_link": PAGE_3}) == {"value": [5], "next_link": None}


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/v1.0/me/events",
        "http://graph.microsoft.com/v1.0/me/events",
        "https://graph.microsoft.com:8443/v1.0/me/events",
        "https://graph.microsoft.com/beta/me/events",
        "https://graph.microsoft.com.evil.example/v1.0/me/events",
        "https://user@graph.microsoft.com/v1.0/me/events",
    ],
)
def test_next_link_input_elsewhere_is_refused_before_sending(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], link: str
) -> None:
    with pytest.raises(mscal.PagingError, match="refused to follow"):
        run("list_events", {"next_link": link})
    assert httpx2_mock.get_requests() == []


def test_server_next_link_to_another_host_stops_with_an_error(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(
        url=PAGE_1, json={"value": [1], "@odata.nextLink": "https://evil.example/v1.0/x"}
    )
    with pytest.raises(mscal.PagingError) as caught:
        run("list_events", {"all_pages": True})
    assert caught.value.collected == 1
    assert len(httpx2_mock.get_requests()) == 1


def test_a_repeated_next_link_is_a_loop_error(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(url=PAGE_1, json={"value": [1], "@odata.nextLink": PAGE_2})
    httpx2_mock.add_response(
        url=PAGE_2, json={"value": [2], "@odata.nextLink": PAGE_2}, is_reusable=True
    )
    with pytest.raises(mscal.PagingError, match="before") as caught:
        run("list_events", {"all_pages": True})
    assert caught.value.collected == 2
    assert caught.value.resume_link == PAGE_2


def test_an_empty_page_with_a_next_link_is_followed(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(url=PAGE_1, json={"value": [], "@odata.nextLink": PAGE_2})
    httpx2_mock.add_response(url=PAGE_2, json={"value": [7]})
    assert run("list_events", {"all_pages": True}) == {"value": [7], "next_link": None}


def test_a_failure_mid_paging_says_how_far_it_got(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(url=PAGE_1, json={"value": [1, 2], "@odata.nextLink": PAGE_2})
    httpx2_mock.add_response(
        url=PAGE_2, status_code=500, json={"error": {"code": "x", "message": "y"}}
    )
    with pytest.raises(mscal.PagingError) as caught:
        run("list_events", {"all_pages": True})
    assert caught.value.collected == 2
    assert caught.value.resume_link == PAGE_2


GRAPH_404 = {
    "error": {
        "code": "ErrorItemNotFound",
        "message": "The specified object was not found in the store.",
        "innerError": {"request-id": "req-123", "date": "2026-11-23T10:00:00"},
    }
}


def test_graph_error_envelope_becomes_a_typed_error(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(status_code=404, json=GRAPH_404)
    with pytest.raises(mscal.GraphError) as caught:
        run("get_event", {"event_id": "missing"})
    error = caught.value
    assert (error.status_code, error.code, error.request_id, error.date) == (
        404,
        "ErrorItemNotFound",
        "req-123",
        "2026-11-23T10:00:00",
    )
    assert error.message == "The specified object was not found in the store."
    sent = httpx2_mock.get_request()
    assert sent is not None
    assert error.client_request_id == sent.headers["client-request-id"]
    assert str(error).startswith("HTTP 404 ErrorItemNotFound: The specified object was not found")


def test_an_error_without_an_envelope_still_says_what_happened(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(status_code=502, text="Bad gateway", headers={"request-id": "hdr-1"})
    with pytest.raises(mscal.GraphError) as caught:
        run("list_calendars")
    assert caught.value.code is None
    assert caught.value.request_id == "hdr-1"
    assert "Bad gateway" in caught.value.message


def test_throttling_is_retried_after_retry_after(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], no_sleep: list[float]
) -> None:
    httpx2_mock.add_response(
        status_code=429,
        headers={"Retry-After": "2"},
        json={"error": {"code": "TooManyRequests", "message": "slow down"}},
    )
    httpx2_mock.add_response(status_code=503)
    httpx2_mock.add_response(json={"value": []})
    assert run("list_calendars") == {"value": [], "next_link": None}
    requests = httpx2_mock.get_requests()
    assert len(requests) == 3
    assert len({r.headers["client-request-id"] for r in requests}) == 1
    assert no_sleep[0] == 2.0
    assert 1.0 <= no_sleep[1] <= 1.5  # second retry: 0.5 s base doubled, plus up to 0.5 s jitter


def test_throttling_gives_up_after_three_retries(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], no_sleep: list[float]
) -> None:
    httpx2_mock.add_response(
        status_code=429,
        headers={"Retry-After": "1"},
        is_reusable=True,
        json={"error": {"code": "TooManyRequests", "message": "slow down"}},
    )
    with pytest.raises(mscal.GraphError) as caught:
        run("list_calendars")
    assert caught.value.status_code == 429
    assert caught.value.retry_after == 1.0
    assert len(httpx2_mock.get_requests()) == 4
    assert no_sleep == [1.0, 1.0, 1.0]


def test_connection_failures_are_retried(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], no_sleep: list[float]
) -> None:
    httpx2_mock.add_exception(httpx2.ConnectError("refused"))
    httpx2_mock.add_response(json={"id": "e1"}, status_code=201)
    assert run("create_event", {"event": {"subject": "S"}}) == {"id": "e1"}
    assert len(no_sleep) == 1


def test_a_post_that_may_have_arrived_is_not_resent(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], no_sleep: list[float]
) -> None:
    httpx2_mock.add_exception(httpx2.ReadTimeout("lost"))
    # create_calendar has no de-duplication: sent twice, it could make two calendars.
    with pytest.raises(mscal.TransportError, match="ReadTimeout"):
        run("create_calendar", {"calendar": {"name": "S"}})
    assert len(httpx2_mock.get_requests()) == 1
    assert no_sleep == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("abc", None),
        ("1.5", None),
        ("-5", None),
        ("30,120", None),
        ("", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_after_parsing_never_crashes(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_backoff_is_clamped_and_retry_after_is_not(connector: mscal.Connector) -> None:
    # The server's value is kept as said (the exchange gives up at once when it is too long);
    # only our own backoff is clamped.
    policy = dataclasses.replace(connector.retry, max_wait_seconds=10)
    assert policy.delay(0, "130") == 130
    assert policy.delay(20, None, jitter=lambda: 0.0) == 10
    assert policy.delay(1, None, jitter=lambda: 0.5) == 0.5 * 2 + 0.25


def test_a_sync_round_follows_pages_and_returns_the_delta_link(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    first = (
        f"{GRAPH}/me/calendarView/delta?startDateTime=2026-12-01T00%3A00%3A00Z"
        "&endDateTime=2026-12-08T00%3A00%3A00Z"
    )
    skip = f"{GRAPH}/me/calendarView/delta?%24skiptoken=s1"
    delta = f"{GRAPH}/me/calendarView/delta?%24deltatoken=d1"
    httpx2_mock.add_response(url=first, json={"value": [1], "@odata.nextLink": skip})
    httpx2_mock.add_response(url=skip, json={"value": [2], "@odata.deltaLink": delta})
    result = run(
        "sync_calendar_view",
        {"start_date_time": "2026-12-01T00:00:00Z", "end_date_time": "2026-12-08T00:00:00Z"},
    )
    assert result == {"value": [1, 2], "next_link": None, "delta_link": delta}


def test_a_sync_round_one_page_at_a_time(httpx2_mock: HTTPXMock, run: Callable[..., Any]) -> None:
    skip = f"{GRAPH}/me/calendarView/delta?%24skiptoken=s1"
    httpx2_mock.add_response(json={"value": [1], "@odata.nextLink": skip})
    result = run(
        "sync_calendar_view",
        {
            "start_date_time": "2026-12-01T00:00:00Z",
            "end_date_time": "2026-12-08T00:00:00Z",
            "all_pages": False,
        },
    )
    assert result == {"value": [1], "next_link": skip, "delta_link": None}


@pytest.mark.parametrize(
    ("inputs", "field", "rule"),
    [
        ({}, "start_date_time", "required"),
        ({"start_date_time": "2026-12-01T00:00:00Z"}, "end_date_time", "required"),
        ({"delta_link": f"{GRAPH}/a", "next_link": f"{GRAPH}/b"}, "delta_link", "exclusive"),
    ],
)
def test_sync_needs_a_range_or_a_link(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], inputs: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(mscal.InputError) as caught:
        run("sync_calendar_view", inputs)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert httpx2_mock.get_requests() == []


def test_a_delta_link_elsewhere_is_refused(httpx2_mock: HTTPXMock, run: Callable[..., Any]) -> None:
    with pytest.raises(mscal.PagingError, match="refused to follow"):
        run("sync_calendar_view", {"delta_link": "https://evil.example/v1.0/me/calendarView/delta"})
    assert httpx2_mock.get_requests() == []


def test_a_create_that_may_have_arrived_is_resent_with_the_same_transaction_id(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], no_sleep: list[float]
) -> None:
    httpx2_mock.add_exception(httpx2.ReadTimeout("answer lost"))
    httpx2_mock.add_response(status_code=201, json={"id": "e1"})
    assert run("create_event", {"event": {"subject": "S"}}) == {"id": "e1"}
    first, second = (json.loads(r.content) for r in httpx2_mock.get_requests())
    assert first["transactionId"] == second["transactionId"]
    assert len(first["transactionId"]) == 36
    assert len(no_sleep) == 1


def test_the_callers_transaction_id_is_kept(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(status_code=201, json={"id": "e1"})
    run("create_event", {"event": {"subject": "S", "transactionId": "mine-1"}})
    request = httpx2_mock.get_request()
    assert request is not None and json.loads(request.content)["transactionId"] == "mine-1"
