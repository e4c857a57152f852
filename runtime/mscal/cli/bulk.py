"""`mscal run OPERATION --input-file items.jsonl`: one operation over every line of a file.

Piped, every input gets one JSON line on stdout, in input order, as soon as it is known:
`{"index": 0, "ok": true, "result": ...}` or `{"index": 1, "ok": false, "error": {...}}`. On a
terminal, a progress bar on stderr instead, then the failures and a summary; the outcomes are
never lost: every line goes to the `--results` file, or to a results file named in the summary.
The file is streamed: lines are read and prepared a window at a time, so the first request
goes out at once and memory stays flat whatever the file's size. A line that is not a JSON
object of inputs (or is over the operation's input cap) is that input's failure; the rest run.
The exit status is 0 when every input succeeded, 1 when any failed, 2 when the file is unreadable.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

from mscal.call.batching import Outcome
from mscal.cli.json_input import json_lines
from mscal.cli.usage import UsageError, dumps
from mscal.errors import InputError
from mscal.io.session import Session

# Inputs prepared at once: enough to fill every mailbox's batches, few enough that the first
# request leaves well within a second and memory does not grow with the file.
WINDOW = 400
# A file this small has its lines counted first, for the progress bar's total.
_COUNTED_BYTES = 64 << 20


def run_file(
    session: Session,
    operation: str,
    path: str,
    *,
    jsonl: bool,
    cap: int,
    results: str | None = None,
) -> int:
    if path == "-":
        stdin = getattr(sys.stdin, "buffer", sys.stdin)
        return _run(session, operation, stdin, "stdin", jsonl, cap, results)
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below, after the run)
    except OSError as exc:
        raise UsageError(f"--input-file: cannot read {path}: {exc.strerror}") from None
    with handle:
        return _run(session, operation, handle, path, jsonl, cap, results)


def _run(
    session: Session,
    operation: str,
    handle: IO[Any],
    source: str,
    jsonl: bool,
    cap: int,
    results: str | None,
) -> int:
    # The bar needs the `progress` extra; without it a terminal gets JSON lines too.
    show_bar = sys.stdout.isatty() and not jsonl and importlib.util.find_spec("tqdm") is not None
    if show_bar and results is None:
        # A bar shows only failures: the results (the ids of created events) go to a file.
        results = time.strftime(f"mscal-results-{operation}-%Y%m%d-%H%M%S.jsonl")
    sink = _open_results(results) if results else None
    failed = total = 0
    bar = _progress(_count_lines(handle)) if show_bar else None
    try:
        for outcome in _outcomes(session, operation, json_lines(handle, source, cap)):
            total += 1
            failed += not outcome.ok
            line = dumps(outcome.to_dict())
            if sink is not None:
                sink.write(line + "\n")
                sink.flush()
            if bar is not None:
                bar.update(1)
                if not outcome.ok:
                    bar.write(line, file=sys.stdout)
            elif sink is None or not sys.stdout.isatty() or jsonl:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
    finally:
        if bar is not None:
            bar.close()
        if sink is not None:
            sink.close()
    if show_bar or failed or sink is not None:
        kept = f"; every outcome, one JSON line each, is in {results}" if results else ""
        print(
            f"{total - failed} of {total} succeeded, {failed} failed{kept}",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _outcomes(
    session: Session, operation: str, entries: Iterator[dict[str, Any] | InputError]
) -> Iterator[Outcome]:
    """Outcomes in input order, a window of lines at a time; a broken line is its own failed
    outcome, between the runs of the good lines around it."""
    index = 0
    while window := list(itertools.islice(entries, WINDOW)):
        start = 0
        while start < len(window):
            entry = window[start]
            if isinstance(entry, InputError):
                yield Outcome(index, error=entry)
                index, start = index + 1, start + 1
                continue
            end = start
            while end < len(window) and not isinstance(window[end], InputError):
                end += 1
            good: list[dict[str, Any]] = window[start:end]  # type: ignore[assignment]
            for outcome in session.run_many(operation, good):
                yield Outcome(index + outcome.index, outcome.result, outcome.error)
            index, start = index + (end - start), end


def _count_lines(handle: IO[Any]) -> int | None:
    """A small regular file's non-blank lines (for the bar's total); None otherwise."""
    try:
        if not handle.seekable() or os.fstat(handle.fileno()).st_size > _COUNTED_BYTES:
            return None
        count = sum(1 for line in handle if line.strip())
        handle.seek(0)
        return count
    except (OSError, ValueError):
        return None


def _open_results(path: str) -> IO[str]:
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--results: cannot write {path}: {exc.strerror}") from None


def _progress(total: int | None) -> Any:
    # Imported here: tqdm is an optional extra, used only on a terminal.
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(total=total, unit="input", file=sys.stderr, dynamic_ncols=True)
