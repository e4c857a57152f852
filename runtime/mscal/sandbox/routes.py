"""HTTP routes: Graph v1.0 under /v1.0 and the identity platform under /{tenant}/oauth2.

Paths are split from the raw (still percent-encoded) path, so an id containing an encoded '/'
stays one segment, as it does at Graph.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mscal.sandbox import odata
from mscal.sandbox.attachments import Attachments
from mscal.sandbox.batch import INNER_HEADER, run_batch
from mscal.sandbox.calendars import Calendars, Owner
from mscal.sandbox.delta import Delta
from mscal.sandbox.errors import GraphHTTPError, bad_request, forbidden, not_found
from mscal.sandbox.faults import FAULT_HEADER, Faults
from mscal.sandbox.identity import Identity, OAuthError, Principal
from mscal.sandbox.lookups import Lookups
from mscal.sandbox.scheduling import Scheduling
from mscal.sandbox.sharing import Sharing
from mscal.sandbox.timezones import parse_local, to_utc, zone

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000
_PREFER = re.compile(r'([\w.-]+)\s*=\s*"?([^",]*)"?')
_EVENT_ACTIONS = {
    "accept": "accepted",
    "decline": "declined",
    "tentativelyAccept": "tentativelyAccepted",
}


@dataclass
class Ctx:
    """One Graph request, parsed."""

    request: Request
    principal: Principal
    owner: Owner
    base: str
    query: dict[str, str]
    body: Any
    time_zone: str | None
    body_type: str | None
    applied: list[str]
    page_size: int | None = None


class InjectedDropError(ConnectionAbortedError):
    """Raised after a response has started, so the server drops the connection mid-answer."""


class DroppedResponse(Response):
    """The request was handled (a write is committed) but the answer never completes."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"@odata.context":', "more_body": True})
        raise InjectedDropError(
            "fault injection: connection dropped after the request was committed"
        )


def _quiet_injected_drops(record: logging.LogRecord) -> bool:
    return not (record.exc_info and isinstance(record.exc_info[1], InjectedDropError))


logging.getLogger("uvicorn.error").addFilter(_quiet_injected_drops)


