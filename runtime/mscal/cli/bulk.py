"""`mscal run OPERATION --input-file items.jsonl`: one operation over every line of a file.

Piped, every input gets one JSON line on stdout, in input order, as soon as it is known:
`{"index": 0, "ok": true, "result": ...}` or `{"index": 1, "ok": false, "error": {...}}`. On a
terminal, a progress bar on stderr instead, then the failures and a summary; the outcomes are
never lost: every line goes to the `--results` file, or to a results file named in the summary.
The exit status is 0 when every input succeeded, 1 when any failed, 2 when the file is unreadable.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from typing import IO, Any

from mscal.cli.usage import UsageError
from mscal.errors import InputError
from mscal.io.session import Session


def read_lines(handle: IO[str], source: str) -> list[dict[str, Any]]:
    """Inputs from JSON lines (blank lines skipped); a broken line stops before anything runs."""
    items = []
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                "", "json", f"{source} line {number} is not valid JSON: {exc.msg}"
            ) from None
        if not isinstance(value, dict):
            raise InputError("", "type", f"{source} line {number} must be a JSON object of inputs")
        items.append(value)
    return items


def run_file(
    session: Session, operation: str, path: str, *, jsonl: bool, results: str | None = None
) -> int:
    if path == "-":
        inputs = read_lines(sys.stdin, "stdin")
    else:
        try:
            with open(path, encoding="utf-8") as handle:
                inputs = read_lines(handle, path)
        except OSError as exc:
            raise UsageError(f"--input-file: cannot read {path}: {exc.strerror}") from None
    # The bar needs the `progress` extra; without it a terminal gets JSON lines too.
    show_bar = sys.stdout.isatty() and not jsonl and importlib.util.find_spec("tqdm") is not None
    if show_bar and results is None:
        # A bar shows only failures: the results (the ids of created events) go to a file.
        results = time.strftime(f"mscal-results-{operation}-%Y%m%d-%H%M%S.jsonl")
    sink = _open_results(results) if results else None
    failed = 0
    bar = _progress(len(inputs)) if show_bar else None
    try:
        for outcome in session.run_many(operation, inputs):
            failed += not outcome.ok
            line = json.dumps(outcome.to_dict(), ensure_ascii=False)
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
            f"{len(inputs) - failed} of {len(inputs)} succeeded, {failed} failed{kept}",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _open_results(path: str) -> IO[str]:
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--results: cannot write {path}: {exc.strerror}") from None


def _progress(total: int) -> Any:
    # Imported here: tqdm is an optional extra, used only on a terminal.
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(total=total, unit="input", file=sys.stderr, dynamic_ncols=True)
