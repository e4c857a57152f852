"""The connector's error types. Each knows the CLI exit status it maps to."""

from __future__ import annotations

from typing import Any

from mscal.secret import scrub


class ConnectorError(Exception):
    """Base of every error the connector raises on purpose.

    An error raised while an operation runs carries the operation's `client-request-id` (the
    same on every retry), and Graph's `request-id` and `date` when Graph answered, so that
    support can trace it.
    """

    exit_code = 1
    client_request_id: str | None = None
    request_id: str | None = None
    date: str | None = None

    def __init__(self, *args: object) -> None:
        # A message may quote what a server sent, and a server may echo a credential back:
        # scrubbed once here, it is clean in str(), repr(), tracebacks and to_dict().
        super().__init__(*(scrub(arg) if isinstance(arg, str) else arg for arg in args))

    def to_dict(self) -> dict[str, Any]:
        described: dict[str, Any] = {"type": type(self).__name__, "message": str(self)}
        for key in ("client_request_id", "request_id", "date"):
            value = getattr(self, key)
            if value is not None:
                described[key] = value
        return described


class SpecError(ConnectorError):
    """The connector spec cannot be loaded or is inconsistent."""

    exit_code = 2


class InputError(ConnectorError):
    """Inputs failed validation; nothing was sent."""

    exit_code = 2

    def __init__(self, field: str, rule: str, message: str) -> None:
        self.field = field
        self.rule = rule
        message = scrub(message)
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "field": self.field, "rule": self.rule}


class EgressError(ConnectorError):
    """A request would have left the connection's Graph host or base path; it was not sent."""

    exit_code = 2


class AuthError(ConnectorError):
    """No usable access token could be obtained."""


class StoreError(ConnectorError):
    """The shared state store (Redis) could not be reached or answered wrongly. A request that
    needed it (a mailbox slot, a token refresh) was not sent: sending it anyway could overrun
    Graph's limits for every worker."""


class TransportError(ConnectorError):
    """The request could not be completed on the network."""


class DeadlineError(TransportError):
    """The operation's overall deadline passed (retries, paging and waits included)."""


class ResponseTooLargeError(TransportError):
    """A response was larger than the operation's cap; reading stopped at the cap."""


class PagingError(ConnectorError):
    """Paging stopped before the end; carries what was collected and where to resume."""

    def __init__(self, message: str, *, collected: int, resume_link: str | None) -> None:
        self.collected = collected
        self.resume_link = resume_link
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "collected": self.collected, "resume_link": self.resume_link}


class GraphError(ConnectorError):
    """Graph answered with an error status; carries Graph's code, message and request ids."""

    def __init__(
        self,
        *,
        status_code: int,
        code: str | None,
        message: str,
        request_id: str | None = None,
        client_request_id: str | None = None,
        date: str | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        self.status_code = status_code
        code = scrub(code) if code else code
        self.code = code
        message = scrub(message)
        self.message = message
        self.request_id = scrub(request_id) if request_id else request_id
        self.client_request_id = client_request_id
        self.date = scrub(date) if date else date
        request_id = self.request_id
        self.retry_after = retry_after
        self.hint = hint
        ids = ", ".join(
            f"{name} {value}"
            for name, value in (
                ("request-id", request_id),
                ("client-request-id", client_request_id),
            )
            if value
        )
        super().__init__(
            f"HTTP {status_code} {code or 'error'}: {message}"
            + (f" {hint}" if hint else "")
            + (f" ({ids})" if ids else "")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "status_code": self.status_code,
            "code": self.code,
            "graph_message": self.message,
            "request_id": self.request_id,
            "client_request_id": self.client_request_id,
            "date": self.date,
            "retry_after": self.retry_after,
        }


class ThrottlingError(GraphError):
    """Graph kept answering 429, 503 or 504 past the retries or the wait budget; `retry_after`
    says how many seconds to wait before trying again."""


class ResyncRequiredError(GraphError):
    """A sync's delta state has expired at Graph: only a full resync can continue."""
