"""`mscal triggers` and `mscal watch` as a person (or an outside check) runs them: one JSON line
per change, the state file saved after each batch (0600), and killed with SIGKILL and started
again with the same --state, neither a change lost nor one repeated."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import mscal
from mscal.sandbox.service import Sandbox
from tests.e2e.trigger_scenario import Expected, Scenario, emitted

MSCAL = [sys.executable, "-m", "mscal.cli.main"]


def _token(auth: mscal.Authentication) -> str:
    assert auth.access_token is not None
    return auth.access_token.reveal()


def _watch_args(service: str, auth: mscal.Authentication, state: Path) -> list[str]:
    return [
        *MSCAL, "watch", "event_changed", "--token", _token(auth),
        "--base-url", f"{service}/v1.0", "--state", str(state),
    ]  # fmt: skip


def _lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text() if path.exists() else ""
    return [json.loads(line) for line in text.splitlines() if line.endswith("}")]


def test_triggers_lists_them() -> None:
    done = subprocess.run(
        [*MSCAL, "triggers", "--json"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    names = [t["name"] for t in json.loads(done.stdout)]
    assert names == [
        "event_created", "event_updated", "event_deleted", "event_cancelled",
        "event_changed", "event_starting_soon",
    ]  # fmt: skip


def test_watch_once_prints_one_line_per_change_and_saves_the_state(
    service: str, sandbox: Sandbox, alex: mscal.Authentication, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    args = [*_watch_args(service, alex, state), "--once"]
    first = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert (first.returncode, first.stdout, first.stderr) == (0, "", "")  # a baseline
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    scenario = Scenario(sandbox.tenant, dt.datetime.now(dt.UTC), seed=3)
    expected = scenario.batch(10)
    second = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert second.returncode == 0, second.stderr
    lines = [json.loads(line) for line in second.stdout.splitlines()]
    assert emitted(lines) == expected
    assert all(
        set(line) == {"trigger", "change", "event_id", "dedupe_key", "event"} for line in lines
    )
    again = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert (again.returncode, again.stdout) == (0, "")


def test_watch_refuses_bad_input_with_exit_2_and_sends_nothing(
    service: str, alex: mscal.Authentication, tmp_path: Path
) -> None:
    base = _watch_args(service, alex, tmp_path / "s.json")
    bad = subprocess.run(
        [*base, "--set", "window_days=0", "--once"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert "window_days" in bad.stderr and "Traceback" not in bad.stderr
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"trigger": "event_created", "inputs": {}}))
    mismatch = subprocess.run(
        [*base[:-1], str(other), "--once"], capture_output=True, text=True, check=False
    )
    assert mismatch.returncode == 2 and "event_created" in mismatch.stderr


def test_killed_and_restarted_it_neither_loses_nor_repeats(
    service: str, sandbox: Sandbox, alex: mscal.Authentication, tmp_path: Path
) -> None:
    state, out_path = tmp_path / "state.json", tmp_path / "out.jsonl"
    args = [*_watch_args(service, alex, state), "--interval", "0.05"]
    subprocess.run([*args, "--once"], check=True, timeout=60)  # the baseline
    scenario = Scenario(sandbox.tenant, dt.datetime.now(dt.UTC), seed=9)
    rng = random.Random(9)
    expected: Expected = Counter()
    kills = 0
    with out_path.open("ab") as out:
        process = subprocess.Popen(args, stdout=out)
        try:
            for number in range(20):
                expected += scenario.batch(50)
                if number % 4 == 1:  # SIGKILL while it reads this batch, then start it again
                    time.sleep(rng.uniform(0.0, 0.3))
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                    kills += 1
                    process = subprocess.Popen(args, stdout=out)
                _wait_for(out_path, expected)
            expected += scenario.batch(10)  # the last one started reads a batch as well
            _wait_for(out_path, expected)
        finally:
            process.send_signal(signal.SIGINT)  # Ctrl-C: stops cleanly
            code = process.wait(timeout=30)
    assert code == 0
    lines = _lines(out_path)
    assert kills >= 5
    assert emitted(lines) == expected  # 0 lost, 0 repeated
    assert sum(expected.values()) >= 1000


def _wait_for(path: Path, expected: Expected, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if emitted(_lines(path)) >= expected:
            return
        time.sleep(0.05)
    missing = expected - emitted(_lines(path))
    raise AssertionError(f"not emitted in {timeout} s: {list(missing)[:5]}")


def test_watch_without_credentials_is_a_usage_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MSCAL_ACCESS_TOKEN"}
    done = subprocess.run(
        [*MSCAL, "watch", "event_created", "--once", "--state", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2 and "no credentials" in done.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_watch_in_webhook_mode_runs_a_round_when_notified(
    service: str, sandbox: Sandbox, alex: mscal.Authentication, tmp_path: Path
) -> None:
    state, out_path = tmp_path / "state.json", tmp_path / "out.jsonl"
    port = _free_port()
    args = [
        *_watch_args(service, alex, state), "--interval", "3600",
        "--webhook", f"http://127.0.0.1:{port}/notify", "--listen", f"127.0.0.1:{port}",
    ]  # fmt: skip
    with out_path.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while not (state.exists() and json.loads(state.read_text()).get("subscription")):
                assert time.monotonic() < deadline and process.poll() is None, "no subscription"
                time.sleep(0.05)
            # The safety round is an hour away: only a notification makes this round run.
            scenario = Scenario(sandbox.tenant, dt.datetime.now(dt.UTC), seed=12)
            expected = scenario.batch(20)
            _wait_for(out_path, expected)
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
    assert code == 0
    assert emitted(_lines(out_path)) == expected
    saved = json.loads(state.read_text())["subscription"]
    assert saved["notification_url"] == f"http://127.0.0.1:{port}/notify"
    assert [s["id"] for s in sandbox.tenant.subscriptions.all()] == [saved["id"]]
    sandbox.tenant.subscriptions.delete(saved["id"])  # the next module's service is its own


def test_webhook_and_listen_go_together(
    service: str, alex: mscal.Authentication, tmp_path: Path
) -> None:
    args = [*_watch_args(service, alex, tmp_path / "s.json"), "--webhook", "http://x/"]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "--listen" in done.stderr
