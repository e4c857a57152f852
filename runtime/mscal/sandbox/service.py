"""Assembling the service: storage, the tenant's domain, identity and faults, as one ASGI app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir
from starlette.applications import Starlette

from mscal.sandbox.domain.tenant import Tenant
from mscal.sandbox.http.app import build_app
from mscal.sandbox.http.faults import Faults
from mscal.sandbox.http.wire_guard import REQUEST_SECONDS
from mscal.sandbox.identity.model import IdentityConfig
from mscal.sandbox.identity.platform import Identity
from mscal.sandbox.notifications.delivery import Notifier
from mscal.sandbox.seed import seed_mailboxes
from mscal.sandbox.store import Store


@dataclass
class Sandbox:
    store: Store
    tenant: Tenant
    identity: Identity
    faults: Faults
    app: Starlette

    @property
    def notifier(self) -> Notifier:
        """Change notifications: their faults (`notifier.faults`), counts, and lifecycle."""
        notifier: Notifier = self.app.state.notifier
        return notifier

    @property
    def calendars(self) -> Tenant:
        """The tenant, under the name scripts (the CLI, the benchmark) have always used."""
        return self.tenant


def create_sandbox(
    db: str | Path = ":memory:",
    *,
    seed: bool = False,
    strict: bool = False,
    clients: dict[str, str] | None = None,
    token_lifetime: int = 3600,
    faults: list[str] | None = None,
    request_seconds: float = REQUEST_SECONDS,
) -> Sandbox:
    store = Store(db)
    tenant = Tenant.open(store, strict=strict)
    identity = Identity(
        store,
        IdentityConfig(strict=strict, clients=dict(clients or {}), token_lifetime=token_lifetime),
        tenant.directory,
    )
    if seed:
        seed_mailboxes(tenant)
    fault_plan = Faults()
    for fault in faults or []:
        fault_plan.add(fault)
    app = build_app(tenant, identity, fault_plan, request_seconds)
    return Sandbox(store, tenant, identity, fault_plan, app)


def default_db_path() -> Path:
    return Path(user_data_dir("mscal", appauthor=False)) / "sandbox.db"
