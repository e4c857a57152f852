"""The directory: users and groups, each with a mailbox created on first use."""

from __future__ import annotations

import re
import uuid
from typing import Any

from mscal.sandbox.domain.calendars import Calendars
from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.errors import GraphHTTPError
from mscal.sandbox.store import Store

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DOMAIN = "contoso.onmicrosoft.com"


class Directory:
    """Outside `strict`, an unknown address (or a group GUID) is a new mailbox, not a 404."""

    def __init__(
        self, store: Store, calendars: Calendars, *, strict: bool = False, domain: str = DOMAIN
    ) -> None:
        self.store = store
        self.calendars = calendars
        self.strict = strict
        self.domain = domain

    def ensure_user(self, upn: str, display_name: str | None = None) -> str:
        """The user id for a sign-in name, creating the mailbox on first use."""
        existing = self.find_user(upn)
        if existing is not None:
            return str(existing["id"])
        user_id = str(uuid.uuid4())
        name = display_name or upn.split("@", maxsplit=1)[0].replace(".", " ").title()
        user = {"id": user_id, "userPrincipalName": upn, "mail": upn, "displayName": name}
        with self.store.transaction():
            self.store.put("user", user, track=False)
            owner = Owner("user", user_id, upn, name)
            group = self.calendars.new_calendar_group(owner, "My Calendars")
            self.calendars.new_calendar(
                owner, {"name": "Calendar", "color": "auto"}, group["id"], default=True
            )
        return user_id

    def find_user(self, id_or_upn: str) -> dict[str, Any] | None:
        user = self.store.get("user", id_or_upn)
        if user is not None:
            return user
        wanted = id_or_upn.lower()
        return next(
            (u for u in self.store.find("user") if u["userPrincipalName"].lower() == wanted), None
        )

    def user_owner(self, id_or_upn: str) -> Owner:
        user = self.find_user(id_or_upn)
        if user is None and not self.strict and "@" in id_or_upn:
            user = self.store.get("user", self.ensure_user(id_or_upn))
        if user is None:
            raise GraphHTTPError(
                404, "ErrorInvalidUser", f"The requested user '{id_or_upn}' is invalid."
            )
        return Owner("user", user["id"], user["userPrincipalName"], user["displayName"])

    def mailbox_of(self, address: str) -> Owner | None:
        """The mailbox of an address if it has one here (never created on the way)."""
        user = self.find_user(address) if address else None
        if user is None:
            return None
        return Owner("user", user["id"], user["userPrincipalName"], user["displayName"])

    def group_owner(self, group_id: str) -> Owner:
        group = self.store.get("group", group_id)
        if group is None and not self.strict and _GUID.match(group_id):
            group = self.ensure_group(group_id, f"Group {group_id[:8]}")
        if group is None:
            raise GraphHTTPError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{group_id}' does not exist or one of its queried reference-property "
                "objects are not present.",
            )
        return Owner("group", group["id"], group["mail"], group["displayName"])

    def ensure_group(self, group_id: str, name: str) -> dict[str, Any]:
        group = self.store.get("group", group_id)
        if group is None:
            mail = re.sub(r"[^a-z0-9]+", "", name.lower()) + "@" + self.domain
            group = {"id": group_id, "displayName": name, "mail": mail}
            owner = Owner("group", group_id, mail, name)
            with self.store.transaction():
                self.store.put("group", group, track=False)
                self.calendars.new_calendar(
                    owner, {"name": "Calendar", "color": "auto"}, None, default=True
                )
        return group

    def owner_from_key(self, key: str) -> Owner:
        kind, _, owner_id = key.partition(":")
        return self.user_owner(owner_id) if kind == "user" else self.group_owner(owner_id)
