"""The CLI's contract: commands, flags, JSON on stdout, exit codes, one-line errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpx2 import HTTPXMock

from tests.conftest import CANARY_TOKEN, GRAPH, CliResult

# The operation names are a contract (issue 4).
OPERATIONS = [
    "list_calendars",
    "get_calendar",
    "create_calendar",
    "update_calendar",
    "delete_calendar",
    "permanently_delete_calendar",
    "list_calendar_groups",
    "get_calendar_group",
    "create_calendar_group",
    "update_calendar_group",
    "delete_calendar_group",
    "list_events",
    "get_event",
    "create_event",
    "update_event",
    "delete_event",
    "permanently_delete_event",
    "list_calendar_view",
    "list_event_instances",
    "accept_event",
    "tentatively_accept_event",
    "decline_event",
    "cancel_event",
    "forward_event",
    "dismiss_event_reminder",
    "snooze_event_reminder",
    "sync_calendar_view",
    "list_event_attachments",
    "get_event_attachment",
    "add_event_attachment",
    "upload_event_attachment",
    "delete_event_attachment",
    "find_meeting_times",
    "get_schedule",
    "list_reminders",
    "list_calendar_permissions",
    "get_calendar_permission",
    "create_calendar_permission",
    "update_calendar_permission",
    "delete_calendar_permission",
    "list_allowed_calendar_sharing_roles",
    "list_rooms",
    "list_room_lists",
    "list_supported_time_zones",
    "list_categories",
    "list_subscriptions",
    "get_subscription",
    "create_subscription",
    "renew_subscription",
    "reauthorize_subscription",
    "delete_subscription",
    "raw_http_request",
]


def test_operations_lists_every_operation_grouped(cli: Callable[..., CliResult]) -> None:
    result = cli("operations")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "Calendars"
    width = max(len(name) for name in OPERATIONS)
    assert f"  {'list_calendars':<{width}}  List calendars" in lines
    assert "Advanced" in lines
    listed = cli("operations", "--json").json()
    assert [op["name"] for op in listed] == OPERATIONS
    assert {op["group"] for op in listed} == {
        "Calendars",
        "Calendar groups",
        "Events",
        "Attachments",
        "Scheduling",
        "Sharing",
        "Places and lookups",
        "Subscriptions",
        "Advanced",
    }


def test_describe_inlines_every_ref(cli: Callable[..., CliResult]) -> None:
    result = cli("describe")
    assert result.code == 0
    assert "$ref" not in result.out
    described = result.json()
    assert described["name"] == "microsoft-calendar"
    keys = [f["key"] for f in described["authentication"]["fields"]]
    assert keys == [
        "api_version",
        "client_id",
        "tenant_id",
        "client_secret",
        "client_certificate",
        "scopes",
        "offline_access",
        "grant_type",
        "authority_host",
        "base_url",
    ]
    secret = next(f for f in described["authentication"]["fields"] if f["key"] == "client_secret")
    assert secret["secret"] is True
    create = next(op for op in described["operations"] if op["name"] == "create_event")
    start = create["input_schema"]["properties"]["event"]["properties"]["start"]
    assert start["properties"]["dateTime"]["type"] == "string"
    assert create["input_schema"]["required"] == ["event"]


def test_describe_one_operation(cli: Callable[..., CliResult]) -> None:
    described = cli("describe", "list_calendar_view", "--json").json()
    assert described["input_schema"]["required"] == ["start_date_time", "end_date_time"]
    assert described["input_schema"]["properties"]["all_pages"]["default"] is False
    assert described["output_schema"]["properties"]["value"]["items"]["title"] == "event"


def test_unknown_operation_exits_2(cli: Callable[..., CliResult]) -> None:
    result = cli("describe", "list_unicorns")
    assert result.code == 2
    assert result.err.startswith("mscal: error: unknown operation 'list_unicorns'")


def test_usage_errors_exit_2(cli: Callable[..., CliResult], httpx2_mock: HTTPXMock) -> None:
    assert cli("frobnicate").code == 2
    assert cli("run", "get_calendar").code == 2  # no credentials
    assert cli("run", "get_calendar", "--token", "t", "--auth", "x").code == 2
    assert cli("run", "get_calendar", "--set", "novalue", "--token", "t").code == 2
    assert cli("run", "get_calendar", "--input", "{not json", "--token", "t").code == 2
    assert cli("run", "get_calendar", "--input", "@/nonexistent.json", "--token", "t").code == 2
    assert httpx2_mock.get_requests() == []


def test_run_with_input_file_set_and_base_url(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx2_mock.add_response(
        url="http://127.0.0.1:8765/v1.0/users/u1/events",
        method="POST",
        status_code=201,
        json={"id": "e1", "subject": "Hi"},
    )
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"event": {"subject": "Hi"}}))
    result = cli(
        "run",
        "create_event",
        "--input",
        f"@{inputs}",
        "--set",
        "user_id=u1",
        "--set",
        "event.isAllDay=true",
        "--set",
        "event.categories=Red,Blue",
        "--base-url",
        "http://127.0.0.1:8765/v1.0",
        "--token",
        CANARY_TOKEN,
    )
    assert (result.code, result.err) == (0, "")
    assert result.json() == {"id": "e1", "subject": "Hi"}
    request = httpx2_mock.get_request()
    assert request is not None
    sent = json.loads(request.content)
    assert uuid.UUID(sent.pop("transactionId"))  # the runtime made the create safe to retry
    assert sent == {
        "subject": "Hi",
        "isAllDay": True,
        "categories": ["Red", "Blue"],
    }


def test_set_coerces_by_schema_type(cli: Callable[..., CliResult], httpx2_mock: HTTPXMock) -> None:
    httpx2_mock.add_response(json={"value": []})
    result = cli(
        "run",
        "list_events",
        "--set",
        "top=5",
        "--set",
        "select=subject,start",
        "--set",
        "immutable_ids=true",
        "--set",
        "filter=subject eq '5'",
        "--token",
        "t",
    )
    assert result.code == 0
    request = httpx2_mock.get_request()
    assert request is not None
    assert str(request.url) == (
        f"{GRAPH}/me/events?%24select=subject%2Cstart&%24filter=subject+eq+%275%27&%24top=5"
    )


def test_graph_failure_exits_1_with_one_line(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock
) -> None:
    httpx2_mock.add_response(
        status_code=404, json={"error": {"code": "ErrorItemNotFound", "message": "Not found."}}
    )
    result = cli("run", "get_event", "--set", "event_id=x", "--token", "t")
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("mscal: error: HTTP 404 ErrorItemNotFound: Not found.")
    assert result.err.count("\n") == 1


def test_lint_passes_on_the_shipped_spec(cli: Callable[..., CliResult]) -> None:
    result = cli("lint")
    assert result.code == 0
    assert result.out == ""


def test_sandbox_command_options(
    cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[Any] = []
    monkeypatch.setattr(
        "mscal.sandbox.server.serve",
        lambda app, sock, tls, quiet: served.append((app, sock.getsockname()[:2], quiet)),
    )
    result = cli(
        "sandbox",
        "--db",
        ":memory:",
        "--seed",
        "--port",
        "8799",
        "--strict",
        "--client",
        "app=secret",
        "--fault",
        "status=503 times=1",
        "--fault",
        "delay=0.1",
    )
    assert result.code == 0, result.err
    assert "http://127.0.0.1:8799/v1.0" in result.out and "registered clients only" in result.out
    assert "--token sandbox." in result.out
    ((_app, address, quiet),) = served
    assert address == ("127.0.0.1", 8799) and quiet is False


@pytest.mark.parametrize(
    "argv",
    [["--fault", "bogus=1"], ["--client", "no-secret"], ["--port", "http"], ["--port", "99999"]],
)
def test_sandbox_command_refuses_bad_options(
    cli: Callable[..., CliResult], argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mscal.sandbox.server.serve", lambda *_a: pytest.fail("must not serve"))
    result = cli("sandbox", "--db", ":memory:", *argv)
    assert result.code == 2 and "error" in result.err
    assert result.out == ""  # refused before the banner (and its token)
