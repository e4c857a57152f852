"""JSON batching (`POST /v1.0/$batch`): up to 20 requests, run in parallel unless `dependsOn`
orders them. Each inner request goes through the service like any other request, so
authentication, fault injection and the per-mailbox concurrency limit apply to it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mscal.sandbox.errors import GraphHTTPError, bad_request
from mscal.sandbox.http.envelope import answer, raw_path
from mscal.sandbox.http.faults import FAULT_HEADER, Faults
from mscal.sandbox.identity.platform import Identity

MAX_REQUESTS = 20
_BATCH_URLS = {"/$batch", "/%24batch"}
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
_PASSED_ON = ("authorization", "client-request-id")
# Marks a request as one from inside a batch (no network round trip of its own).
INNER_HEADER = "x-sandbox-batch-inner"


class BatchEndpoint:
    """POST /v1.0/$batch: the batch itself is authenticated and may meet a fault; its inner
    requests go through `app` (this same service) one by one."""

    def __init__(self, identity: Identity, faults: Faults) -> None:
        self.identity = identity
        self.faults = faults
        self.app: Any = None  # the ASGI app, set once it is built (it routes here)

    async def endpoint(self, request: Request) -> Response:
        """The Starlette endpoint (a bound method, so Starlette passes it a Request)."""
        return await answer(request, lambda: self._handle(request))

    async def _handle(self, request: Request) -> Response:
        fault = self.faults.take(
            request.method, raw_path(request), request.headers.get(FAULT_HEADER)
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
        return JSONResponse(await run_batch(self.app, dict(request.headers), origin, payload))


def _validate(payload: Any) -> list[dict[str, Any]]:
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not requests:
        raise bad_request(
            "Invalid batch payload format: a non-empty 'requests' array is required.", "BadRequest"
        )
    if len(requests) > MAX_REQUESTS:
        raise bad_request(
            f"The batch request has exceeded the maximum number of requests. The maximum "
            f"supported is {MAX_REQUESTS}.",
            "BadRequest",
        )
    ids: set[str] = set()
    for item in requests:
        if not isinstance(item, dict) or not all(k in item for k in ("id", "method", "url")):
            raise bad_request(
                "Every request in a batch needs an id, a method and a url.", "BadRequest"
            )
        if str(item["id"]) in ids:
            raise bad_request(f"Duplicate request id '{item['id']}' in the batch.", "BadRequest")
        if str(item["method"]).upper() not in _METHODS:
            raise bad_request(f"Invalid method '{item['method']}' in the batch.", "BadRequest")
        if not str(item["url"]).startswith("/") or str(item["url"]).startswith("//"):
            raise bad_request(
                "A batch request url is relative to the version, e.g. /me/events.", "BadRequest"
            )
        if str(item["url"]).split("?", 1)[0].rstrip("/").lower() in _BATCH_URLS:
            # Graph batches are one level deep: a batch inside a batch is refused.
            raise bad_request("Nested batch requests are not supported.", "BadRequest")
        if not isinstance(item.get("dependsOn") or [], list):
            raise bad_request(
                f"The dependsOn of request '{item['id']}' must be an array of ids.", "BadRequest"
            )
        if "body" in item and not isinstance(item.get("headers"), dict):
            raise bad_request(
                "A batch request with a body needs a Content-Type header.", "BadRequest"
            )
        ids.add(str(item["id"]))
    for item in requests:
        for dependency in item.get("dependsOn") or []:
            if str(dependency) not in ids:
                raise bad_request(
                    f"Request '{item['id']}' depends on unknown request '{dependency}'.",
                    "BadRequest",
                )
    _check_acyclic(requests)
    return requests


def _check_acyclic(requests: list[dict[str, Any]]) -> None:
    """A request that depends on itself, or a cycle of them, would wait forever: refused.
    Kahn's order: what is left once every request with no unmet dependency is taken is a cycle."""
    waiting = {str(r["id"]): {str(d) for d in r.get("dependsOn") or []} for r in requests}
    ready = [name for name, needs in waiting.items() if not needs]
    while ready:
        done = ready.pop()
        del waiting[done]
        for name, needs in waiting.items():
            if done in needs:
                needs.discard(done)
                if not needs:
                    ready.append(name)
    if waiting:
        raise bad_request(
            f"The dependsOn of request '{min(waiting)}' forms a cycle; a request can only "
            "depend on requests that do not depend on it.",
            "BadRequest",
        )


async def run_batch(
    app: Any, outer_headers: dict[str, str], origin: str, payload: Any
) -> dict[str, Any]:
    requests = _validate(payload)
    done: dict[str, asyncio.Future[dict[str, Any]]] = {
        str(r["id"]): asyncio.get_running_loop().create_future() for r in requests
    }
    headers = {k: v for k, v in outer_headers.items() if k.lower() in _PASSED_ON}
    headers[INNER_HEADER] = "1"

    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url=origin
    ) as client:

        async def one(item: dict[str, Any]) -> None:
            request_id = str(item["id"])
            try:
                results = [await done[str(d)] for d in item.get("dependsOn") or []]
                if any(r["status"] >= 400 for r in results):
                    answer = _failed_dependency(request_id)
                else:
                    answer = await _send(client, item, headers)
            except Exception as exc:
                answer = _error(
                    request_id, GraphHTTPError(500, "generalException", type(exc).__name__)
                )
            done[request_id].set_result(answer)

        await asyncio.gather(*(one(item) for item in requests))
    return {"responses": [done[str(r["id"])].result() for r in requests]}


async def _send(
    client: httpx2.AsyncClient, item: dict[str, Any], outer: dict[str, str]
) -> dict[str, Any]:
    headers = {**outer, **{str(k): str(v) for k, v in (item.get("headers") or {}).items()}}
    content = None
    if "body" in item:
        content = json.dumps(item["body"]).encode()
    response = await client.request(
        str(item["method"]).upper(), "/v1.0" + str(item["url"]), headers=headers, content=content
    )
    answer: dict[str, Any] = {
        "id": str(item["id"]),
        "status": response.status_code,
        "headers": _kept_headers(response.headers),
    }
    if response.content:
        try:
            answer["body"] = response.json()
        except ValueError:
            answer["body"] = response.text
    return answer


def _kept_headers(headers: httpx2.Headers) -> dict[str, str]:
    kept = ("content-type", "location", "retry-after", "preference-applied", "request-id")
    return {
        name.title() if name != "request-id" else name: headers[name]
        for name in kept
        if name in headers
    }


def _failed_dependency(request_id: str) -> dict[str, Any]:
    return _error(
        request_id,
        GraphHTTPError(
            424,
            "FailedDependency",
            "The request could not be run because a request it depends on failed.",
        ),
    )


def _error(request_id: str, error: GraphHTTPError) -> dict[str, Any]:
    return {
        "id": request_id,
        "status": error.status,
        "headers": {"Content-Type": "application/json"},
        "body": {"error": {"code": error.code, "message": error.message}},
    }
