"""Issue 14: `--input-file` streams. The first request leaves after at most one window of lines
has been read (not the whole file), and lines are read as outcomes are handed out, so memory
does not grow with the file."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from pytest_httpx2 import HTTPXMock

from mscal.cli.bulk import WINDOW
from tests.conftest import CANARY_TOKEN, GRAPH, CliResult

LINES = 5 * WINDOW + 7


class CountingInput(io.BytesIO):
    """A stdin whose lines are counted as they are read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.lines_read = 0

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        if line:
            self.lines_read += 1
        return line

    def seekable(self) -> bool:
        return False  # a pipe: no counting ahead for the bar


def test_the_first_request_leaves_after_one_window_not_the_whole_file(
    cli: Callable[..., CliResult],
    httpx2_mock: HTTPXMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdin = CountingInput(b"".join(b'{"event_id": "e%d"}\n' % i for i in range(LINES)))
    read_at_each_batch: list[int] = []

    def batch(request: httpx2.Request) -> httpx2.Response:
        read_at_each_batch.append(stdin.lines_read)
        ids = [r["id"] for r in json.loads(request.content)["requests"]]
        return httpx2.Response(200, json={"responses": [{"id": i, "status": 204} for i in ids]})

    httpx2_mock.add_callback(batch, url=f"{GRAPH}/$batch", is_reusable=True)
    monkeypatch.setattr("sys.stdin", type("Stdin", (), {"buffer": stdin})())
    result = cli("run", "delete_event", "--input-file", "-", "--token", CANARY_TOKEN)
    assert result.code == 0, result.err
    outcomes = [json.loads(line) for line in result.out.splitlines()]
    assert [o["index"] for o in outcomes] == list(range(LINES))
    assert all(o["ok"] for o in outcomes)
    assert read_at_each_batch[0] <= WINDOW  # not LINES
    assert max(read_at_each_batch) == LINES  # the rest was read as the run went on
    assert sum(1 for n in read_at_each_batch if n <= 2 * WINDOW) >= WINDOW // 20


def test_outcomes_of_windows_keep_input_order_across_broken_lines(
    cli: Callable[..., CliResult], httpx2_mock: HTTPXMock, tmp_path: Any
) -> None:
    def batch(request: httpx2.Request) -> httpx2.Response:
        ids = [r["id"] for r in json.loads(request.content)["requests"]]
        return httpx2.Response(200, json={"responses": [{"id": i, "status": 204} for i in ids]})

    httpx2_mock.add_callback(batch, url=f"{GRAPH}/$batch", is_reusable=True)
    lines = [b'{"event_id": "e%d"}' % i for i in range(WINDOW + 50)]
    lines[WINDOW - 1] = b"{broken"
    lines[WINDOW + 3] = b'"not an object"'
    path = tmp_path / "items.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = cli("run", "delete_event", "--input-file", str(path), "--token", CANARY_TOKEN)
    outcomes = [json.loads(line) for line in result.out.splitlines()]
    assert [o["index"] for o in outcomes] == list(range(len(lines)))
    assert [o["index"] for o in outcomes if not o["ok"]] == [WINDOW - 1, WINDOW + 3]
    assert result.code == 1
