"""`/_sandbox/notifications`, `/_sandbox/subscriptions/…` and `/_sandbox/clock`: what tests
switch on the change notifications (drop, repeat, delay, reorder), which lifecycle event they
force, and how far they move the service's clock (days pass in seconds)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mscal.sandbox.domain.subscriptions import Subscriptions, graph_time
from mscal.sandbox.notifications.delivery import (
    LIFECYCLE_EVENTS,
    NotificationFaults,
    Notifier,
)


def _refusal(message: str, status: int = 400) -> Response:
    return JSONResponse({"error": {"code": "BadRequest", "message": message}}, status_code=status)


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


class NotificationAdmin:
    def __init__(self, notifier: Notifier, subscriptions: Subscriptions) -> None:
        self.notifier = notifier
        self.subscriptions = subscriptions

    def routes(self) -> list[Route]:
        return [
            Route("/_sandbox/notifications", self.notifications, methods=["GET", "POST", "DELETE"]),
            Route("/_sandbox/subscriptions/lifecycle", self.lifecycle, methods=["POST"]),
            Route("/_sandbox/clock", self.clock, methods=["GET", "POST"]),
        ]

    async def notifications(self, request: Request) -> Response:
        """GET: the counts; POST {"drop": 0.2, "repeat": 0.1, "delay": 0, "reorder": true,
        "seed": 1}: faults on; DELETE: faults off."""
        if request.method == "POST":
            try:
                self.notifier.faults = NotificationFaults.from_dict(await _json(request))
            except (ValueError, TypeError) as exc:
                return _refusal(str(exc))
        elif request.method == "DELETE":
            self.notifier.faults = NotificationFaults()
        return JSONResponse({"stats": dict(self.notifier.stats)})

    async def lifecycle(self, request: Request) -> Response:
        """POST {"event": "missed" | "subscriptionRemoved" | "reauthorizationRequired",
        "subscription": ID (default: every live subscription)}."""
        try:
            body = await _json(request)
        except ValueError as exc:
            return _refusal(str(exc))
        event = body.get("event")
        if event not in LIFECYCLE_EVENTS:
            return _refusal(f"event must be one of {', '.join(LIFECYCLE_EVENTS)}")
        wanted = body.get("subscription")
        chosen = [s for s in self.subscriptions.all() if wanted in (None, s["id"])]
        if wanted is not None and not chosen:
            return _refusal(f"no subscription {wanted}", 404)
        sent = [s["id"] for s in chosen if self.notifier.lifecycle(s, str(event))]
        # A subscription made without a lifecycle URL hears nothing (as at Graph), but a
        # removal or a hold still applies to it.
        return JSONResponse({"sent": sent, "applied": [s["id"] for s in chosen]})

    async def clock(self, request: Request) -> Response:
        """POST {"advance_minutes": N}: move the service's clock forward; expired
        subscriptions are removed, as at Graph. GET: the clock."""
        clock = self.subscriptions.clock
        if request.method == "POST":
            try:
                minutes = float((await _json(request)).get("advance_minutes", 0))
            except (ValueError, TypeError) as exc:
                return _refusal(str(exc))
            if minutes < 0:
                return _refusal("advance_minutes: the clock only moves forward")
            clock.advance(dt.timedelta(minutes=minutes))
            removed = self.subscriptions.sweep()
            return JSONResponse(
                {"now": graph_time(clock.now()), "expired": [s["id"] for s in removed]}
            )
        return JSONResponse({"now": graph_time(clock.now())})
