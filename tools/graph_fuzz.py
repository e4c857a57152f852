"""Schemathesis over Microsoft's description of Graph's calendar surface, against the local
service on a real loopback socket, with real ids.

The description (`../shared/graph/calendar-openapi-v1.0.yaml`, beside the checkout) is read
where it lies, never copied. Before the run, a seeded service gets the things the paths name
(a meeting series with attendees who have mailboxes, a calendar in a new calendar group, a
group's event, permissions, an attachment), and their ids are given to schemathesis as the
path parameters; deletions get ids of their own, so one deleting case does not turn every
later case into a 404. The service counts what reaches it (each request, the operation of the
description it matches, and its status), so the figures do not depend on schemathesis's own
reporting.

    python -m tools.graph_fuzz --deadline 900      # the long run (figures in docs/sandbox.md)
    python -m tools.graph_fuzz --max-examples 1    # a short one

Schemathesis's coverage phase is left out by default: over Graph's event schema (hundreds of
nested properties) it spends minutes per operation before sending anything.

The test `tests/e2e/test_schemathesis.py` runs a bounded one in CI.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.seed import APOLLO_GROUP
from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox, create_sandbox

DESCRIPTION = Path(__file__).resolve().parents[1].parent / "shared/graph/calendar-openapi-v1.0.yaml"
USER = "adele@contoso.onmicrosoft.com"
ATTENDEES = ("alex@contoso.onmicrosoft.com", "megan@contoso.onmicrosoft.com")
WINDOW = ("2027-01-04T00:00:00", "2027-01-18T00:00:00")
Scope = Any  # an ASGI scope, receive or send: this module only passes them on


@dataclass
class Traffic:
    """What reached the service: requests by operation of the description, and statuses."""

    operations: list[tuple[str, re.Pattern[str]]]
    requests: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    succeeded: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)

    def record(self, method: str, path: str, status: int) -> None:
        self.requests += 1
        self.statuses[status] += 1
        operation = self.operation(method, path)
        if operation is not None:
            self.by_operation[operation] += 1
            if 200 <= status < 300:
                self.succeeded.add(operation)
        if status >= 500:
            self.server_errors.append(f"{status} {method} {path}")

    def operation(self, method: str, path: str) -> str | None:
        for name, pattern in self.operations:
            if pattern.fullmatch(f"{method} {path}"):
                return name
        return None


def _paths(description_path: Path) -> dict[str, list[str]]:
    """The description's paths and their methods, from its index beside it when there is one
    (reading the 1 MB description takes seconds; schemathesis reads it anyway)."""
    index = description_path.with_name(description_path.name.replace(".yaml", ".paths.json"))
    if index.is_file():
        return dict(json.loads(index.read_text(encoding="utf-8")))
    paths = yaml.safe_load(description_path.read_text(encoding="utf-8"))["paths"]
    return {path: [m for m in item if m != "parameters"] for path, item in paths.items()}


def operations(paths: dict[str, list[str]]) -> list[tuple[str, re.Pattern[str]]]:
    """Each operation of the description as `METHOD /path`, with a pattern for raw paths."""
    found = []
    for path, methods in paths.items():
        pieces = re.split(r"(\{[^}]+\})", path)
        body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in pieces if p)
        # Literal parentheses and quotes of function segments may arrive percent-encoded.
        body = body.replace(r"\(", r"(?:\(|%28)").replace(r"\)", r"(?:\)|%29)")
        body = body.replace("'", "(?:'|%27)").replace(r"\$", r"(?:\$|%24)")
        for method in (m.lower() for m in methods):
            if method in {"get", "post", "patch", "put", "delete"}:
                name = f"{method.upper()} {path}"
                found.append((name, re.compile(f"{method.upper()} /v1.0{body}")))
    return found


class Counting:
    """ASGI middleware recording each request's method, raw path and status."""

    def __init__(self, app: Any, traffic: Traffic) -> None:
        self.app = app
        self.traffic = traffic

    async def __call__(self, scope: Scope, receive: Scope, send: Scope) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path") or scope["path"].encode()
        path = raw.decode("latin-1").split("?", 1)[0]
        status = [0]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.traffic.record(scope["method"], path, status[0] or 500)


