"""Issue 14: the CLI never tracebacks on input. Depth, encoding, huge numbers, lone surrogates,
control characters in a token and oversized inputs are input errors (exit 2, one line, nothing
sent); the same values through the API are InputErrors naming the field."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from tests.conftest import CANARY_TOKEN, GRAPH, CliResult

DEEP = '{"event_id": ' + "[" * 10_000 + "]" * 10_000 + "}"
HUGE = '{"top": ' + "9" * 100_000 + "}"


def _one_line_input_error(result: CliResult, *words: str) -> None:
    assert result.code == 2, result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    for word in words:
        assert word in result.err


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (DEEP.encode(), ["nested too deeply"]),
        (HUGE.encode(), ["integer of 100000 digits"]),
        (b'{"event_id": "\xff\xfe"}', ["not valid UTF-8", "byte 14"]),
        (b'{"top": 1e400}', ["too large for a JSON number"]),
        (b'{"top": NaN}', ["NaN, which is not JSON"]),
        (b'{"event_id": "\\ud800"}', ["event_id", "lone surrogate"]),
    ],
)
def test_a_hostile_input_file_is_one_input_error(
    content: bytes,
    words: list[str],
    tmp_path: Path,
    cli: Callable[..., CliResult],
    httpx2_mock: HTTPXMock,
) -> None:
    path = tmp_path / "inputs.json"
    path.write_bytes(content)
    _one_line_input_error(cli("run", "get_event", "--input", f"@{path}", "--token", "t"), *words)
    if content.isascii():  # argv is text: the same through --input
        _one_line_input_error(
            cli("run", "get_event", "--input", content.decode(), "--token", "t"), *words
        )
    lines = tmp_path / "inputs.jsonl"
    lines.write_bytes(content + b"\n")
    result = cli("run", "get_event", "--input-file", str(lines), "--token", "t")
    assert result.code == 1 and "Traceback" not in result.err
    assert all(word in result.out for word in words if word != "event_id")
    assert httpx2_mock.get_requests() == []


def test_deep_and_huge_values_through_set(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock
) -> None:
    _one_line_input_error(
        cli("run", "list_events", "--set", "top=" + "9" * 100_000, "--token", "t"), "--set top"
    )
    _one_line_input_error(
        cli("run", "list_events", "--set", "select=" + "[" * 10_000, "--token", "t")
    )
    # A lone surrogate from argv (Python's surrogateescape of a byte that is not UTF-8).
    _one_line_input_error(
        cli("run", "get_event", "--set", "event_id=a\udcffb", "--token", "t"), "lone surrogate"
    )
    assert httpx2_mock.get_requests() == []


@pytest.mark.parametrize("token", ["T\r\nX-Injected: y", "T\nX: y", "T\x00"])
def test_a_token_with_a_control_character_is_refused_naming_the_field(
    token: str,
    cli: Callable[..., CliResult],
    httpx2_mock: HTTPXMock,
    connector: mscal.Connector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = cli("run", "get_event", "--set", "event_id=x", "--token", token)
    _one_line_input_error(result, "--token:", "control character")
    assert "X-Injected" not in result.err
    if "\x00" not in token:  # an environment cannot hold a NUL
        monkeypatch.setenv("MSCAL_ACCESS_TOKEN", token)
        _one_line_input_error(cli("run", "get_event", "--set", "event_id=x"), "MSCAL_ACCESS_TOKEN:")
    with pytest.raises(mscal.InputError) as caught:
        connector.authentication(access_token=token)
    assert (caught.value.field, caught.value.rule) == ("access_token", "format")
    with pytest.raises(mscal.InputError, match="refresh_token"):
        connector.authentication(refresh_token=token)
    assert httpx2_mock.get_requests() == []


SURROGATE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("get_event", {"event_id": "\ud800"}, "event_id"),
    ("list_events", {"filter": "subject eq '\udfff'"}, "filter"),
    ("list_events", {"select": ["subject", "\ud83d"]}, "select"),
    ("create_event", {"event": {"subject": "\ud800"}}, "event"),
    ("update_event", {"event_id": "x", "event": {"body": {"content": "a\udc00"}}}, "event"),
    ("raw_http_request", {"method": "GET", "endpoint": "/me/\ud800"}, "endpoint"),
    (
        "raw_http_request",
        {"method": "POST", "endpoint": "/me/events", "body_type": "json", "body": {"\ud800": 1}},
        "body",
    ),
]


@pytest.mark.parametrize(("operation", "inputs", "field"), SURROGATE_CASES)
def test_a_lone_surrogate_is_an_input_error_in_the_api(
    operation: str,
    inputs: dict[str, Any],
    field: str,
    run: Callable[..., Any],
    httpx2_mock: HTTPXMock,
) -> None:
    with pytest.raises(mscal.InputError) as caught:
        run(operation, inputs)
    assert (caught.value.field, caught.value.rule) == (field, "encoding")
    assert httpx2_mock.get_requests() == []


@pytest.mark.parametrize(
    "value", [10**5000, float("inf"), float("nan")], ids=["huge", "inf", "nan"]
)
def test_numbers_json_cannot_carry_are_input_errors_in_the_api(
    value: Any, run: Callable[..., Any], httpx2_mock: HTTPXMock
) -> None:
    body = {"method": "POST", "endpoint": "/me/events", "body_type": "json", "body": {"n": value}}
    with pytest.raises(mscal.InputError) as caught:
        run("raw_http_request", body)
    assert caught.value.field == "body"
    assert httpx2_mock.get_requests() == []


def test_an_input_over_the_stated_size_is_refused_before_it_is_read(
    tmp_path: Path, cli: Callable[..., CliResult], httpx2_mock: HTTPXMock
) -> None:
    # A sparse 300 MB file: were it read, the test would take seconds and the memory show it.
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(300 << 20)
    _one_line_input_error(
        cli("run", "get_event", "--input", f"@{path}", "--token", "t"),
        f"{path} is {300 << 20} bytes; at most",
    )
    # get_event's cap is its body limit plus 1 MiB; the upload's is its content's maxLength.
    lines = tmp_path / "long.jsonl"
    lines.write_bytes(b'{"event_id": "' + b"a" * (7 << 20) + b'"}\n{"event_id": "b"}\n')
    httpx2_mock.add_response(url=f"{GRAPH}/me/events/b", json={"id": "b"})
    result = cli("run", "get_event", "--input-file", str(lines), "--token", "t")
    assert result.code == 1
    first, second = result.out.splitlines()
    assert '"rule": "size"' in first and "line 1 is more than" in first
    assert '"ok": true' in second


def test_a_server_answer_with_a_lone_surrogate_prints(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock
) -> None:
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/events/x",
        content=b'{"id": "x", "subject": "\\ud800 caf\\u00e9"}',
        headers={"content-type": "application/json"},
    )
    result = cli("run", "get_event", "--set", "event_id=x", "--token", CANARY_TOKEN)
    assert result.code == 0, result.err
    assert '"subject": "\\ud800 caf\\u00e9"' in result.out  # escaped, still JSON


def test_a_paging_error_prints_the_link_to_resume_from(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock, no_sleep: list[float]
) -> None:
    second = f"{GRAPH}/me/events?$skiptoken=page-2"
    httpx2_mock.add_response(
        url=f"{GRAPH}/me/events", json={"value": [1], "@odata.nextLink": second}
    )
    httpx2_mock.add_response(
        url=second, status_code=500, json={"error": {"code": "x", "message": "y"}}, is_reusable=True
    )
    result = cli("run", "list_events", "--set", "all_pages=true", "--token", CANARY_TOKEN)
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1
    assert "paging stopped after 1 items" in result.err
    assert f"resume from {second}" in result.err


def test_an_authentications_directory_others_can_write_is_fixed_or_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., CliResult]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    personal = tmp_path / "config" / "mscal" / "authentications"
    personal.mkdir(parents=True)
    personal.chmod(0o777)
    listed = cli("auth", "list")
    assert listed.code == 0
    assert oct(personal.stat().st_mode & 0o777) == "0o700"
    team = tmp_path / "team"
    team.mkdir()
    team.chmod(0o777)
    monkeypatch.setenv("MSCAL_SHARED_AUTHENTICATIONS", str(team))
    refused = cli("auth", "list")
    assert refused.code == 2
    assert f"{team} is writable by others (mode 0o777)" in refused.err
    assert f"chmod o-w {team}" in refused.err
    team.chmod(0o770)  # a team may share a group-writable one
    assert cli("auth", "list").code == 0
    assert os.stat(team).st_mode & 0o777 == 0o770
