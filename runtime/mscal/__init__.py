"""A declarative Microsoft Calendar connector: the spec says what to send, this runtime sends it."""

from mscal.auth.form import Authentication
from mscal.connector import Connector, load_connector
from mscal.errors import (
    AuthError,
    ConnectorError,
    DeadlineError,
    EgressError,
    GraphError,
    InputError,
    PagingError,
    ResponseTooLargeError,
    ResyncRequiredError,
    SpecError,
    StoreError,
    ThrottlingError,
    TransportError,
)

__all__ = [
    "AuthError",
    "Authentication",
    "Connector",
    "ConnectorError",
    "DeadlineError",
    "EgressError",
    "GraphError",
    "InputError",
    "PagingError",
    "ResponseTooLargeError",
    "ResyncRequiredError",
    "SpecError",
    "StoreError",
    "ThrottlingError",
    "TransportError",
    "load_connector",
]
