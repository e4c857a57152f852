"""Client CPU as instructions counted by callgrind: the runtime against plain httpx2.

`graph_bench.py` times the client's CPU (`time.process_time`), which moves with whatever else
the machine is doing. This bench counts the instructions the client executes instead
(valgrind's callgrind, Debian's `valgrind`): the same count for the same work whatever the
load, so two runs on a busy machine agree. It runs against the same local service as
graph_bench (seeded, in its own process, not counted), and prints ratios against plain httpx2
measured in the same run:

- 1v  `get_event`, a new event id every call: instructions per call
- 4   `create_event`, a new event every call: instructions per call
- 5b  a cold `mscal run list_calendars` process against `python -c` with httpx2: instructions

Per call = (a process making K calls - the same process making none) / K, so start-up, the
imports and the warm-up (20 calls) cancel out. Cold start counts whole processes, with
bytecode caches and the spec cache warm (as after an install and one earlier call).

    .venv/bin/python bench/instructions_bench.py [--calls 200]

Instructions are not seconds (a cache miss costs more than an add), but on this code the two
move together; graph_bench gives the seconds.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from graph_bench import Settings, child_env, local_graph, seeded_event_ids

_CALLS = """
import json, sys, uuid
from urllib.parse import quote
import httpx2
base, token, side, case, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
user, calendar, ids_file = sys.argv[6], sys.argv[7], sys.argv[8]
plain = httpx2.Client(headers={"Authorization": "Bearer " + token, "Accept": "application/json"})
with open(ids_file) as handle:
    ids = json.load(handle)
event = {"subject": "Bench", "body": {"contentType": "text", "content": "x" * 200},
         "start": {"dateTime": "2026-12-10T10:00:00", "timeZone": "UTC"},
         "end": {"dateTime": "2026-12-10T11:00:00", "timeZone": "UTC"},
         "attendees": [{"emailAddress": {"address": "a@contoso.com"}, "type": "required"}]}
q = lambda v: quote(v, safe="")
if side == "ours":
    from mscal import load_connector
    c = load_connector()
    s = c.session(auth=c.authentication({"base_url": base}, access_token=token))
    get = lambda i: s.run("get_event", {"event_id": i})
    where = {"user_id": user, "calendar_id": calendar}
    create = lambda: s.run("create_event", {**where, "event": event})
else:
    get = lambda i: plain.get(f"{base}/me/events/{q(i)}").json()
    def create():
        body = {**event, "transactionId": str(uuid.uuid4())}
        r = plain.post(f"{base}/users/{q(user)}/calendars/{q(calendar)}/events", json=body)
        assert r.status_code == 201, r.text
        return r.json()
call = (lambda k: get(ids[k % len(ids)])) if case == "get" else (lambda k: create())
for k in range(20):
    call(k)
for k in range(20, 20 + n):
    call(k)
"""

_HTTPX2_SCRIPT = """
import json, sys
import httpx2
base, token = sys.argv[1:3]
response = httpx2.get(base + "/me/calendars",
                      headers={"Authorization": "Bearer " + token, "Accept": "application/json"})
response.raise_for_status()
print(json.dumps(response.json(), indent=2))
"""


def instructions(command: list[str], env: dict[str, str], workdir: Path) -> int:
    out = workdir / "callgrind.out"
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"{command[:4]} failed: {done.stderr[-800:]}")
    out.unlink(missing_ok=True)
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="calls counted per side and case")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed: apt-get install valgrind")
    work = Path(tempfile.mkdtemp(prefix="mscal-instr-"))
    try:
        with local_graph(Settings.pick(True)) as service:
            env = child_env(service)
            user, calendar = service.create_boxes[0]
            ids_file = work / "ids.json"
            ids_file.write_text(json.dumps(seeded_event_ids(service)))
            mscal = Path(sys.executable).with_name("mscal")
            rows: list[tuple[str, str, float, float]] = []
            for case, key, label in (
                ("get", "1v", "get_event, a new id each call (instructions/call)"),
                ("create", "4", "create_event, a new event each call (instructions/call)"),
            ):
                per_call: dict[str, float] = {}
                for side in ("floor", "ours"):
                    base = [sys.executable, "-c", _CALLS, service.base, service.token, side, case]
                    box = [user, calendar, str(ids_file)]
                    # Uncounted first: writes the .pyc files, which a counted run must not pay.
                    subprocess.run([*base, "1", *box], capture_output=True, env=env, check=True)
                    none = instructions([*base, "0", *box], env, work)
                    many = instructions([*base, str(args.calls), *box], env, work)
                    per_call[side] = (many - none) / args.calls
                rows.append((key, label, per_call["floor"], per_call["ours"]))
            run = [str(mscal), "run", "list_calendars", "--base-url", service.base]
            ours_cmd = [*run, "--token", service.token]
            floor_cmd = [sys.executable, "-c", _HTTPX2_SCRIPT, service.base, service.token]
            for command in (ours_cmd, floor_cmd):  # warm: .pyc files and the spec cache
                subprocess.run(command, capture_output=True, env=env, check=True)
            rows.append(
                (
                    "5b",
                    "cold `mscal run` vs python -c httpx2 (instructions/process)",
                    instructions(floor_cmd, env, work),
                    instructions(ours_cmd, env, work),
                )
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'#':<3} {'what':<62} {'httpx2':>14} {'mscal':>14} {'ratio':>7}")
    for key, label, floor, ours in rows:
        print(f"{key:<3} {label:<62} {floor:>14,.0f} {ours:>14,.0f} {ours / floor:>6.2f}x")


if __name__ == "__main__":
    main()
