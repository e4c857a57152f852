"""One Graph request as a handler sees it: who calls, whose calendars, the parsed body and
preferences, and what the route table read from the path."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.domain.tenant import Tenant
from mscal.sandbox.domain.timezones import parse_local
from mscal.sandbox.errors import bad_request
from mscal.sandbox.http.bodies import action_body, entity_body
from mscal.sandbox.http.envelope import raw_path
from mscal.sandbox.identity.model import Principal

# The longest calendar view, instances or delta window the local service expands (5 years).
MAX_VIEW_SPAN = dt.timedelta(days=1826)


@dataclass
class Call:
    request: Request
    tenant: Tenant
    principal: Principal
    owner: Owner
    base: str  # scheme://host/v1.0, for links in answers
    query: dict[str, str]
    body: Any
    time_zone: str | None
    body_type: str | None
    applied: list[str]  # preferences applied, for Preference-Applied
    page_size: int | None = None
    params: dict[str, str] = field(default_factory=dict)  # {name} segments of the route
    args: dict[str, str] = field(default_factory=dict)  # arguments of a function segment

    def arg(self, name: str) -> str | None:
        """A function's argument; names are case-insensitive, as at Graph
        (`reminderView(startDateTime=…)` as the docs write it, or `StartDateTime`)."""
        wanted = name.lower()
        return next((v for k, v in self.args.items() if k.lower() == wanted), None)

    @property
    def method(self) -> str:
        return self.request.method

    def path(self) -> str:
        """The path after /v1.0, as sent (still percent-encoded)."""
        return raw_path(self.request).removeprefix("/v1.0")

    def json(
        self, *, required: bool = True, entity: str | None = None, action: str | None = None
    ) -> dict[str, Any]:
        """The body as a JSON object; read as Graph reads an `entity` type's body or an
        `action`'s parameters when named (see `bodies.py`)."""
        if action is not None:
            return action_body(self.body, action)
        if self.body is None and not required:
            return {}
        if not isinstance(self.body, dict):
            raise bad_request("Empty Payload. JSON content expected.", "BadRequest")
        return self.body if entity is None else entity_body(self.body, entity)

    @property
    def calendar_id(self) -> str | None:
        """The calendar the path names (None: the default calendar); the route's guard has
        checked it (see `resources/table.py`)."""
        return self.params.get("calendar")

    def calendar(self) -> dict[str, Any]:
        """The calendar document the path names (the default calendar if none)."""
        return self.tenant.calendars.calendar(self.owner, self.calendar_id)

    def time_range(self) -> tuple[dt.datetime, dt.datetime]:
        """startDateTime and endDateTime from the query, as naive UTC."""
        names = ("startDateTime", "endDateTime")
        missing = [n for n in names if not self.query.get(n)]
        if missing:
            raise bad_request(
                f"This request requires a time window specified by the query string parameters "
                f"StartDateTime and EndDateTime. Missing: {', '.join(missing)}.",
                "ErrorInvalidParameter",
            )
        bounds = []
        for name in names:
            value = parse_local(self.query[name])
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            bounds.append(value)
        if bounds[1] - bounds[0] > MAX_VIEW_SPAN:
            # A view is expanded in memory (every occurrence of every series in it): one view
            # from year 1 to 9999 would hold the service for everyone.
            raise bad_request(
                f"The time window between StartDateTime and EndDateTime is limited to "
                f"{MAX_VIEW_SPAN.days} days.",
                "ErrorInvalidParameter",
            )
        return bounds[0], bounds[1]
