"""Calendar permissions (sharing and delegation) and the roles a calendar may grant."""

from __future__ import annotations

from typing import Any

from mscal.sandbox.domain.directory import Directory
from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.errors import GraphHTTPError, bad_request, not_found
from mscal.sandbox.ids import new_id
from mscal.sandbox.store import Store

INTERNAL_ROLES = [
    "none",
    "freeBusyRead",
    "limitedRead",
    "read",
    "write",
    "delegateWithoutPrivateEventAccess",
    "delegateWithPrivateEventAccess",
]
EXTERNAL_ROLES = ["none", "freeBusyRead", "limitedRead", "read"]


class Sharing:
    def __init__(self, store: Store, directory: Directory) -> None:
        self.store = store
        self.directory = directory

    def _internal(self, address: str) -> bool:
        return self.directory.find_user(address) is not None or address.lower().endswith(
            "@" + self.directory.domain
        )

    def allowed_roles(self, address: str) -> list[str]:
        return list(INTERNAL_ROLES if self._internal(address) else EXTERNAL_ROLES)

    def permissions(self, owner: Owner, calendar: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.store.find("permission", owner=owner.key, parent=calendar["id"])
        if not found:
            # A calendar starts shared with the organization as free/busy; that cannot be removed.
            organization = {
                "id": new_id("RXhjaGFuZ2VQdWJsaXNoZWRVc2VyLk15T3Jn"),
                "isRemovable": False,
                "isInsideOrganization": True,
                "role": "freeBusyRead",
                "allowedRoles": ["none", "freeBusyRead", "limitedRead", "read"],
                "emailAddress": {"name": "My Organization"},
            }
            self.store.put("permission", organization, owner=owner.key, parent=calendar["id"])
            found = [organization]
        return found

    def permission(
        self, owner: Owner, calendar: dict[str, Any], permission_id: str
    ) -> dict[str, Any]:
        for item in self.permissions(owner, calendar):
            if item["id"] == permission_id:
                return item
        raise not_found()

    def create(
        self, owner: Owner, calendar: dict[str, Any], body: dict[str, Any]
    ) -> dict[str, Any]:
        address = str(((body.get("emailAddress") or {}).get("address")) or "")
        if not address:
            raise bad_request(
                "A calendar permission needs emailAddress.address.", "ErrorInvalidRequest"
            )
        if any(
            (p.get("emailAddress") or {}).get("address", "").lower() == address.lower()
            for p in self.permissions(owner, calendar)
        ):
            raise GraphHTTPError(
                409,
                "ErrorItemAlreadyExists",
                f"'{address}' already has a permission on this calendar.",
            )
        allowed = self.allowed_roles(address)
        role = body.get("role", "read")
        if role not in allowed:
            raise bad_request(
                f"The role '{role}' cannot be granted to '{address}'. "
                f"Allowed: {', '.join(allowed)}.",
                "ErrorInvalidParameter",
            )
        permission = {
            "id": new_id("RXhjaGFuZ2VQdWJsaXNoZWRVc2Vy"),
            "isRemovable": True,
            "isInsideOrganization": self._internal(address),
            "role": role,
            "allowedRoles": allowed,
            "emailAddress": {
                "name": (body.get("emailAddress") or {}).get("name", address),
                "address": address,
            },
        }
        self.store.put("permission", permission, owner=owner.key, parent=calendar["id"])
        return permission

    def update(
        self, owner: Owner, calendar: dict[str, Any], permission_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        permission = self.permission(owner, calendar, permission_id)
        if set(body) - {"role"}:
            raise bad_request(
                "Only the role of a calendar permission can be changed.", "ErrorInvalidRequest"
            )
        if body.get("role") not in permission["allowedRoles"]:
            raise bad_request(
                f"The role '{body.get('role')}' is not allowed here.", "ErrorInvalidParameter"
            )
        permission["role"] = body["role"]
        self.store.put("permission", permission, owner=owner.key, parent=calendar["id"])
        return permission

    def delete(self, owner: Owner, calendar: dict[str, Any], permission_id: str) -> None:
        permission = self.permission(owner, calendar, permission_id)
        if not permission["isRemovable"]:
            raise GraphHTTPError(
                403, "ErrorAccessDenied", "This calendar permission cannot be removed."
            )
        self.store.delete("permission", permission_id)
