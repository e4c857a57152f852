"""A local Graph service on a real loopback socket, and authentications against it.

Each test module gets a service of its own (a fresh seeded tenant, fresh tokens), so no module
sees what another left behind; the spec, which nothing changes, is loaded once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

import mscal
from mscal.auth.signin import sign_in_without_browser
from mscal.io.session import Session
from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox, create_sandbox

ADELE = "adele@contoso.onmicrosoft.com"
ALEX = "alex@contoso.onmicrosoft.com"
MEGAN = "megan@contoso.onmicrosoft.com"


def raw(
    session: Session, method: str, endpoint: str, body: Any = None, **extra: Any
) -> dict[str, Any]:
    """A raw_http_request through the connector, with a JSON body when one is given."""
    inputs: dict[str, Any] = {"method": method, "endpoint": endpoint, **extra}
    if body is not None:
        inputs.update(body_type="json", body=body)
    result: dict[str, Any] = session.run("raw_http_request", inputs)
    return result


def q(value: str) -> str:
    """An id as one path segment."""
    return quote(value, safe="")


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return create_sandbox(":memory:", seed=True)


@pytest.fixture(scope="module")
def service(sandbox: Sandbox) -> Iterator[str]:
    with BackgroundServer(sandbox.app) as url:
        yield url


@pytest.fixture(scope="module")
def form(service: str) -> dict[str, Any]:
    return {
        "client_id": "e2e-tests",
        "tenant_id": "contoso.onmicrosoft.com",
        "authority_host": service,
        "base_url": f"{service}/v1.0",
    }


@pytest.fixture(scope="session")
def connector() -> mscal.Connector:
    return mscal.load_connector()


@pytest.fixture(scope="module")
def adele(connector: mscal.Connector, form: dict[str, Any]) -> mscal.Authentication:
    return sign_in_without_browser(connector.spec, form, ADELE)


@pytest.fixture(scope="module")
def megan(connector: mscal.Connector, form: dict[str, Any]) -> mscal.Authentication:
    return sign_in_without_browser(connector.spec, form, MEGAN)


@pytest.fixture(scope="module")
def alex(connector: mscal.Connector, form: dict[str, Any]) -> mscal.Authentication:
    return sign_in_without_browser(connector.spec, form, ALEX)


@pytest.fixture(scope="module")
def app_auth(connector: mscal.Connector, form: dict[str, Any]) -> mscal.Authentication:
    return connector.authentication(
        {**form, "grant_type": "client_credentials", "client_secret": "any-secret-works-here"}
    )


@pytest.fixture
def me(connector: mscal.Connector, adele: mscal.Authentication) -> Iterator[Session]:
    with connector.session(adele) as session:
        yield session