class GraphApp:
    def __init__(self, calendars: Calendars, identity: Identity, faults: Faults) -> None:
        self.calendars = calendars
        self.identity = identity
        self.faults = faults
        self.delta = Delta(calendars)
        self.sharing = Sharing(calendars)
        self.attachments = Attachments(calendars)
        self.lookups = Lookups(calendars)
        self.scheduling = Scheduling(calendars)
        self.asgi: Starlette | None = None  # set once the app is built; $batch sends through it

    # -- plumbing ----------------------------------------------------------------------------

    async def graph(self, request: Request) -> Response:
        return await self._answer(request, lambda: self._graph(request))

    async def _answer(
        self, request: Request, handle: Callable[[], Awaitable[Response]]
    ) -> Response:
        """Run a handler; every failure becomes Graph's envelope, with Graph's headers."""
        request_id = str(uuid.uuid4())
        client_request_id = request.headers.get("client-request-id")
        headers = {
            "request-id": request_id,
            "client-request-id": client_request_id or request_id,
            "Date": formatdate(usegmt=True),
        }
        try:
            response = await handle()
        except GraphHTTPError as exc:
            body = exc.envelope(
                request_id, client_request_id, dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            )
            return JSONResponse(body, status_code=exc.status, headers={**headers, **exc.headers})
        except Exception as exc:
            error = GraphHTTPError(
                500, "generalException", f"An unexpected error occurred: {type(exc).__name__}."
            )
            body = error.envelope(
                request_id, client_request_id, dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            )
            return JSONResponse(body, status_code=500, headers=headers)
        response.headers.update(headers)
        return response

    async def _graph(self, request: Request) -> Response:
        raw_path = _raw_path(request)
        fault = self.faults.take(
            request.method,
            raw_path,
            request.headers.get(FAULT_HEADER),
            inner=request.headers.get(INNER_HEADER) == "1",
        )
        if fault is not None and fault.expire_token:
            self.identity.expire(request.headers.get("authorization", ""))
        segments = [unquote(s) for s in raw_path.split("/")[2:] if s != ""]
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
        base = f"{request.url.scheme}://{request.url.netloc}/v1.0"
        ctx = Ctx(
            request=request,
            principal=principal,
            owner=owner,
            base=base,
            query=dict(parse_qsl(request.url.query)),
            body=body,
            time_zone=time_zone,
            body_type=body_type,
            applied=applied,
            page_size=page_size,
        )
        self._check_scope(ctx)
        response = self._dispatch(ctx, rest)
        if applied:
            response.headers["Preference-Applied"] = ", ".join(applied)
        return response

    def _owner(self, segments: list[str], principal: Principal) -> tuple[Owner, list[str]]:
        if not segments:
            raise bad_request("Invalid request.", "BadRequest")
        if segments[0] == "organization":
            return Owner("tenant", "organization", "", "Organization"), segments
        if segments[0] == "places":
            # Places belong to the organization; the tenant stands in as their owner.
            return Owner("tenant", "places", "", "Organization"), segments
        if segments[0] == "me":
            if principal.is_app:
                raise bad_request(
                    "/me request is only valid with delegated authentication flow.", "BadRequest"
                )
            return self.calendars.user_owner(str(principal.user)), segments[1:]
        if segments[0] in {"users", "groups"} and len(segments) >= 2:
            if segments[0] == "users":
                return self.calendars.user_owner(segments[1]), segments[2:]
            return self.calendars.group_owner(segments[1]), segments[2:]
        raise bad_request(f"Resource not found for the segment '{segments[0]}'.", "BadRequest")

    def _check_scope(self, ctx: Ctx) -> None:
        scopes = {s.rsplit("/", 1)[-1] for s in ctx.principal.scopes}
        read_only = any(s.startswith("Calendars.Read") and "Write" not in s for s in scopes)
        can_write = ".default" in scopes or any("ReadWrite" in s for s in scopes)
        if ctx.request.method != "GET" and read_only and not can_write:
            raise forbidden()

    # -- dispatch ----------------------------------------------------------------------------

    def _dispatch(self, ctx: Ctx, rest: list[str]) -> Response:
        method = ctx.request.method
        cal = self.calendars
        owner = ctx.owner
        if not rest and owner.kind == "user" and method == "GET":
            user = cal.find_user(owner.id) or {}
            return JSONResponse({"@odata.context": f"{ctx.base}/$metadata#users/$entity", **user})
        if not rest:
            raise bad_request("Resource not found for the segment.", "BadRequest")
        if rest == ["organization"] and method == "GET":
            organization = {
                "id": "9c1e3f4a-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
                "displayName": "Contoso (local)",
                "verifiedDomains": [{"name": cal.domain, "isDefault": True}],
            }
            return JSONResponse(
                {"@odata.context": f"{ctx.base}/$metadata#organization", "value": [organization]}
            )
        head = rest[0]
        if head == "places":
            return self._places(ctx, rest[1:])
        if head == "outlook" and len(rest) >= 2:
            return self._outlook(ctx, rest[1:])
        if head == "calendarGroups":
            if len(rest) == 1:
                if method == "GET":
                    return self._collection(ctx, "calendarGroups", cal.calendar_groups(owner))
                if method == "POST":
                    return self._created(
                        ctx, "calendarGroups", cal.create_calendar_group(owner, self._json(ctx))
                    )
            group_id = rest[1]
            if len(rest) == 2:
                return self._item_methods(
                    ctx,
                    "calendarGroups",
                    get=lambda: cal.calendar_group(owner, group_id),
                    patch=lambda: cal.update_calendar_group(owner, group_id, self._json(ctx)),
                    delete=lambda: cal.delete_calendar_group(owner, group_id),
                )
            if rest[2] == "calendars":
                if len(rest) == 3:
                    if method == "GET":
                        return self._collection(ctx, "calendars", cal.calendars(owner, group_id))
                    if method == "POST":
                        return self._created(
                            ctx, "calendars", cal.create_calendar(owner, self._json(ctx), group_id)
                        )
                    raise _method_not_allowed()
                cal.calendar(owner, rest[3], group_id)
                return self._calendar_scope(ctx, rest[3], rest[4:])
            raise _unknown_segment(rest[2])
        if head == "calendars":
            if owner.kind == "group":
                raise _unknown_segment(head)
            if len(rest) == 1:
                if method == "GET":
                    return self._collection(ctx, "calendars", cal.calendars(owner))
                if method == "POST":
                    return self._created(
                        ctx, "calendars", cal.create_calendar(owner, self._json(ctx))
                    )
                raise _method_not_allowed()
            return self._calendar_scope(ctx, rest[1], rest[2:])
        if head == "calendar":
            return self._calendar_scope(ctx, None, rest[1:])
        if head in {"events", "calendarView"}:
            return self._events_scope(ctx, None, rest)
        if head == "findMeetingTimes" and ctx.request.method == "POST":
            result = self.scheduling.find_meeting_times(owner, self._json(ctx))
            return JSONResponse(
                {
                    "@odata.context": _metadata(
                        ctx, "microsoft.graph.meetingTimeSuggestionsResult"
                    ),
                    **result,
                }
            )
        function, params = _function_call(head)
        if function == "reminderView" and ctx.request.method == "GET":
            try:
                start = to_utc(params["StartDateTime"], "UTC")
                end = to_utc(params["EndDateTime"], "UTC")
            except KeyError:
                raise bad_request(
                    "reminderView needs StartDateTime and EndDateTime.", "ErrorInvalidParameter"
                ) from None
            return self._collection(
                ctx, "reminders", self.scheduling.reminders(owner, start, end), raw=True
            )
        raise _unknown_segment(head)

    def _calendar_scope(self, ctx: Ctx, calendar_id: str | None, rest: list[str]) -> Response:
        cal = self.calendars
        owner = ctx.owner
        if not rest:
            if calendar_id is None and ctx.request.method == "DELETE":
                raise _method_not_allowed()
            return self._item_methods(
                ctx,
                "calendars",
                get=lambda: cal.calendar(owner, calendar_id),
                patch=lambda: cal.update_calendar(owner, calendar_id, self._json(ctx)),
                delete=lambda: cal.delete_calendar(owner, str(calendar_id)),
            )
        if rest == ["permanentDelete"] and ctx.request.method == "POST" and calendar_id:
            cal.delete_calendar(owner, calendar_id)
            return Response(status_code=204)
        calendar = cal.calendar(owner, calendar_id)
        if rest == ["getSchedule"] and ctx.request.method == "POST":
            value = self.scheduling.get_schedule(self._json(ctx))
            return JSONResponse(
                {
                    "@odata.context": _metadata(
                        ctx, "Collection(microsoft.graph.scheduleInformation)"
                    ),
                    "value": value,
                }
            )
        if rest[0] == "calendarPermissions":
            return self._permissions(ctx, calendar, rest[1:])
        function, params = _function_call(rest[0])
        if function == "allowedCalendarSharingRoles" and ctx.request.method == "GET":
            return JSONResponse({"value": self.sharing.allowed_roles(params.get("User", ""))})
        return self._events_scope(ctx, calendar_id, rest)

    def _events_scope(self, ctx: Ctx, calendar_id: str | None, rest: list[str]) -> Response:
        cal = self.calendars
        owner = ctx.owner
        method = ctx.request.method
        if rest[0] == "calendarView" and rest[1:] in (["delta"], ["delta()"]) and method == "GET":
            return self._delta(ctx, calendar_id)
        if rest[0] == "calendarView" and len(rest) == 1 and method == "GET":
            start, end = self._range(ctx)
            view = cal.calendar_view(owner, calendar_id, start, end)
            return self._collection(ctx, "calendarView", view)
        if rest[0] != "events":
            raise _unknown_segment(rest[0])
        if len(rest) == 1:
            if method == "GET":
                return self._collection(ctx, "events", cal.events(owner, calendar_id))
            if method == "POST":
                # A repeated transactionId answers with the event it first created.
                event, _created = cal.create_event(owner, calendar_id, self._json(ctx))
                return self._created(ctx, "events", event)
            raise _method_not_allowed()
        event_id = rest[1]
        if len(rest) == 2:
            return self._item_methods(
                ctx,
                "events",
                get=lambda: cal.event(owner, event_id),
                patch=lambda: cal.update_event(owner, event_id, self._json(ctx)),
                delete=lambda: cal.delete_event(owner, event_id),
            )
        action = rest[2]
        if action == "attachments":
            return self._attachments(ctx, event_id, rest[3:])
        if action == "instances" and method == "GET":
            start, end = self._range(ctx)
            return self._collection(ctx, "instances", cal.instances(owner, event_id, start, end))
        if method != "POST":
            raise _method_not_allowed()
        body = self._json(ctx, required=False)
        if action in _EVENT_ACTIONS:
            cal.respond(owner, event_id, _EVENT_ACTIONS[action], body)
            return Response(status_code=202)
        if action == "cancel":
            cal.cancel(owner, event_id)
            return Response(status_code=202)
        if action == "permanentDelete":
            cal.delete_event(owner, event_id)
            return Response(status_code=204)
        if action == "forward":
            cal.forward(owner, event_id, body)
            return Response(status_code=202)
        if action == "dismissReminder":
            cal.set_reminder(owner, event_id, snooze_until=None)
            return Response(status_code=200)
        if action == "snoozeReminder":
            when = body.get("newReminderTime")
            if not isinstance(when, dict) or not when.get("dateTime"):
                raise bad_request("newReminderTime is required.", "ErrorInvalidParameter")
            cal.set_reminder(
                owner, event_id, snooze_until=to_utc(str(when["dateTime"]), when.get("timeZone"))
            )
            return Response(status_code=200)
        raise _unknown_segment(action)

    def _delta(self, ctx: Ctx, calendar_id: str | None) -> Response:
        if "$deltatoken" in ctx.query:
            state = self.delta.resume(ctx.owner, ctx.query["$deltatoken"], delta=True)
        elif "$skiptoken" in ctx.query:
            state = self.delta.resume(ctx.owner, ctx.query["$skiptoken"], delta=False)
        else:
            start, end = self._range(ctx)
            self.calendars.calendar(ctx.owner, calendar_id)
            state = self.delta.start(ctx.owner, calendar_id, start, end)
        items = self.delta.items(ctx.owner, state)
        size = ctx.page_size or DEFAULT_PAGE_SIZE
        value = [
            self._present(ctx, item["doc"])
            if "doc" in item
            else {
                "@odata.type": "#microsoft.graph.event",
                "id": item["removed"],
                "@removed": {"reason": "deleted"},
            }
            for item in items[state.skip : state.skip + size]
        ]
        body: dict[str, Any] = {
            "@odata.context": f"{ctx.base}/$metadata#Collection(event)",
            "value": value,
        }
        link = f"{ctx.base}{_path(ctx)}"
        if state.skip + size < len(items):
            body["@odata.nextLink"] = (
                f"{link}?$skiptoken={replace(state, skip=state.skip + size).encode()}"
            )
        else:
            body["@odata.deltaLink"] = f"{link}?$deltatoken={replace(state, skip=0).encode()}"
        return JSONResponse(body)

    def _places(self, ctx: Ctx, rest: list[str]) -> Response:
        if ctx.request.method != "GET":
            raise _method_not_allowed()
        kinds = {
            "graph.room": "room",
            "microsoft.graph.room": "room",
            "graph.roomlist": "roomList",
            "microsoft.graph.roomlist": "roomList",
        }
        if len(rest) == 1 and rest[0].lower() in kinds:
            kind = kinds[rest[0].lower()]
            docs = self.lookups.rooms() if kind == "room" else self.lookups.room_lists()
            return self._collection(ctx, kind, docs, raw=True)
        if len(rest) == 3 and kinds.get(rest[1].lower()) == "roomList" and rest[2] == "rooms":
            return self._collection(ctx, "rooms", self.lookups.rooms(rest[0]), raw=True)
        raise _unknown_segment("/".join(rest) or "places")

    def _outlook(self, ctx: Ctx, rest: list[str]) -> Response:
        method = ctx.request.method
        if rest[0] == "masterCategories" and len(rest) == 1:
            if method == "GET":
                return self._collection(
                    ctx, "masterCategories", self.lookups.categories(ctx.owner), raw=True
                )
            if method == "POST":
                return JSONResponse(
                    self.lookups.create_category(ctx.owner, self._json(ctx)), status_code=201
                )
            raise _method_not_allowed()
        function, params = _function_call(rest[0])
        if function == "supportedTimeZones" and method == "GET" and len(rest) == 1:
            zones = self.lookups.time_zones(params.get("TimeZoneStandard"))
            return self._collection(ctx, "supportedTimeZones", zones, raw=True)
        raise _unknown_segment(rest[0])

    def _attachments(self, ctx: Ctx, event_id: str, rest: list[str]) -> Response:
        attachments, owner, method = self.attachments, ctx.owner, ctx.request.method
        if not rest:
            if method == "GET":
                return self._collection(
                    ctx, "attachments", attachments.list(owner, event_id), raw=True
                )
            if method == "POST":
                created = attachments.add(owner, event_id, self._json(ctx))
                return JSONResponse(created, status_code=201)
            raise _method_not_allowed()
        if rest == ["createUploadSession"] and method == "POST":
            token, session = attachments.create_session(owner, event_id, self._json(ctx))
            host = "127.0.0.1" if ctx.request.url.hostname == "localhost" else "localhost"
            # The upload URL is on another host name, as Graph's is: it carries its own
            # authorization and must be sent no Authorization header.
            upload_url = f"{ctx.request.url.scheme}://{host}:{ctx.request.url.port}/upload/{token}"
            return JSONResponse(
                {
                    "@odata.context": _metadata(ctx, "microsoft.graph.uploadSession"),
                    "uploadUrl": upload_url,
                    **session.status(),
                },
                status_code=201,
            )
        if len(rest) == 1:
            if method == "GET":
                return JSONResponse(attachments.get(owner, event_id, rest[0]))
            if method == "DELETE":
                attachments.delete(owner, event_id, rest[0])
                return Response(status_code=204)
        raise _method_not_allowed()

    async def upload(self, request: Request) -> Response:
        """PUT a ranged chunk to an upload session (GET its status, DELETE to cancel)."""

        async def handle() -> Response:
            if request.headers.get("authorization"):
                raise GraphHTTPError(
                    401,
                    "InvalidAuthenticationToken",
                    "An upload URL carries its own authorization: do not send an "
                    "Authorization header to it.",
                )
            token = request.path_params["token"]
            if request.method == "GET":
                return JSONResponse(self.attachments.session(token).status())
            if request.method == "DELETE":
                self.attachments.cancel(token)
                return Response(status_code=204)
            session = self.attachments.session(token)
            done = self.attachments.upload(
                token, request.headers.get("content-range"), await request.body()
            )
            if done is None:
                return JSONResponse(session.status())
            base = f"{request.url.scheme}://{request.url.netloc}/v1.0"
            event = f"{base}/{session.owner.path}/events('{session.event_id}')"
            location = f"{event}/attachments('{done['id']}')"
            return Response(status_code=201, headers={"Location": location})

        return await self._answer(request, handle)

    def _permissions(self, ctx: Ctx, calendar: dict[str, Any], rest: list[str]) -> Response:
        sharing, owner, method = self.sharing, ctx.owner, ctx.request.method
        if not rest:
            if method == "GET":
                return self._collection(
                    ctx, "calendarPermissions", sharing.permissions(owner, calendar), raw=True
                )
            if method == "POST":
                created = sharing.create(owner, calendar, self._json(ctx))
                return JSONResponse(created, status_code=201)
            raise _method_not_allowed()
        permission_id = rest[0]
        if method == "GET":
            return JSONResponse(sharing.permission(owner, calendar, permission_id))
        if method == "PATCH":
            return JSONResponse(sharing.update(owner, calendar, permission_id, self._json(ctx)))
        if method == "DELETE":
            sharing.delete(owner, calendar, permission_id)
            return Response(status_code=204)
        raise _method_not_allowed()

    # -- responses ---------------------------------------------------------------------------

    def _json(self, ctx: Ctx, *, required: bool = True) -> dict[str, Any]:
        if ctx.body is None and not required:
            return {}
        if not isinstance(ctx.body, dict):
            raise bad_request("Empty Payload. JSON content expected.", "BadRequest")
        return ctx.body

    def _range(self, ctx: Ctx) -> tuple[dt.datetime, dt.datetime]:
        names = ("startDateTime", "endDateTime")
        missing = [n for n in names if not ctx.query.get(n)]
        if missing:
            raise bad_request(
                f"This request requires a time window specified by the query string parameters "
                f"StartDateTime and EndDateTime. Missing: {', '.join(missing)}.",
                "ErrorInvalidParameter",
            )
        bounds = []
        for name in names:
            value = parse_local(ctx.query[name])
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            bounds.append(value)
        return bounds[0], bounds[1]

    def _present(self, ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
        return self.calendars.present(doc, ctx.time_zone, ctx.body_type)

    def _collection(
        self, ctx: Ctx, name: str, docs: list[dict[str, Any]], *, raw: bool = False
    ) -> Response:
        """A page of a collection; `raw` items are already in their answer's shape."""
        skip = odata.int_option(ctx.query.get("$skip"), "$skip") or 0
        top = odata.int_option(ctx.query.get("$top"), "$top", minimum=1)
        size = min(top or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        if not any(ctx.query.get(option) for option in ("$filter", "$search", "$orderby")):
            # Nothing to filter or order: present only the page (a page of a big calendar
            # would otherwise cost the whole calendar).
            total = len(docs)
            window = docs[skip : skip + size]
            page = list(window) if raw else [self._present(ctx, d) for d in window]
        else:
            items = list(docs) if raw else [self._present(ctx, d) for d in docs]
            # Filter and order on UTC values, as Graph does, whatever time zone the answer uses.
            utc_items = (
                [self.calendars.present(d) for d in docs] if ctx.time_zone and not raw else items
            )
            pairs = list(zip(utc_items, items, strict=True))
            if ctx.query.get("$filter"):
                predicate = odata.parse_filter(ctx.query["$filter"])
                pairs = [p for p in pairs if predicate(p[0])]
            if ctx.query.get("$search"):
                pairs = [p for p in pairs if odata.search_matches(p[0], ctx.query["$search"])]
            if ctx.query.get("$orderby"):
                order = odata.order_by([p[0] for p in pairs], ctx.query["$orderby"])
                index = {id(p[0]): p for p in pairs}
                pairs = [index[id(u)] for u in order]
            total = len(pairs)
            page = [p[1] for p in pairs[skip : skip + size]]
        fields = [f for f in ctx.query.get("$select", "").split(",") if f]
        body: dict[str, Any] = {"@odata.context": f"{ctx.base}/$metadata#{ctx.owner.path}/{name}"}
        if ctx.query.get("$count", "").lower() == "true":
            body["@odata.count"] = total
        body["value"] = [odata.select(item, fields) for item in page]
        if skip + size < total:
            query = [(k, v) for k, v in parse_qsl(ctx.request.url.query) if k != "$skip"]
            query.append(("$skip", str(skip + size)))
            body["@odata.nextLink"] = f"{ctx.base}{_path(ctx)}?{urlencode(query)}"
        return JSONResponse(body, media_type="application/json")

    def _entity(self, ctx: Ctx, name: str, doc: dict[str, Any], status: int = 200) -> Response:
        fields = [f for f in ctx.query.get("$select", "").split(",") if f]
        body = {
            "@odata.context": f"{ctx.base}/$metadata#{ctx.owner.path}/{name}/$entity",
            **odata.select(self._present(ctx, doc), fields),
        }
        return JSONResponse(body, status_code=status)

    def _created(self, ctx: Ctx, name: str, doc: dict[str, Any], status: int = 201) -> Response:
        response = self._entity(ctx, name, doc, status)
        response.headers["Location"] = f"{ctx.base}/{ctx.owner.path}/{name}('{doc['id']}')"
        return response

    def _item_methods(
        self,
        ctx: Ctx,
        name: str,
        *,
        get: Callable[[], dict[str, Any]],
        patch: Callable[[], dict[str, Any]],
        delete: Callable[[], None],
    ) -> Response:
        method = ctx.request.method
        if method == "GET":
            return self._entity(ctx, name, get())
        if method == "PATCH":
            return self._entity(ctx, name, patch())
        if method == "DELETE":
            delete()
            return Response(status_code=204)
        raise _method_not_allowed()

    # -- identity ------------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        try:
            location = self.identity.authorize(params, self.calendars.ensure_user)
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return RedirectResponse(location, status_code=302)

    async def token(self, request: Request) -> Response:
        form = await _form(request)
        basic = _basic_auth(request.headers.get("authorization"))
        try:
            body = self.identity.token(form, basic, v1="/v2.0/" not in request.url.path)
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def device_code(self, request: Request) -> Response:
        form = await _form(request)
        base = f"{request.url.scheme}://{request.url.netloc}"
        try:
            body = self.identity.device_code(form, base, request.path_params["tenant"])
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(body)

    async def batch(self, request: Request) -> Response:
        """POST /v1.0/$batch: the inner requests go through this same app."""

        async def handle() -> Response:
            fault = self.faults.take(
                request.method, _raw_path(request), request.headers.get(FAULT_HEADER)
            )
            self.identity.principal(request.headers.get("authorization"))
            if fault is not None and (fault.delay or fault.latency):
                await asyncio.sleep(fault.delay + fault.latency)
            if fault is not None and fault.status:
                raise fault.error()
            try:
                payload = json.loads(await request.body())
            except ValueError:
                raise bad_request("Invalid batch payload format.", "BadRequest") from None
            origin = f"{request.url.scheme}://{request.url.netloc}"
            return JSONResponse(await run_batch(self.asgi, dict(request.headers), origin, payload))

        return await self._answer(request, handle)

    async def admin_faults(self, request: Request) -> Response:
        """Switch faults on (POST {"fault": "status=429 times=1"}) or all off (DELETE)."""
        if request.method == "DELETE":
            self.faults.clear()
            return Response(status_code=204)
        try:
            self.faults.add(str((await request.json())["fault"]))
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse(
                {"error": {"code": "BadRequest", "message": str(exc)}}, status_code=400
            )
        return Response(status_code=204)

    async def admin_expire_delta(self, request: Request) -> Response:
        """Expire every delta token issued so far (a later round gets 410, full sync needed)."""
        self.delta.oldest_kept = self.calendars.store.latest_change() + 1
        return Response(status_code=204)

    async def admin_revoke(self, request: Request) -> Response:
        """Revoke tokens (all, or a user's with {"user": "..."}), as a password reset would."""
        raw = await request.body()
        user = json.loads(raw).get("user") if raw else None
        return JSONResponse({"revoked": self.identity.revoke_all(user)})

    async def admin_stats(self, request: Request) -> Response:
        return JSONResponse(
            {"requests": self.faults.requests, "peak_in_flight": dict(self.faults.peak_in_flight)}
        )

    async def not_found(self, request: Request) -> Response:
        error = not_found(f"No route for {request.url.path}.")
        error.code = "ResourceNotFound"
        return JSONResponse(error.envelope(str(uuid.uuid4()), None, ""), status_code=404)


async def _form(request: Request) -> dict[str, str]:
    # Token requests are always application/x-www-form-urlencoded.
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


def _metadata(ctx: Ctx, fragment: str) -> str:
    return f"{ctx.base}/$metadata#{fragment}"


def _function_call(segment: str) -> tuple[str | None, dict[str, str]]:
    """`reminderView(StartDateTime='a',EndDateTime='b')` as ('reminderView', {...})."""
    match = re.match(r"^(\w+)\((.*)\)$", segment)
    if not match:
        return None, {}
    params = {
        k: v.replace("''", "'") for k, v in re.findall(r"(\w+)='((?:[^']|'')*)'", match.group(2))
    }
    return match.group(1), params


def _raw_path(request: Request) -> str:
    """The path as sent, still percent-encoded (Starlette's path params are decoded)."""
    raw: bytes = request.scope.get("raw_path") or request.url.path.encode()
    return raw.decode("latin-1").split("?", 1)[0]


def _path(ctx: Ctx) -> str:
    return _raw_path(ctx.request).removeprefix("/v1.0")


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return unquote(user), unquote(password)


def _method_not_allowed() -> GraphHTTPError:
    return GraphHTTPError(
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
    )


def _unknown_segment(segment: str) -> GraphHTTPError:
    return bad_request(f"Resource not found for the segment '{segment}'.", "BadRequest")


def build_app(calendars: Calendars, identity: Identity, faults: Faults) -> Starlette:
    app = GraphApp(calendars, identity, faults)
    asgi = Starlette(routes=_routes(app))
    app.asgi = asgi
    return asgi


def _routes(app: GraphApp) -> list[Route]:
    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    return [
        Route("/v1.0/$batch", app.batch, methods=["POST"]),
        Route("/v1.0/{path:path}", app.graph, methods=methods),
        Route("/{tenant}/oauth2/v2.0/authorize", app.authorize, methods=["GET"]),
        Route("/{tenant}/oauth2/authorize", app.authorize, methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/token", app.token, methods=["POST"]),
        Route("/{tenant}/oauth2/token", app.token, methods=["POST"]),
        Route("/{tenant}/oauth2/v2.0/devicecode", app.device_code, methods=["POST"]),
        Route("/upload/{token}", app.upload, methods=["PUT", "GET", "DELETE"]),
        Route("/_sandbox/faults", app.admin_faults, methods=["POST", "DELETE"]),
        Route("/_sandbox/stats", app.admin_stats, methods=["GET"]),
        Route("/_sandbox/revoke-tokens", app.admin_revoke, methods=["POST"]),
        Route("/_sandbox/expire-delta-tokens", app.admin_expire_delta, methods=["POST"]),
        Route("/{path:path}", app.not_found, methods=methods),
    ]
