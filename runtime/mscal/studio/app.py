"""The studio's web app: the page, its assets and its JSON API, all behind `Access`.

Each API call reads the spec afresh when a file changed (`SpecWatch`), so an author who edits
the YAML sees the change on reload. The runtime's blocking calls run in worker threads.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mscal.errors import ConnectorError, InputError
from mscal.state.contract import AuthRecords
from mscal.studio import authentications, catalog, runner
from mscal.studio.access import Access, new_token
from mscal.studio.connections import Connections
from mscal.studio.recording import SharedTransport
from mscal.studio.watches import Watches

STATIC = Path(__file__).parent / "static"
# A request body the page never needs to exceed (an operation's inputs, an auth form).
MAX_BODY = 8 * 1024 * 1024

Endpoint = Callable[[Request], Awaitable[Response]]


class Studio:
    """One studio: the spec it shows, the store it saves to, the sign-ins under way."""

    def __init__(self, spec: str | Path | None = None, store: AuthRecords | None = None) -> None:
        self.spec = catalog.SpecWatch(spec)
        # The store `mscal auth` uses (MSCAL_STORE: files by default, or Redis).
        self.store = store or self.spec.connector().store.authentications
        self.token = new_token()
        self.sign_ins = authentications.SignIns()
        self.transport = SharedTransport()
        self.connections = Connections(self.store, self.transport)
        self.watches = Watches(self.connections)
        self.origin = ""
        self.extensions: list[Route] = []
        routes = [
            Route("/", self.page),
            Route("/callback", self.callback),
            Route("/api/overview", self.api(self.overview)),
            Route("/api/operations/{name}", self.api(self.operation)),
            Route("/api/authentications", self.api(self.list_auths)),
            Route("/api/authentications", self.api(self.create_auth), methods=["POST"]),
            Route("/api/authentications/check", self.api(self.check_auth), methods=["POST"]),
            Route("/api/check", self.api(self.check_inputs), methods=["POST"]),
            Route("/api/run", self.api(self.run), methods=["POST"]),
            Route("/api/lookup", self.api(self.lookup), methods=["POST"]),
            Route("/api/triggers/{name}", self.api(self.trigger)),
            Route("/api/watches", self.api(self.start_watch), methods=["POST"]),
            Route("/api/watches/{id}", self.api(self.watch)),
            Route("/api/watches/{id}/stop", self.api(self.stop_watch), methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
        self.access = Access(Starlette(routes=routes), self.token)
        self.app = self.access

    def bound(self, origin: str) -> str:
        """Called once the port is known; the URL to print (it carries the token)."""
        self.origin = origin.rstrip("/")
        self.access.allow_origin(self.origin)
        return f"{self.origin}/?token={self.token}"

    # -- the page --------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def callback(self, request: Request) -> Response:
        """Where the identity platform sends the person back after signing in."""
        params = dict(request.query_params)
        try:
            connector = self.spec.connector()
            name = await run_in_threadpool(
                self.sign_ins.finish, connector, self.store, params, str(request.url)
            )
        except ConnectorError as exc:
            return RedirectResponse(f"/#signin-error={_fragment(str(exc))}", status_code=303)
        return RedirectResponse(f"/#signed-in={_fragment(name)}", status_code=303)

    # -- the API ---------------------------------------------------------------------------

    def api(self, handler: Callable[[Request], Awaitable[Any]]) -> Endpoint:
        """A JSON endpoint: a ConnectorError is a 4xx with its message (and field), never a
        traceback; a body that is not a JSON object is refused before anything runs."""

        async def endpoint(request: Request) -> Response:
            try:
                return JSONResponse(await handler(request))
            except InputError as exc:
                return JSONResponse({"error": runner.error_view(exc)}, status_code=422)
            except ConnectorError as exc:
                return JSONResponse({"error": runner.error_view(exc)}, status_code=400)

        return endpoint

    async def overview(self, request: Request) -> Any:
        connector = self.spec.connector()
        return catalog.overview(connector, self.store)

    async def operation(self, request: Request) -> Any:
        connector = self.spec.connector()
        name = request.path_params["name"]
        if name not in connector.spec.operations:
            raise InputError("operation", "unknown", f"no operation named {name!r}")
        return catalog.operation_view(connector, name)

    async def list_auths(self, request: Request) -> Any:
        return await run_in_threadpool(authentications.saved, self.store)

    async def check_auth(self, request: Request) -> Any:
        body = await _body(request)
        await run_in_threadpool(authentications.check, self.spec.connector(), self.store, body)
        return {"ok": True}

    async def create_auth(self, request: Request) -> Any:
        body = await _body(request)
        return await run_in_threadpool(
            self.sign_ins.create,
            self.spec.connector(),
            self.store,
            body,
            f"{self.origin}/callback",
        )

    async def check_inputs(self, request: Request) -> Any:
        body = await _body(request)
        connector = self.spec.connector()
        operation = _operation(connector.spec.operations, body)
        error = await run_in_threadpool(runner.check, connector, operation, _inputs(body))
        return {"ok": error is None, "error": error}

    async def run(self, request: Request) -> Any:
        body = await _body(request)
        connector = self.spec.connector()
        operation = _operation(connector.spec.operations, body)
        auth = body.get("auth") or None
        return await run_in_threadpool(
            runner.run, connector, self.connections, operation, _inputs(body), auth
        )

    async def lookup(self, request: Request) -> Any:
        body = await _body(request)
        connector = self.spec.connector()
        # An operation's input, or a trigger's.
        operation = _operation({**connector.spec.operations, **connector.spec.triggers}, body)
        if not body.get("auth"):
            raise InputError("auth", "required", "choose an authentication to look values up")
        choices = await run_in_threadpool(
            runner.lookup,
            connector,
            self.connections,
            operation,
            str(body.get("field")),
            str(body["auth"]),
        )
        return {"choices": choices}

    async def trigger(self, request: Request) -> Any:
        connector = self.spec.connector()
        name = request.path_params["name"]
        if name not in connector.spec.triggers:
            raise InputError("trigger", "unknown", f"no trigger named {name!r}")
        return catalog.trigger_view(connector, name)

    async def start_watch(self, request: Request) -> Any:
        body = await _body(request)
        connector = self.spec.connector()
        name = str(body.get("trigger") or "")
        if name not in connector.spec.triggers:
            raise InputError("trigger", "unknown", f"no trigger named {name!r}")
        if not body.get("auth"):
            raise InputError("auth", "required", "choose an authentication to watch with")
        try:
            interval = float(body.get("interval") or 5)
        except (TypeError, ValueError):
            raise InputError("interval", "type", "must be a number of seconds") from None
        inputs = runner.unfolded(_inputs(body))
        watching = await run_in_threadpool(
            self.watches.start, connector, name, inputs, str(body["auth"]), interval
        )
        return watching.view(0)

    async def watch(self, request: Request) -> Any:
        watching = self.watches.get(request.path_params["id"])
        if watching is None:
            raise InputError("watch", "unknown", "no such watch (stopped, or the studio restarted)")
        try:
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            raise InputError("after", "type", "must be a whole number") from None
        return watching.view(after)

    async def stop_watch(self, request: Request) -> Any:
        self.watches.stop(request.path_params["id"])
        return {"stopped": True}


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InputError("body", "size", f"is over {MAX_BODY} bytes")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise InputError("body", "json", "is not JSON") from None
    if not isinstance(body, dict):
        raise InputError("body", "type", "must be a JSON object")
    return body


def _operation(operations: Any, body: dict[str, Any]) -> str:
    name = str(body.get("operation") or "")
    if name not in operations:
        raise InputError("operation", "unknown", f"no operation named {name!r}")
    return name


def _inputs(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise InputError("inputs", "type", "must be a JSON object")
    return inputs


def _fragment(text: str) -> str:
    return quote(text, safe="")
