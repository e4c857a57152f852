"""An event's attachments: small ones in one request; large ones through an upload session
whose URL is on another host name and takes ranged PUTs with no Authorization header."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mscal.sandbox.domain.attachments import Attachments
from mscal.sandbox.errors import GraphHTTPError
from mscal.sandbox.http.call import Call
from mscal.sandbox.http.envelope import answer, method_not_allowed
from mscal.sandbox.http.responses import collection, empty, metadata
from mscal.sandbox.http.routing import Route


def list_attachments(call: Call) -> Response:
    found = call.tenant.attachments.list(call.owner, call.params["event"])
    return collection(call, "attachments", found, raw=True)


def add_attachment(call: Call) -> Response:
    event = call.params["event"]
    added = call.tenant.attachments.add(call.owner, event, call.json(entity="attachment"))
    context = metadata(call, f"{call.owner.path}/events('{event}')/attachments/$entity")
    return JSONResponse({"@odata.context": context, **added}, status_code=201)


def get_attachment(call: Call) -> Response:
    attachments = call.tenant.attachments
    return JSONResponse(
        attachments.get(call.owner, call.params["event"], call.params["attachment"])
    )


def delete_attachment(call: Call) -> Response:
    call.tenant.attachments.delete(call.owner, call.params["event"], call.params["attachment"])
    return empty(204)


def create_upload_session(call: Call) -> Response:
    token, session = call.tenant.attachments.create_session(
        call.owner, call.params["event"], call.json(action="createUploadSession")
    )
    url = call.request.url
    # The upload URL is on another host name, as Graph's is: it carries its own
    # authorization and must be sent no Authorization header.
    host = "127.0.0.1" if url.hostname == "localhost" else "localhost"
    return JSONResponse(
        {
            "@odata.context": metadata(call, "microsoft.graph.uploadSession"),
            "uploadUrl": f"{url.scheme}://{host}:{url.port}/upload/{token}",
            **session.status(),
        },
        status_code=201,
    )


UPLOAD_METHODS = ("PUT", "GET", "DELETE")


class UploadEndpoint:
    """`/upload/{token}`: PUT a ranged chunk (GET the session's status, DELETE to cancel)."""

    def __init__(self, attachments: Attachments) -> None:
        self.attachments = attachments

    async def endpoint(self, request: Request) -> Response:
        """The Starlette endpoint (a bound method, so Starlette passes it a Request)."""
        return await answer(request, lambda: self._handle(request))

    async def _handle(self, request: Request) -> Response:
        if request.method not in UPLOAD_METHODS:
            raise method_not_allowed(UPLOAD_METHODS)
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


# Under the owner (/me/events/...) and under any calendar.
ROUTES = [
    Route("GET", "events/{event}/attachments", list_attachments),
    Route("POST", "events/{event}/attachments", add_attachment),
    Route("POST", "events/{event}/attachments/createUploadSession", create_upload_session),
    Route("GET", "events/{event}/attachments/{attachment}", get_attachment),
    Route("DELETE", "events/{event}/attachments/{attachment}", delete_attachment),
]
