"""The identity platform's vocabulary: its configuration, who a token acts as, its errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from mscal.sandbox.domain.timezones import graph_timestamp

GRAPH_RESOURCE = "https://graph.microsoft.com"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass
class IdentityConfig:
    strict: bool = False
    clients: dict[str, str] = field(default_factory=dict)  # client id -> secret
    token_lifetime: int = 3600
    refresh_lifetime: int = 90 * 86400  # Entra's refresh tokens last 90 days unless revoked
    default_user: str = "adele@contoso.onmicrosoft.com"
    tenant_domain: str = "contoso.onmicrosoft.com"

    @property
    def tenant_id(self) -> str:
        """The tenant's id (`tid`): a GUID, the same for a domain on every machine."""
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, self.tenant_domain))


@dataclass(frozen=True)
class Principal:
    """Who a Graph request acts as: a signed-in user, or an app (client credentials)."""

    user: str | None
    client_id: str
    scopes: tuple[str, ...]

    @property
    def is_app(self) -> bool:
        return self.user is None


class OAuthError(Exception):
    """An identity platform error, AADSTS-style."""

    def __init__(self, error: str, code: int, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.code = code
        self.description = description
        self.status = status

    def body(self) -> dict[str, Any]:
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = graph_timestamp()
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.description}\r\nTrace ID: {trace}\r\n"
            f"Correlation ID: {correlation}\r\nTimestamp: {stamp}",
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
        }
