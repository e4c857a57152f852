"""Bad input names the field and the rule and sends nothing; nothing leaves the Graph host."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from mscal.auth.bearer import BearerAuth
from mscal.auth.tokens import StaticToken
from mscal.call.guard import Origin
from mscal.secret import Secret
from tests.conftest import CANARY_TOKEN, GRAPH, CliResult

INVALID = [
    ("get_event", {}, "event_id", "required"),
    ("list_events", {"top": "ten"}, "top", "type"),
    ("list_events", {"top": 0}, "top", "minimum"),
    ("list_events", {"unknown_key": 1}, "unknown_key", "unknown"),
    (
        "list_calendar_view",
        {"end_date_time": "2026-11-30T00:00:00Z"},
        "start_date_time",
        "required",
    ),
    (
        "list_calendar_view",
        {"start_date_time": "next tuesday", "end_date_time": "2026-11-30T00:00:00Z"},
        "start_date_time",
        "format",
    ),
    (
        "list_calendar_view",
        {"start_date_time": "2026-13-45T00:00:00", "end_date_time": "2026-11-30T00:00:00Z"},
        "start_date_time",
        "format",
    ),
    ("list_events", {"body_content_type": "markdown"}, "body_content_type", "enum"),
    ("create_calendar", {"calendar": {"color": "lightBlue"}}, "calendar.name", "required"),
    (
        "create_event",
        {"event": {"start": {"dateTime": "tomorrow"}}},
        "event.start.dateTime",
        "pattern",
    ),
    ("create_event", {"event": {"importance": "urgent"}}, "event.importance", "enum"),
    ("update_event", {"event_id": "e1", "event": {}}, "event", "minProperties"),
    ("list_events", {"group_id": "g1", "user_id": "u1"}, "group_id", "exclusive"),
    ("list_events", {"group_id": "g1", "calendar_id": "c1"}, "group_id", "exclusive"),
    ("list_events", {"calendar_group_id": "G1"}, "calendar_id", "required"),
    (
        "get_calendar",
        {"group_id": "g1", "calendar_group_id": "G1", "calendar_id": "c"},
        "group_id",
        "exclusive",
    ),
    ("forward_event", {"event_id": "e1", "to_recipients": []}, "to_recipients", "minItems"),
    ("list_supported_time_zones", {"time_zone_standard": "Olson"}, "time_zone_standard", "enum"),
    (
        "update_calendar_permission",
        {"permission_id": "p", "calendar_permission": {"role": "owner"}},
        "calendar_permission.role",
        "enum",
    ),
    ("get_event", {"event_id": ""}, "event_id", "minLength"),
    ("list_events", {"next_link": "not a url"}, "next_link", "format"),
    ("raw_http_request", {"endpoint": "me/calendars"}, "endpoint", "pattern"),
    ("raw_http_request", {"endpoint": "/me", "method": "TRACE"}, "method", "enum"),
    # Graph reads no body on GET or DELETE: refused rather than sent (or silently dropped).
    ("raw_http_request", {"endpoint": "/me/calendars", "body": "hello"}, "body", "not"),
    (
        "raw_http_request",
        {"method": "DELETE", "endpoint": "/me/events/e1", "body_type": "json", "body": {}},
        "body",
        "not",
    ),
    ("raw_http_request", {"method": "GET", "endpoint": "/me", "body_type": "raw"}, "body", "not"),
    ("raw_http_request", {"endpoint": "ftp://graph.microsoft.com/v1.0/me"}, "endpoint", "pattern"),
]


@pytest.mark.parametrize(("operation", "inputs", "field", "rule"), INVALID)
def test_invalid_input_names_field_and_rule_and_sends_nothing(
    httpx2_mock: HTTPXMock,
    run: Callable[..., Any],
    operation: str,
    inputs: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    with pytest.raises(mscal.InputError) as caught:
        run(operation, inputs)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert str(caught.value).startswith(f"{field}: ")
    assert httpx2_mock.get_requests() == []


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["run", "get_event"], "event_id"),
        (["run", "list_events", "--set", "top=abc"], "top"),
        (
            [
                "run",
                "list_calendar_view",
                "--set",
                "start_date_time=yesterday",
                "--set",
                "end_date_time=2026-11-30T00:00:00Z",
            ],
            "start_date_time",
        ),
        (["run", "list_events", "--input", '{"colour": "red"}'], "colour"),
        (["run", "raw_http_request", "--set", "endpoint=https://evil.example/x"], "endpoint"),
    ],
)
def test_cli_invalid_input_exits_2_naming_the_field(
    httpx2_mock: HTTPXMock, cli: Callable[..., CliResult], argv: list[str], field: str
) -> None:
    result = cli(*argv, "--token", CANARY_TOKEN)
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith(f"mscal: error: {field}: ")
    assert result.err.count("\n") == 1
    assert httpx2_mock.get_requests() == []


REFUSED_ENDPOINTS = [
    "https://evil.example/v1.0/me",
    "http://graph.microsoft.com/v1.0/me",
    "https://graph.microsoft.com/beta/me",
    "https://graph.microsoft.com:444/v1.0/me",
    "https://user@graph.microsoft.com/v1.0/me",
    "https://graph.microsoft.com/v1.0/me/../../beta/me",
    "//evil.example/me",
    "/../../me",
    "/me/../../beta/me",
    "/me/..",
    "/me/%2e%2e/%2e%2e/beta",
    "/me/%2E%2E/x",
    "/me/.%2e/x",
    "/me/%252e%252e/x",
    "/me/\uff0e\uff0e/x",
    "/me\\..\\x",
    "/me/./x",
    "/me\r\nHost: evil.example",
    "/me%0d%0aX: y",
    "/me\x00",
]


@pytest.mark.parametrize("endpoint", REFUSED_ENDPOINTS)
def test_raw_request_refuses_endpoints_outside_the_base_path(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], endpoint: str
) -> None:
    with pytest.raises(mscal.InputError) as caught:
        run("raw_http_request", {"endpoint": endpoint})
    assert caught.value.field == "endpoint"
    assert httpx2_mock.get_requests() == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer other"},
        {"authorization": "x"},
        {"Cookie": "a=b"},
        {"Proxy-Authorization": "x"},
        {"Host": "evil.example"},
        {"X-Bad": "a\r\nb"},
        {"Bad Name": "x"},
    ],
)
def test_raw_request_refuses_credential_and_unsafe_headers(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], headers: dict[str, str]
) -> None:
    with pytest.raises(mscal.InputError) as caught:
        run("raw_http_request", {"endpoint": "/me", "headers": headers})
    assert caught.value.field == "headers"
    assert httpx2_mock.get_requests() == []


def test_raw_request_relative_endpoint_reaches_base_url_with_the_token(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    httpx2_mock.add_response(url="http://127.0.0.1:8765/v1.0/me/calendars", json={"value": []})
    auth = connector.authentication(
        {"base_url": "http://127.0.0.1:8765/v1.0"}, access_token=CANARY_TOKEN
    )
    result = connector.run("raw_http_request", {"endpoint": "/me/calendars"}, auth=auth)
    assert result["status_code"] == 200
    request = httpx2_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == f"Bearer {CANARY_TOKEN}"


def test_raw_request_takes_a_full_url_on_the_configured_origin(
    httpx2_mock: HTTPXMock, connector: mscal.Connector
) -> None:
    # A next link the local service (the configured base URL) returned, sent back verbatim.
    link = "http://127.0.0.1:8765/v1.0/me/events?$top=3&$skip=3"
    httpx2_mock.add_response(url=link, json={"value": [{"id": "e4"}]})
    auth = connector.authentication(
        {"base_url": "http://127.0.0.1:8765/v1.0"}, access_token=CANARY_TOKEN
    )
    result = connector.run("raw_http_request", {"endpoint": link}, auth=auth)
    assert result["status_code"] == 200
    assert result["body"] == {"value": [{"id": "e4"}]}
    request = httpx2_mock.get_request()
    assert request is not None
    assert (request.method, str(request.url)) == ("GET", link)
    assert request.headers["Authorization"] == f"Bearer {CANARY_TOKEN}"
    # The same URL is another origin for a connection to Graph: refused, nothing sent.
    with pytest.raises(mscal.InputError) as caught:
        connector.run(
            "raw_http_request",
            {"endpoint": link},
            auth=connector.authentication(access_token=CANARY_TOKEN),
        )
    assert (caught.value.field, caught.value.rule) == ("endpoint", "egress")
    assert len(httpx2_mock.get_requests()) == 1


@pytest.mark.parametrize(
    ("event_id", "encoded"),
    [
        ("a/b", "a%2Fb"),
        ("a?b", "a%3Fb"),
        ("a#b", "a%23b"),
        ("a%b", "a%25b"),
        ("a=b", "a%3Db"),
        ("AAMkAGI2TG93AAA=", "AAMkAGI2TG93AAA%3D"),
        ("a b+c", "a%20b%2Bc"),
    ],
)
def test_ids_with_reserved_characters_stay_one_segment(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], event_id: str, encoded: str
) -> None:
    httpx2_mock.add_response(json={"id": event_id})
    run("get_event", {"user_id": "a/b@c", "event_id": event_id})
    request = httpx2_mock.get_request()
    assert request is not None
    assert request.url.raw_path.decode() == f"/v1.0/users/a%2Fb%40c/events/{encoded}"


@pytest.mark.parametrize("event_id", ["..", ".", "../x", "%2e%2e", "a/../../b"])
def test_ids_that_would_climb_the_path_are_refused_naming_the_input(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], event_id: str
) -> None:
    with pytest.raises(mscal.InputError) as caught:
        run("get_event", {"event_id": event_id})
    assert (caught.value.field, caught.value.rule) == ("event_id", "egress")
    assert httpx2_mock.get_requests() == []


def test_plain_http_base_url_is_only_for_loopback(connector: mscal.Connector) -> None:
    auth = connector.authentication(
        {"base_url": "http://graph.example/v1.0"}, access_token=CANARY_TOKEN
    )
    with pytest.raises(mscal.EgressError, match="plain http"):
        connector.run("list_calendars", auth=auth)


def test_the_auth_flow_never_adds_the_token_off_origin(connector: mscal.Connector) -> None:

    auth = BearerAuth(StaticToken(Secret(CANARY_TOKEN)), Origin.from_base_url(GRAPH))
    for url in [
        "https://evil.example/v1.0/me",
        "https://graph.microsoft.com/beta/me",
        "https://graph.microsoft.com:444/v1.0/me",
    ]:
        request = httpx2.Request("GET", url)
        with pytest.raises(mscal.EgressError):
            next(auth.sync_auth_flow(request))
        assert "Authorization" not in request.headers


def test_errors_never_echo_a_huge_value(httpx2_mock: HTTPXMock, run: Callable[..., Any]) -> None:
    for inputs in (
        {
            "event_id": "e",
            "attachment": {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": "n",
                "contentBytes": "A" * 5_000_000,
            },
        },
        {"event_id": "e", "attachment": {"@odata.type": "x" * 10_000, "name": "n"}},
    ):
        with pytest.raises(mscal.InputError) as caught:
            run("add_event_attachment", inputs)
        assert len(str(caught.value)) < 300
    assert httpx2_mock.get_requests() == []
