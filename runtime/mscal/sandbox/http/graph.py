"""Graph v1.0 under /v1.0: one request's walk from the wire to a resource handler.

Fault injection, the bearer token, whose calendars the path names, the mailbox concurrency
limit, the body and `Prefer` preferences, the token's scopes; then the route table. Paths are
split from the raw (still percent-encoded) path, so an id containing an encoded '/' stays one
segment, as it does at Graph.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response

from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.domain.tenant import Tenant
from mscal.sandbox.domain.timezones import zone
from mscal.sandbox.errors import bad_request, forbidden
from mscal.sandbox.http import odata
from mscal.sandbox.http.batch import INNER_HEADER
from mscal.sandbox.http.call import Call
from mscal.sandbox.http.envelope import DroppedResponse, answer, raw_path
from mscal.sandbox.http.faults import FAULT_HEADER, Faults
from mscal.sandbox.http.routing import RouteTable
from mscal.sandbox.identity.model import Principal
from mscal.sandbox.identity.platform import Identity

_PREFER = re.compile(r'([\w.-]+)\s*=\s*"?([^",]*)"?')


class GraphEndpoint:
    def __init__(
        self, tenant: Tenant, identity: Identity, faults: Faults, table: RouteTable
    ) -> None:
        self.tenant = tenant
        self.identity = identity
        self.faults = faults
        self.table = table

    async def endpoint(self, request: Request) -> Response:
        """The Starlette endpoint (a bound method, so Starlette passes it a Request)."""
        return await answer(request, lambda: self._graph(request))

    async def _graph(self, request: Request) -> Response:
        path = raw_path(request)
        fault = self.faults.take(
            request.method,
            path,
            request.headers.get(FAULT_HEADER),
            inner=request.headers.get(INNER_HEADER) == "1",
        )
        if fault is not None and fault.expire_token:
            self.identity.expire(request.headers.get("authorization", ""))
        segments = [unquote(s) for s in path.split("/")[2:] if s != ""]
        principal = self.identity.principal(request.headers.get("authorization"))
        owner, rest = self._owner(segments, principal)
        self.faults.enter(owner.key)
        try:
            if fault is not None and (fault.delay or fault.latency):
                await asyncio.sleep(fault.delay + fault.latency)
            if fault is not None and fault.status:
                raise fault.error()
            response = await self._handle(request, owner, principal, rest)
        finally:
            self.faults.leave(owner.key)
        return DroppedResponse() if fault is not None and fault.drop else response

    def _owner(self, segments: list[str], principal: Principal) -> tuple[Owner, list[str]]:
        """Whose calendars the path names, and the segments after that."""
        directory = self.tenant.directory
        if not segments:
            raise bad_request("Invalid request.", "BadRequest")
        if segments[0] == "organization":
            return Owner("tenant", "organization", "", "Organization"), segments
        if segments[0] == "subscriptions":
            # An app's subscriptions are the tenant's, not a mailbox's.
            return Owner("tenant", "subscriptions", "", "Organization"), segments
        if segments[0] == "places":
            # Places belong to the organization; the tenant stands in as their owner.
            return Owner("tenant", "places", "", "Organization"), segments
        if segments[0] == "me":
            if principal.is_app:
                raise bad_request(
                    "/me request is only valid with delegated authentication flow.", "BadRequest"
                )
            return directory.user_owner(str(principal.user)), segments[1:]
        if segments[0] in {"users", "groups"} and len(segments) >= 2:
            if segments[0] == "users":
                return directory.user_owner(segments[1]), segments[2:]
            return directory.group_owner(segments[1]), segments[2:]
        raise bad_request(f"Resource not found for the segment '{segments[0]}'.", "BadRequest")

    async def _handle(
        self, request: Request, owner: Owner, principal: Principal, rest: list[str]
    ) -> Response:
        body: Any = None
        if request.method in {"POST", "PATCH", "PUT"}:
            raw = await request.body()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise bad_request(
                        "Unable to read JSON request payload. Please ensure Content-Type header "
                        "is set and payload is of valid JSON format.",
                        "BadRequest",
                    ) from None
        preferences = dict(_PREFER.findall(request.headers.get("prefer", "")))
        applied = []
        time_zone = preferences.get("outlook.timezone") or None
        if time_zone:
            zone(time_zone)
            applied.append(f'outlook.timezone="{time_zone}"')
        page_size = odata.int_option(
            preferences.get("odata.maxpagesize"), "odata.maxpagesize", minimum=1
        )
        if page_size:
            applied.append(f"odata.maxpagesize={page_size}")
        body_type = preferences.get("outlook.body-content-type") or None
        if body_type:
            applied.append(f'outlook.body-content-type="{body_type}"')
        call = Call(
            request=request,
            tenant=self.tenant,
            principal=principal,
            owner=owner,
            base=f"{request.url.scheme}://{request.url.netloc}/v1.0",
            query=dict(parse_qsl(request.url.query)),
            body=body,
            time_zone=time_zone,
            body_type=body_type,
            applied=applied,
            page_size=page_size,
        )
        _check_scope(call)
        odata.check_options(call.query)
        match = self.table.resolve(request.method, owner.kind, rest)
        call.params, call.args = match.params, match.args
        if request.method == "GET":
            # A read is answered at one moment of the store, as Graph's are (the store is
            # shared with whatever else writes to it in-process: the service's own tests, the
            # benches). Writes are transactions of their own; a subscription's creation calls
            # its URLs meanwhile, which must not hold the store for seconds.
            with self.tenant.store.snapshot():
                response = match.answer(call)
        else:
            response = match.answer(call)
        if applied:
            response.headers["Preference-Applied"] = ", ".join(applied)
        return response


def _check_scope(call: Call) -> None:
    """A token with only read scopes cannot write."""
    scopes = {s.rsplit("/", 1)[-1] for s in call.principal.scopes}
    read_only = any(s.startswith("Calendars.Read") and "Write" not in s for s in scopes)
    can_write = ".default" in scopes or any("ReadWrite" in s for s in scopes)
    if call.method != "GET" and read_only and not can_write:
        raise forbidden()
