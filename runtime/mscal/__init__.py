"""A declarative Microsoft Calendar connector: the spec says what to send, this runtime sends it."""

from mscal.api import Connector, load_connector
from mscal.auth import Authentication
from mscal.errors import (
    AuthError,
    ConnectorError,
    EgressError,
    GraphError,
    InputError,
    PagingError,
    SpecError,
    TransportError,
)

__all__ = [
    "AuthError",
    "Authentication",
    "Connector",
    "ConnectorError",
    "EgressError",
    "GraphError",
    "InputError",
    "PagingError",
    "SpecError",
    "TransportError",
    "load_connector",
]
