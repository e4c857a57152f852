"""Graph's error envelope: every failure the service gives is one of these, never a trace."""

from __future__ import annotations

from typing import Any


class GraphHTTPError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def envelope(self, request_id: str, client_request_id: str | None, date: str) -> dict[str, Any]:
        inner: dict[str, Any] = {"date": date, "request-id": request_id}
        if client_request_id:
            inner["client-request-id"] = client_request_id
        return {"error": {"code": self.code, "message": self.message, "innerError": inner}}


def not_found(what: str = "The specified object was not found in the store.") -> GraphHTTPError:
    return GraphHTTPError(404, "ErrorItemNotFound", what)


def bad_request(message: str, code: str = "ErrorInvalidRequest") -> GraphHTTPError:
    return GraphHTTPError(400, code, message)


def malformed_id() -> GraphHTTPError:
    return GraphHTTPError(400, "ErrorInvalidIdMalformed", "Id is malformed.")


def unauthorized(message: str) -> GraphHTTPError:
    return GraphHTTPError(401, "InvalidAuthenticationToken", message)


def forbidden(
    message: str = "Access is denied. Check credentials and try again.",
) -> GraphHTTPError:
    return GraphHTTPError(403, "ErrorAccessDenied", message)
