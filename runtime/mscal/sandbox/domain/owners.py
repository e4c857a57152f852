"""Who a calendar belongs to: a user's mailbox, a group, or the tenant itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Owner:
    """A mailbox (a user's) or a group's calendar owner; "tenant" for organization-wide data."""

    kind: str  # "user" | "group" | "tenant"
    id: str
    address: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def path(self) -> str:
        return f"{self.kind}s('{self.id}')"
