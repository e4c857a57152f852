"""Retry budget and logging, redirects, deadlines, size caps and input limits (httpx2-pytest:
any request the test did not expect fails it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from pytest_httpx2 import HTTPXMock

import mscal
from mscal.call.flow import operation_flow
from mscal.errors import DeadlineError, ResponseTooLargeError, ThrottlingError
from mscal.io.drivers import drive
from mscal.io.slots import MailboxSlots
from mscal.templates.render import TemplateOutputError, Templates, render
from tests.conftest import CANARY_TOKEN, GRAPH

CALENDARS = f"{GRAPH}/me/calendars"
THROTTLED = {"error": {"code": "TooManyRequests", "message": "slow down"}}


def test_past_the_wait_budget_the_error_says_when_to_retry(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], no_sleep: list[float]
) -> None:
    # 50 s twice fits the 120 s budget; a third 50 s would not, so the runtime stops there.
    httpx2_mock.add_response(
        status_code=429, headers={"Retry-After": "50"}, json=THROTTLED, is_reusable=True
    )
    with pytest.raises(ThrottlingError) as caught:
        run("list_calendars")
    assert no_sleep == [50.0, 50.0]
    requests = httpx2_mock.get_requests()
    assert len(requests) == 3
    error = caught.value
    assert error.retry_after == 50.0
    assert "try again in 50 s" in str(error)
    assert "wait budget" in str(error)
    assert error.client_request_id == requests[0].headers["client-request-id"]
    assert {r.headers["client-request-id"] for r in requests} == {error.client_request_id}


def test_the_wait_budget_comes_from_the_spec(
    httpx2_mock: HTTPXMock, spec_copy: Path, no_sleep: list[float]
) -> None:
    manifest = yaml.safe_load((spec_copy / "connector.yaml").read_text())
    manifest["defaults"]["retry"]["wait_budget_seconds"] = 1
    (spec_copy / "connector.yaml").write_text(yaml.safe_dump(manifest))
    connector = mscal.load_connector(spec_copy)
    httpx2_mock.add_response(status_code=503, headers={"Retry-After": "2"})
    with pytest.raises(ThrottlingError) as caught:
        connector.run("list_calendars", auth=connector.authentication(access_token="t"))
    assert no_sleep == []
    assert caught.value.status_code == 503
    assert len(httpx2_mock.get_requests()) == 1


def test_mailbox_concurrency_throttling_is_retried(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], no_sleep: list[float]
) -> None:
    httpx2_mock.add_response(
        status_code=429,
        headers={"Retry-After": "1"},
        json={"error": {"code": "ApplicationThrottled", "message": "MailboxConcurrency"}},
    )
    httpx2_mock.add_response(json={"value": []})
    assert run("list_calendars")["value"] == []
    assert no_sleep == [1.0]


def test_each_retry_decision_is_logged_with_its_reason(
    httpx2_mock: HTTPXMock,
    run: Callable[..., Any],
    no_sleep: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    httpx2_mock.add_response(status_code=429, headers={"Retry-After": "3"}, json=THROTTLED)
    httpx2_mock.add_exception(httpx2.ConnectError("refused"))
    httpx2_mock.add_response(json={"value": []})
    with caplog.at_level(logging.INFO, logger="mscal.retry"):
        run("list_calendars")
    request_id = httpx2_mock.get_requests()[0].headers["client-request-id"]
    messages = [r.getMessage() for r in caplog.records if r.name == "mscal.retry"]
    assert messages == [
        f"list_calendars: retry 1 of 3 in 3.00 s after HTTP 429 Retry-After '3' "
        f"[client-request-id {request_id}]",
        f"list_calendars: retry 2 of 3 in {no_sleep[1]:.2f} s after transport error: "
        f"GET /v1.0/me/calendars: ConnectError [client-request-id {request_id}]",
    ]


def test_not_resending_and_giving_up_are_logged(
    httpx2_mock: HTTPXMock,
    run: Callable[..., Any],
    no_sleep: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    httpx2_mock.add_exception(httpx2.ReadError("reset"))
    with (
        caplog.at_level(logging.INFO, logger="mscal.retry"),
        pytest.raises(mscal.TransportError),
    ):
        run("create_calendar", {"calendar": {"name": "C"}})
    assert "not resending after POST /v1.0/me/calendars: ReadError" in caplog.text
    caplog.clear()
    httpx2_mock.add_response(status_code=504, is_reusable=True)
    with caplog.at_level(logging.INFO, logger="mscal.retry"), pytest.raises(ThrottlingError):
        run("list_calendars")
    assert "list_calendars: giving up after 3 retries (HTTP 504)" in caplog.text
    assert CANARY_TOKEN not in caplog.text


def test_transport_and_paging_errors_carry_the_client_request_id(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], no_sleep: list[float]
) -> None:
    httpx2_mock.add_exception(httpx2.ReadError("reset"))
    with pytest.raises(mscal.TransportError) as caught:
        run("create_calendar", {"calendar": {"name": "C"}})
    sent = httpx2_mock.get_requests()[-1].headers["client-request-id"]
    assert caught.value.client_request_id == sent
    assert caught.value.to_dict()["client_request_id"] == sent

    httpx2_mock.add_response(
        url=f"{GRAPH}/me/events", json={"value": [1], "@odata.nextLink": f"{GRAPH}/me/events?p=2"}
    )
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/events?p=2",
        status_code=404,
        headers={"request-id": "graph-rid", "date": "Mon, 23 Nov 2026 10:00:00 GMT"},
        json={"error": {"code": "ErrorItemNotFound", "message": "gone"}},
    )
    with pytest.raises(mscal.PagingError) as paged:
        run("list_events", {"all_pages": True})
    described = paged.value.to_dict()
    assert (
        described["client_request_id"]
        == httpx2_mock.get_requests()[-1].headers["client-request-id"]
    )
    assert described["request_id"] == "graph-rid"
    assert described["date"] == "Mon, 23 Nov 2026 10:00:00 GMT"
    assert described["collected"] == 1


# -- redirects ---------------------------------------------------------------------------------


def test_a_redirect_off_the_graph_host_carries_no_credentials(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/calendar", status_code=302, headers={"Location": "https://files.example/x"}
    )
    httpx2_mock.add_response(url="https://files.example/x", json={"id": "elsewhere"})
    assert run("get_calendar") == {"id": "elsewhere"}
    first, second = httpx2_mock.get_requests()
    assert first.headers["Authorization"] == f"Bearer {CANARY_TOKEN}"
    assert set(second.headers) - {"accept", "accept-encoding", "user-agent", "host"} == set()
    assert second.headers["accept"] == "application/json"


def test_a_redirect_on_the_graph_host_keeps_the_token(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/calendar", status_code=301, headers={"Location": "/v1.0/me/calendars/c1"}
    )
    httpx2_mock.add_response(url=f"{GRAPH}/me/calendars/c1", json={"id": "c1"})
    assert run("get_calendar") == {"id": "c1"}
    first, second = httpx2_mock.get_requests()
    assert second.headers["Authorization"] == f"Bearer {CANARY_TOKEN}"
    assert second.headers["client-request-id"] == first.headers["client-request-id"]


@pytest.mark.parametrize(
    "location",
    [
        "http://files.example/x",  # plain http off the loopback
        "https://user:pw@files.example/x",  # credentials in the URL
        "ftp://files.example/x",
    ],
)
def test_unsafe_redirects_are_refused(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], location: str
) -> None:
    httpx2_mock.add_response(status_code=302, headers={"Location": location})
    with pytest.raises(mscal.EgressError, match="redirect"):
        run("get_calendar")
    assert len(httpx2_mock.get_requests()) == 1


def test_a_body_is_never_redirected_off_the_graph_host(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(status_code=307, headers={"Location": "https://files.example/x"})
    with pytest.raises(mscal.EgressError, match="a write is never re-sent off the Graph host"):
        run("create_calendar", {"calendar": {"name": "Secret plans"}})
    assert len(httpx2_mock.get_requests()) == 1


def test_a_307_on_the_graph_host_resends_method_and_body(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    httpx2_mock.add_response(
        url=CALENDARS, status_code=307, headers={"Location": f"{GRAPH}/users/u1/calendars"}
    )
    httpx2_mock.add_response(url=f"{GRAPH}/users/u1/calendars", status_code=201, json={"id": "c"})
    assert run("create_calendar", {"calendar": {"name": "N"}}) == {"id": "c"}
    second = httpx2_mock.get_requests()[1]
    assert (second.method, second.content) == ("POST", b'{"name":"N"}')
    assert second.headers["content-type"] == "application/json"


def test_a_redirect_loop_stops(httpx2_mock: HTTPXMock, run: Callable[..., Any]) -> None:
    httpx2_mock.add_response(
        status_code=302, headers={"Location": f"{GRAPH}/me/calendar"}, is_reusable=True
    )
    with pytest.raises(mscal.TransportError, match="more than 5 redirects"):
        run("get_calendar")
    assert len(httpx2_mock.get_requests()) == 6


# -- deadline and response size ------------------------------------------------------------------


def test_waiting_past_the_deadline_is_not_attempted(
    httpx2_mock: HTTPXMock, connector: mscal.Connector, auth: Any, no_sleep: list[float]
) -> None:
    httpx2_mock.add_response(status_code=429, headers={"Retry-After": "5"}, json=THROTTLED)
    with (
        connector.session(auth, limits={"deadline_seconds": 2}) as session,
        pytest.raises(ThrottlingError) as caught,
    ):
        session.run("list_calendars")
    assert no_sleep == []
    assert caught.value.retry_after == 5.0


def test_the_deadline_bounds_each_phase_timeout(
    httpx2_mock: HTTPXMock, connector: mscal.Connector, auth: Any
) -> None:
    httpx2_mock.add_response(json={"value": []})
    with connector.session(auth, limits={"deadline_seconds": 2}) as session:
        session.run("list_calendars")
    timeouts = httpx2_mock.get_requests()[0].extensions["timeout"]
    assert set(timeouts) == {"connect", "read", "write", "pool"}
    assert all(0 < value <= 2 for value in timeouts.values())


def test_a_timeout_after_the_deadline_is_a_deadline_error(
    httpx2_mock: HTTPXMock, connector: mscal.Connector, auth: Any
) -> None:
    clock = iter([0.0, 0.0, 10.0])
    httpx2_mock.add_exception(httpx2.ReadTimeout("slow"))
    with connector.session(auth, limits={"deadline_seconds": 5}) as session:
        call = session.prepare("list_calendars", {})
        object.__setattr__(call, "clock", lambda: next(clock))
        with pytest.raises(DeadlineError, match="deadline of 5 s passed") as caught:
            drive(operation_flow(call), session.driver.client, session.driver.auth, None)
    assert caught.value.client_request_id == call.client_request_id


@pytest.mark.parametrize("declared", [True, False])
def test_a_response_over_the_cap_is_refused(
    httpx2_mock: HTTPXMock, connector: mscal.Connector, auth: Any, declared: bool
) -> None:
    body = b'{"value": "' + b"x" * 5000 + b'"}'
    if declared:
        httpx2_mock.add_response(content=body, headers={"Content-Type": "application/json"})
    else:
        # No Content-Length: the cap is kept while the body streams in.
        httpx2_mock.add_response(stream=httpx2.ByteStream(body))
    with (
        connector.session(auth, limits={"response_bytes": 1000}) as session,
        pytest.raises(ResponseTooLargeError, match="larger than the limit of 1000 bytes"),
    ):
        session.run("raw_http_request", {"endpoint": "/me/calendar"})


def test_attachments_may_be_larger_than_other_responses(connector: mscal.Connector) -> None:
    assert connector.compiled("get_event_attachment").limits.response_bytes == 256 * 1024 * 1024
    assert connector.compiled("raw_http_request").limits.response_bytes == 64 * 1024 * 1024


def test_unknown_limits_are_refused(connector: mscal.Connector, auth: Any) -> None:
    with pytest.raises(ValueError, match="unknown limits: deadline"):
        connector.session(auth, limits={"deadline": 3})


# -- inputs --------------------------------------------------------------------------------------


def _nested(depth: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(depth):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


@pytest.mark.parametrize(
    ("operation", "inputs", "field"),
    [
        (
            "raw_http_request",
            {"endpoint": "/me", "method": "POST", "body": _nested(100_000)},
            "body",
        ),
        ("create_event", {"event": {"subject": "s", "extensions": _nested(5000)}}, "event"),
        ("list_events", {"select": _nested(65)}, "select"),
    ],
)
def test_deep_inputs_are_a_validation_error_not_a_recursion_error(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], operation: str, inputs: Any, field: str
) -> None:
    with pytest.raises(mscal.InputError) as caught:
        run(operation, inputs)
    assert (caught.value.field, caught.value.rule) == (field, "depth")
    assert "more than 64 levels" in str(caught.value)
    assert httpx2_mock.get_requests() == []


def test_an_oversized_body_is_refused_naming_the_input(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    with pytest.raises(mscal.InputError) as caught:
        run(
            "raw_http_request",
            {
                "endpoint": "/me/events",
                "method": "POST",
                "body_type": "json",
                "body": {"s": "x" * 6_000_000},
            },
        )
    assert (caught.value.field, caught.value.rule) == ("body", "size")
    assert "at most 5242880" in str(caught.value)
    assert httpx2_mock.get_requests() == []


def test_template_output_is_capped() -> None:
    templates = Templates({}, max_chars=10)
    text = templates.value("{{ a }}-{{ a }}")
    assert render(text, {"a": "1234"}) == "1234-1234"
    with pytest.raises(TemplateOutputError, match="more than 10 characters"):
        render(text, {"a": "123456"})
    with pytest.raises(TemplateOutputError):
        render(templates.value("{{ a ~ a }}"), {"a": "123456"})


def test_template_cap_errors_name_the_input(httpx2_mock: HTTPXMock, spec_copy: Path) -> None:
    manifest = yaml.safe_load((spec_copy / "connector.yaml").read_text())
    manifest["defaults"]["limits"]["template_chars"] = 100
    (spec_copy / "connector.yaml").write_text(yaml.safe_dump(manifest))
    connector = mscal.load_connector(spec_copy)
    with pytest.raises(mscal.InputError) as caught:
        connector.run(
            "get_event", {"event_id": "x" * 200}, auth=connector.authentication(access_token="t")
        )
    assert (caught.value.field, caught.value.rule) == ("event_id", "size")
    assert httpx2_mock.get_requests() == []


# -- mailbox slots -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "mailbox"),
    [
        ("/me/events", "/me"),
        ("/me", "/me"),
        ("/users/a%40b.example/calendar", "/users/a%40b.example"),
        ("/groups/g1/events", "/groups/g1"),
        ("/mexico/events", None),
        ("/places/microsoft.graph.room", None),
        ("/$batch", None),
    ],
)
def test_the_mailbox_of_a_path(connector: mscal.Connector, path: str, mailbox: str | None) -> None:
    slots = connector.mailbox_slots
    assert isinstance(slots, MailboxSlots)
    assert slots.per_mailbox == 4
    assert slots.mailbox(path) == mailbox


@pytest.mark.parametrize(
    "name", ["Upgrade", "TE", "Expect", "Keep-Alive", "Trailer", "Proxy-Connection"]
)
def test_hop_by_hop_headers_are_refused(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], name: str
) -> None:
    with pytest.raises(mscal.InputError) as caught:
        run("raw_http_request", {"endpoint": "/me", "headers": {name: "x"}})
    assert caught.value.field == "headers"
    assert httpx2_mock.get_requests() == []
