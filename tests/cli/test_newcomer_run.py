"""A newcomer's `mscal run`, `describe` and help pages (issue 15): suggestions for typos, `--set`
escapes and files, JSON errors that say where, messages with examples, help with examples and
exit codes. Every refusal exits 2 and sends nothing."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpx2 import HTTPXMock

from mscal.cli.main import main
from tests.conftest import GRAPH, CliResult


def _sent_json(httpx2_mock: HTTPXMock) -> dict[str, object]:
    request = httpx2_mock.get_request()
    assert request is not None
    body: dict[str, object] = json.loads(request.content)
    return body


def test_version(cli: Callable[..., CliResult]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli("--version")
    assert exited.value.code == 0


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("mscal 0.1.0 (Python 3.")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "list_evnts"], "unknown operation 'list_evnts'; did you mean list_events"),
        (["run", "list_events", "--set", "tpo=3"], "tpo: is not a known input; did you mean top?"),
        (["describe", "creat_event"], "did you mean create_event"),
    ],
)
def test_typos_suggest_the_closest_names(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock, argv: list[str], expected: str
) -> None:
    result = cli(*argv, "--token", "t") if argv[0] == "run" else cli(*argv)
    assert result.code == 2
    assert expected in result.err
    assert "accept_event" not in result.err  # not every name there is
    assert httpx2_mock.get_requests() == []


def test_set_escapes_dots_and_reads_files(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock, tmp_path: Path
) -> None:
    content = bytes(range(256)) * 3
    (tmp_path / "agenda.bin").write_bytes(content)
    httpx2_mock.add_response(status_code=201, json={"id": "a1"})
    result = cli(
        "run",
        "add_event_attachment",
        "--set",
        "event_id=e1",
        "--set",
        "attachment.@odata\\.type=#microsoft.graph.fileAttachment",
        "--set",
        "attachment.name=agenda.bin",
        "--set",
        f"attachment.contentBytes=@{tmp_path / 'agenda.bin'}",
        "--token",
        "t",
    )
    assert (result.code, result.err) == (0, "")
    assert _sent_json(httpx2_mock) == {
        "@odata.type": "#microsoft.graph.fileAttachment",
        "name": "agenda.bin",
        "contentBytes": base64.b64encode(content).decode(),
    }


def test_set_reads_an_object_from_a_json_file(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock, tmp_path: Path
) -> None:
    event = {
        "subject": "Review",
        "start": {"dateTime": "2026-11-24T09:30:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-24T10:00:00", "timeZone": "UTC"},
    }
    (tmp_path / "event.json").write_text(json.dumps(event, indent=2))
    (tmp_path / "note.txt").write_text("@ the start\n")
    httpx2_mock.add_response(status_code=201, json={"id": "e1"})
    result = cli(
        "run",
        "create_event",
        "--set",
        f"event=@{tmp_path / 'event.json'}",
        "--set",
        "event.location.displayName=@@Room 1",
        "--token",
        "t",
    )
    assert result.code == 0, result.err
    sent = _sent_json(httpx2_mock)
    sent.pop("transactionId")
    assert sent == {**event, "location": {"displayName": "@Room 1"}}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--set", 'event={"subject": "S",}'],
            "event: is not valid JSON: Expecting property name enclosed in double quotes "
            "at line 1 column 17",
        ),
        (["--input", '{"event": {"subject": "S"}'], "--input is not valid JSON: Expecting ',' "),
        (["--set", "event=@/nonexistent/event.json"], "cannot read /nonexistent/event.json"),
    ],
)
def test_json_errors_say_where(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock, argv: list[str], expected: str
) -> None:
    result = cli("run", "create_event", *argv, "--token", "t")
    assert result.code == 2
    assert expected in result.err
    assert httpx2_mock.get_requests() == []


def test_json_error_in_a_file_names_the_line(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock, tmp_path: Path
) -> None:
    (tmp_path / "event.json").write_text('{\n  "subject": "S"\n  "isAllDay": true\n}\n')
    result = cli(
        "run", "create_event", "--set", f"event=@{tmp_path / 'event.json'}", "--token", "t"
    )
    assert result.code == 2
    assert "event.json is not valid JSON: Expecting ',' delimiter at line 3 column 3" in result.err
    assert httpx2_mock.get_requests() == []


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["create_event", "--set", "event.start.dateTime=2026-12-32T10:00:00"],
            "event.start.dateTime: must be a date and time that exists, written "
            "YYYY-MM-DDThh:mm[:ss] with no offset, e.g. 2026-11-24T09:30:00",
        ),
        (
            ["create_event", "--set", "event.end.dateTime=2026-02-30T10:00:00"],
            "event.end.dateTime: must be a date and time that exists",
        ),
        (
            ["list_calendar_view", "--set", "start_date_time=2026-02-30T00:00:00Z"],
            "start_date_time: must be an ISO 8601 date and time, e.g. 2026-11-23T09:00:00Z",
        ),
        (
            ["find_meeting_times", "--set", "meeting_duration=1h"],
            "meeting_duration: must be an ISO 8601 duration, e.g. PT1H",
        ),
        (
            ["raw_http_request", "--set", "endpoint=me/calendars"],
            "endpoint: must be a path after the base URL starting with a slash (/me/calendars)",
        ),
        (["get_event", "--set", "event_id="], "event_id: must be at least 1 character long, got 0"),
        (
            ["add_event_attachment", "--set", "event_id=e", "--input", "@BIG"],
            "attachment.contentBytes: is over 3 MB once decoded (4,194,304 base64 characters): "
            "use upload_event_attachment",
        ),
    ],
)
def test_messages_say_what_is_expected(
    cli: Callable[..., CliResult],
    httpx2_mock: HTTPXMock,
    tmp_path: Path,
    argv: list[str],
    expected: str,
) -> None:
    if "@BIG" in argv:
        big = tmp_path / "big.json"
        attachment = {
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": "big.bin",
            "contentBytes": "A" * (4194304 + 4),
        }
        big.write_text(json.dumps({"attachment": attachment}))
        argv = [f"@{big}" if arg == "@BIG" else arg for arg in argv]
    base = ["event.subject=S"] if argv[0] == "create_event" else []
    extra = [arg for value in base for arg in ("--set", value)]
    if argv[0] == "create_event":
        for key in ("event.start.dateTime", "event.end.dateTime"):
            if not any(arg.startswith(key) for arg in argv):
                extra += ["--set", f"{key}=2026-11-24T09:30:00"]
    if argv[0] == "list_calendar_view":
        extra += ["--set", "end_date_time=2026-03-01T00:00:00Z"]
    result = cli("run", *argv, *extra, "--token", "t")
    assert result.code == 2, result.err
    assert result.err.startswith("mscal: error: ")
    assert expected in result.err
    assert "pattern" not in result.err and "^" not in result.err  # no raw regex
    assert httpx2_mock.get_requests() == []


def test_a_pasted_bearer_prefix_is_stripped(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock
) -> None:
    httpx2_mock.add_response(json={"value": []})
    assert cli("run", "list_calendars", "--token", " Bearer eyJ0.abc.def\n").code == 0
    request = httpx2_mock.get_request()
    assert request is not None and request.headers["Authorization"] == "Bearer eyJ0.abc.def"


@pytest.mark.parametrize(
    ("status", "code", "message", "advice"),
    [
        (
            401,
            "InvalidAuthenticationToken",
            "CompactToken parsing failed with error code: 80049217",
            'The token is malformed: pass the access token alone (no "Bearer " prefix',
        ),
        (
            400,
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
            "set user_id to the mailbox to use, e.g. --set user_id=adele@contoso.com",
        ),
    ],
)
def test_graph_errors_say_what_to_do(
    cli: Callable[..., CliResult],
    httpx2_mock: HTTPXMock,
    status: int,
    code: str,
    message: str,
    advice: str,
) -> None:
    httpx2_mock.add_response(status_code=status, json={"error": {"code": code, "message": message}})
    result = cli("run", "list_calendars", "--token", "t")
    assert result.code == 1
    assert result.err.startswith(f"mscal: error: HTTP {status} {code}: {message} ")
    assert advice in result.err


def test_an_unrelated_bad_request_gets_no_advice(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock
) -> None:
    httpx2_mock.add_response(
        status_code=400, json={"error": {"code": "BadRequest", "message": "Bad filter."}}
    )
    result = cli("run", "list_calendars", "--token", "t")
    assert result.err.startswith("mscal: error: HTTP 400 BadRequest: Bad filter. (")


def test_connection_errors_name_host_and_port(cli: Callable[..., CliResult]) -> None:
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = cli(
        "run", "list_calendars", "--token", "t", "--base-url", f"http://127.0.0.1:{port}/v1.0"
    )
    assert result.code == 1
    assert f"could not connect to 127.0.0.1 port {port}: check the base URL" in result.err


def test_run_operation_help_lists_its_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "list_calendar_view", "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: mscal run" in out and "exit status:" in out and "examples:" in out
    assert "list_calendar_view: List calendar view (Events)" in out
    assert "  start_date_time " in out and "required" in out
    assert "mscal run list_calendar_view --input '{" in out  # the spec's own example
    assert main(["run", "--help"]) == 0
    assert "mscal run OPERATION --help lists that operation's inputs" in capsys.readouterr().out


def test_auth_add_help_lists_the_form_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["auth", "add", "--help"]) == 0
    out = capsys.readouterr().out
    for key in ("client_id", "tenant_id", "scopes", "offline_access", "authority_host", "base_url"):
        assert f"  {key} " in out
    assert "client_secret" in out and "secret: --secret-stdin or --secret-env VAR" in out
    assert "mscal auth add Local --sandbox" in out


@pytest.mark.parametrize("page", [[], ["lint"], ["sandbox"], ["describe"]])
def test_help_pages_have_examples(capsys: pytest.CaptureFixture[str], page: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*page, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out or "first steps:" in out
    if not page:
        assert "exit status:" in out and "2  invalid input or usage: nothing was sent" in out


def test_describe_has_a_human_view(cli: Callable[..., CliResult]) -> None:
    human = cli("describe", "create_event")
    assert human.code == 0
    assert human.out.startswith("create_event: Create an event (Events)\n")
    assert "  event " in human.out and "The full JSON description" in human.out
    described = cli("describe", "create_event", "--json").json()
    assert described["name"] == "create_event"


def test_raw_output_schema_is_not_garbled(cli: Callable[..., CliResult]) -> None:
    body = cli("describe", "raw_http_request", "--json").json()["output_schema"]["properties"]
    assert body["body"] == {
        "description": "The response body, parsed as JSON when it is JSON, else text."
    }


def test_bulk_results_go_to_a_chosen_file(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx2_mock.add_response(
        url=f"{GRAPH}/$batch",
        json={
            "responses": [
                {"id": "0", "status": 201, "body": {"id": "e1"}},
                {"id": "1", "status": 201, "body": {"id": "e2"}},
            ]
        },
    )
    inputs = tmp_path / "in.jsonl"
    event = {
        "subject": "S",
        "start": {"dateTime": "2026-11-24T09:30:00"},
        "end": {"dateTime": "2026-11-24T10:00:00"},
    }
    inputs.write_text("\n".join(json.dumps({"event": event}) for _ in range(2)) + "\n")
    results = tmp_path / "out.jsonl"
    result = cli(
        "run",
        "create_event",
        "--input-file",
        str(inputs),
        "--results",
        str(results),
        "--token",
        "t",
    )
    assert result.code == 0, result.err
    kept = [json.loads(line) for line in results.read_text().splitlines()]
    assert [(k["index"], k["ok"], k["result"]["id"]) for k in kept] == [
        (0, True, "e1"),
        (1, True, "e2"),
    ]
    assert f"2 of 2 succeeded, 0 failed; every outcome, one JSON line each, is in {results}" in (
        result.err
    )
    assert cli("run", "list_calendars", "--results", "x.jsonl", "--token", "t").code == 2
