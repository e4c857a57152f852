"""`mscal demo`: a short scripted workflow through the connector's own operations, against the
local Graph service (started in-process on a free port, or one already running)."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx2

from mscal.auth.form import Authentication
from mscal.auth.signin import sign_in_without_browser
from mscal.connector import Connector, load_connector
from mscal.errors import ConnectorError
from mscal.spec.load import Spec

DEFAULT_URL = "http://127.0.0.1:8765"
ORGANIZER = "adele@contoso.onmicrosoft.com"
ATTENDEES = ["alex@contoso.onmicrosoft.com", "megan@contoso.onmicrosoft.com"]


def is_sandbox(url: str, spec: Spec) -> bool:
    """Whether a local Graph service answers at `url` (it refuses a request with no token).
    It serves the spec's base path (Graph's API version, /v1.0); the signed-in user's mailbox
    (/me) is there for anyone with a token."""
    probe = f"{url}{spec.base_path}{spec.defaults.concurrency.signed_in_mailbox}"
    try:
        answer = httpx2.get(probe, timeout=0.5)
        code = answer.json().get("error", {}).get("code")
    except (httpx2.HTTPError, ValueError, AttributeError):
        return False
    return bool(code == "InvalidAuthenticationToken")


@contextmanager
def sandbox_url(url: str | None, spec: Spec) -> Iterator[str]:
    if url is not None:
        if not is_sandbox(url.rstrip("/"), spec):
            raise ConnectorError(
                f"no local Graph service answers at {url} (start one: mscal sandbox)"
            )
        yield url.rstrip("/")
        return
    if is_sandbox(DEFAULT_URL, spec):
        yield DEFAULT_URL
        return
    # Imported here: with --url the demo uses a running service and needs no local one.
    from mscal.sandbox.server import BackgroundServer  # noqa: PLC0415
    from mscal.sandbox.service import create_sandbox  # noqa: PLC0415

    sandbox = create_sandbox(":memory:", seed=True)
    with BackgroundServer(sandbox.app) as started:
        yield started


def run_demo(
    url: str | None = None,
    time_zone: str = "W. Europe Standard Time",
    out: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the workflow; returns what it found, for tests."""
    began = time.perf_counter()
    connector = load_connector()
    with sandbox_url(url, connector.spec) as base:
        graph = f"{base}{connector.spec.base_path}"
        out(f"Microsoft Calendar connector demo against the local Graph service at {graph}\n")
        values = {
            "client_id": "mscal-demo",
            "tenant_id": "contoso.onmicrosoft.com",
            "authority_host": base,
            "base_url": graph,
        }
        sandbox = sign_in_without_browser(connector.spec, values, ORGANIZER)
        guests = {a: sign_in_without_browser(connector.spec, values, a) for a in ATTENDEES}
        out(f' 1. Signed in as {ORGANIZER} (authentication "Sandbox")')
        return _workflow(connector, sandbox, guests, time_zone, out, began)


def _workflow(
    connector: Connector,
    sandbox: Authentication,
    guests: dict[str, Authentication],
    time_zone: str,
    out: Callable[[str], None],
    began: float,
) -> dict[str, Any]:
    today = dt.date.today()
    monday = today - dt.timedelta(days=today.weekday())
    found: dict[str, Any] = {}
    with connector.session(sandbox) as me:
        calendar = me.run(
            "create_calendar",
            {
                "calendar": {
                    "name": f"Demo {dt.datetime.now():%Y-%m-%d %H:%M:%S}",
                    "color": "lightTeal",
                }
            },
        )
        out(f' 2. create_calendar       -> "{calendar["name"]}"')
        event = me.run(
            "create_event",
            {
                "calendar_id": calendar["id"],
                "event": {
                    "subject": "Weekly sync",
                    "start": {
                        "dateTime": f"{monday}T10:00:00",
                        "timeZone": "Pacific Standard Time",
                    },
                    "end": {"dateTime": f"{monday}T10:30:00", "timeZone": "Pacific Standard Time"},
                    "attendees": [
                        {"emailAddress": {"address": a}, "type": "required"} for a in ATTENDEES
                    ],
                    "recurrence": {
                        "pattern": {
                            "type": "weekly",
                            "interval": 1,
                            "daysOfWeek": ["tuesday", "thursday"],
                        },
                        "range": {
                            "type": "numbered",
                            "startDate": str(monday),
                            "numberOfOccurrences": 8,
                        },
                    },
                },
            },
        )
        out(
            ' 3. create_event          -> "Weekly sync", Tue and Thu 10:00-10:30 Pacific, 8 times, '
            f"inviting {' and '.join(a.split('@')[0].title() for a in ATTENDEES)}"
        )
        week = me.run(
            "list_calendar_view",
            {
                "calendar_id": calendar["id"],
                "time_zone": time_zone,
                "all_pages": True,
                "start_date_time": f"{monday}T00:00:00Z",
                "end_date_time": f"{monday + dt.timedelta(days=7)}T00:00:00Z",
            },
        )["value"]
        found["week"] = week
        out(f" 4. list_calendar_view    -> {len(week)} occurrences this week, in {time_zone}:")
        for item in week:
            start = dt.datetime.fromisoformat(item["start"]["dateTime"][:19])
            end = dt.datetime.fromisoformat(item["end"]["dateTime"][:19])
            out(f"      {start:%a %d %b %H:%M}-{end:%H:%M}  {item['subject']}")

        guest = ATTENDEES[0]
        with connector.session(guests[guest]) as them:
            invitation = them.run(
                "list_events",
                {"filter": "subject eq 'Weekly sync' and isOrganizer eq false", "top": 1},
            )["value"][0]
            them.run("accept_event", {"event_id": invitation["id"], "comment": "Count me in"})
        status = {
            a["emailAddress"]["address"]: a["status"]["response"]
            for a in me.run("get_event", {"event_id": event["id"]})["attendees"]
        }
        found["attendee_status"] = status
        out(
            f" 5. accept_event ({guest.split('@')[0]}) -> the organizer sees: "
            + ", ".join(f"{a.split('@')[0]} {s}" for a, s in status.items())
        )

        raw = me.run(
            "raw_http_request", {"endpoint": "/me/calendars", "query": {"$select": "name"}}
        )
        names = [c["name"] for c in raw["body"]["value"]]
        found["calendars"] = names
        out(
            f" 6. raw_http_request      -> GET /me/calendars: HTTP {raw['status_code']}: "
            + ", ".join(names)
        )

        me.run("delete_event", {"event_id": event["id"]})
        me.run("delete_calendar", {"calendar_id": calendar["id"]})
        out(" 7. delete_event, delete_calendar -> cleaned up")
    out(f"\nDone in {time.perf_counter() - began:.1f} s.")
    out("Try it yourself: `mscal sandbox --seed` serves it on port 8765 and prints a token to use")
    base_url = f"{DEFAULT_URL}{connector.spec.base_path}"
    out(f"with `mscal run OPERATION --base-url {base_url} --token TOKEN`.")
    return found


def main(url: str | None, time_zone: str) -> int:
    run_demo(url, time_zone, out=lambda line: print(line, file=sys.stdout, flush=True))
    return 0
