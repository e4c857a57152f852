"""Assembling the service: storage, identity, calendars and routes, as one ASGI app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette

from mscal.sandbox.calendars import Calendars
from mscal.sandbox.faults import Faults
from mscal.sandbox.identity import Identity, IdentityConfig
from mscal.sandbox.routes import build_app
from mscal.sandbox.store import Store


@dataclass
class Sandbox:
    store: Store
    calendars: Calendars
    identity: Identity
    faults: Faults
    app: Starlette


def create_sandbox(
    db: str | Path = ":memory:",
    *,
    seed: bool = False,
    strict: bool = False,
    clients: dict[str, str] | None = None,
    token_lifetime: int = 3600,
    faults: list[str] | None = None,
) -> Sandbox:
    store = Store(db)
    calendars = Calendars(store, strict=strict)
    identity = Identity(
        store,
        IdentityConfig(strict=strict, clients=dict(clients or {}), token_lifetime=token_lifetime),
    )
    if seed:
        from mscal.sandbox.seed import seed_mailboxes

        seed_mailboxes(calendars)
    fault_plan = Faults()
    for fault in faults or []:
        fault_plan.add(fault)
    return Sandbox(
        store, calendars, identity, fault_plan, build_app(calendars, identity, fault_plan)
    )


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("mscal", appauthor=False)) / "sandbox.db"