def _event(subject: str, day: str, **extra: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": f"{day}T10:00:00", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": f"{day}T11:00:00", "timeZone": "Pacific Standard Time"},
        **extra,
    }


def _series(subject: str) -> dict[str, Any]:
    return _event(
        subject,
        "2027-01-04",
        attendees=[{"emailAddress": {"address": a}, "type": "required"} for a in ATTENDEES],
        recurrence={
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]},
            "range": {"type": "numbered", "startDate": "2027-01-04", "numberOfOccurrences": 8},
        },
    )


def real_ids(sandbox: Sandbox) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(ids for every case, ids for deleting cases, ids under /groups/{group-id})."""
    tenant = sandbox.tenant
    me = tenant.user_owner(USER)
    calendars, events = tenant.calendars, tenant.events

    def calendar_in_a_group(name: str) -> tuple[str, str]:
        group = calendars.create_calendar_group(me, {"name": f"{name} group"})
        calendar = calendars.create_calendar(me, {"name": name}, group["id"])
        return group["id"], calendar["id"]

    def meeting(owner: Owner, subject: str) -> str:
        event, _ = events.create_event(owner, None, _series(subject))
        tenant.attachments.add(
            owner,
            event["id"],
            {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": "agenda.txt",
                "contentBytes": "QWdlbmRh",
            },
        )
        return str(event["id"])

    group_id, calendar_id = calendar_in_a_group("Fuzzing")
    doomed_group, doomed_calendar = calendar_in_a_group("Fuzzing, deleted")
    event_id = meeting(me, "Fuzzed series")
    # An edited occurrence: the case the attendees' views once failed on.
    occurrence = events.instances(me, event_id, *(_utc(w) for w in WINDOW))[1]
    events.update_event(me, occurrence["id"], {"subject": "Fuzzed, moved"})
    attachment = tenant.attachments.list(me, event_id)[0]["id"]
    permission = tenant.sharing.create(
        me,
        calendars.calendar(me, calendar_id),
        {"emailAddress": {"address": ATTENDEES[0]}, "role": "read"},
    )
    room = tenant.lookups.rooms()[0]["id"]
    office = tenant.directory.group_owner(APOLLO_GROUP)
    group_event = meeting(office, "Fuzzed group series")
    common = {
        "user-id": str(me.id),
        "group-id": office.id,
        "calendar-id": calendar_id,
        "calendarGroup-id": group_id,
        "event-id": event_id,
        "attachment-id": str(attachment),
        "calendarPermission-id": str(permission["id"]),
        "place-id": str(room),
        "User": ATTENDEES[0],
        "StartDateTime": WINDOW[0],
        "EndDateTime": WINDOW[1],
    }
    doomed_event, _ = events.create_event(me, None, _event("Fuzzed, deleted", "2027-01-05"))
    deleting = {
        "event-id": str(doomed_event["id"]),
        "calendar-id": doomed_calendar,
        "calendarGroup-id": doomed_group,
    }
    doomed_group_event, _ = events.create_event(office, None, _event("Deleted", "2027-01-06"))
    in_groups = {"event-id": group_event, "doomed": str(doomed_group_event["id"])}
    return common, deleting, in_groups


def _utc(text: str) -> Any:
    import datetime as dt  # noqa: PLC0415  (a script; kept beside its one use)

    return dt.datetime.fromisoformat(text)


@contextmanager
def serving(sandbox: Sandbox, traffic: Traffic) -> Iterator[str]:
    with BackgroundServer(Counting(sandbox.app, traffic)) as url:  # type: ignore[arg-type]
        yield url


@dataclass
class Figures:
    cases: int
    requests: int
    operations: int
    operations_reached: int
    operations_succeeded: int
    server_errors: list[str]
    schemathesis_failures: list[str]
    schemathesis_errors: list[str]
    stop_reason: str
    seconds: float
    statuses: dict[int, int]

    def report(self) -> str:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return (
            f"{self.cases} cases ({self.requests} requests) in {self.seconds:.0f} s; "
            f"operations reached {self.operations_reached} of {self.operations} "
            f"({self.operations_succeeded} answered 2xx at least once); "
            f"server errors {len(self.server_errors)}; statuses {statuses}; "
            f"schemathesis: {self.stop_reason}, {len(self.schemathesis_errors)} errors"
        )


def run(
    description_path: Path = DESCRIPTION,
    *,
    max_examples: int = 10,
    phases: tuple[str, ...] = ("examples", "fuzzing"),
    workers: int = 2,
    seed: int | None = None,
    deadline: float | None = None,
) -> Figures:
    """Run schemathesis against a fresh seeded service; stop at `deadline` seconds if given."""
    import schemathesis  # noqa: PLC0415  (a test-only dependency, needed only here)
    from schemathesis.engine import events  # noqa: PLC0415

    traffic = Traffic(operations(_paths(description_path)))
    sandbox = create_sandbox(":memory:", seed=True)
    common, deleting, in_groups = real_ids(sandbox)
    token = sandbox.identity.issue_for(USER, "Calendars.ReadWrite User.Read Place.Read.All")
    config: dict[str, Any] = {
        "workers": workers,
        "parameters": common,
        "generation": {"max-examples": max_examples, "database": "none"},
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
        "phases": {
            name: {"enabled": name in phases}
            for name in ("examples", "coverage", "fuzzing", "stateful")
        },
        # The first section an operation matches gives its ids.
        "operations": [
            {
                "include-path-regex": "^/groups/",
                "include-method": "DELETE",
                "parameters": {**common, **deleting, "event-id": in_groups["doomed"]},
            },
            {
                "include-path-regex": "^/groups/",
                "parameters": {**common, "event-id": in_groups["event-id"]},
            },
            {"include-method": "DELETE", "parameters": {**common, **deleting}},
            {
                # Deleting actions: an organizer's cancel deletes the meeting too.
                "include-path-regex": "(permanentDelete|cancel)$",
                "parameters": {**common, **deleting},
            },
        ],
    }
    if seed is not None:
        config["seed"] = seed
    started = time.monotonic()
    failures: list[str] = []
    errors: list[str] = []
    stop_reason = ""
    cases = 0
    with serving(sandbox, traffic) as url:
        schema = schemathesis.openapi.from_path(
            description_path, config=schemathesis.Config.from_dict(config)
        )
        schema.config.update(base_url=f"{url}/v1.0", headers={"Authorization": f"Bearer {token}"})
        stream = schemathesis.engine.from_schema(schema).execute()
        for event in stream:
            if isinstance(event, events.ScenarioFinished):
                cases += len(event.recorder.cases)
            if isinstance(event, events.EngineFinished):
                failures = [f"{failure}" for failure in event.failures]
                stop_reason = str(event.stop_reason.value)
            if isinstance(event, events.NonFatalError):
                errors.append(f"{event.label}: {type(event.value).__name__}: {event.value}")
            if deadline is not None and time.monotonic() - started > deadline:
                stream.stop()
    return Figures(
        cases=cases,
        requests=traffic.requests,
        operations=len(traffic.operations),
        operations_reached=len(traffic.by_operation),
        operations_succeeded=len(traffic.succeeded),
        server_errors=traffic.server_errors,
        schemathesis_failures=failures,
        schemathesis_errors=errors,
        stop_reason=stop_reason,
        seconds=time.monotonic() - started,
        statuses=dict(traffic.statuses),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--description", type=Path, default=DESCRIPTION)
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int)
    parser.add_argument(
        "--phases", default="examples,fuzzing", help="schemathesis phases, comma-separated"
    )
    parser.add_argument("--deadline", type=float, help="stop after this many seconds")
    args = parser.parse_args(argv)
    if not args.description.is_file():
        print(f"no description at {args.description}", file=sys.stderr)
        return 2
    figures = run(
        args.description,
        max_examples=args.max_examples,
        phases=tuple(args.phases.split(",")),
        workers=args.workers,
        seed=args.seed,
        deadline=args.deadline,
    )
    print(figures.report())
    for line in figures.server_errors[:50]:
        print("  ", line)
    for line in figures.schemathesis_errors[:20]:
        print("   schemathesis:", line[:300])
    return 1 if figures.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
