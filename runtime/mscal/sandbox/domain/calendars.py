"""Calendar groups and calendars of an owner: listing, lookups, creation, changes, deletion."""

from __future__ import annotations

import uuid
from typing import Any

from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.errors import GraphHTTPError, bad_request, malformed_id, not_found
from mscal.sandbox.ids import new_change_key, new_id
from mscal.sandbox.store import Store


def _name(value: Any, what: str) -> str:
    """A calendar's or group's name: Exchange keeps no calendar folder without one."""
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"The {what} name cannot be empty.", "ErrorInvalidRequest")
    return value


class Calendars:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- calendar groups ---------------------------------------------------------------------

    def new_calendar_group(self, owner: Owner, name: str) -> dict[str, Any]:
        group = {
            "id": new_id("AAMkAG"),
            "name": name,
            "classId": str(uuid.uuid4()),
            "changeKey": new_change_key(),
        }
        self.store.put("calendar_group", group, owner=owner.key)
        return group

    def calendar_groups(self, owner: Owner) -> list[dict[str, Any]]:
        return self.store.find("calendar_group", owner=owner.key)

    def calendar_group(self, owner: Owner, group_id: str) -> dict[str, Any]:
        group = self.store.get("calendar_group", group_id)
        if group is None or group not in self.calendar_groups(owner):
            raise not_found()
        return group

    def create_calendar_group(self, owner: Owner, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("name"):
            raise bad_request("The calendar group needs a name.", "ErrorInvalidRequest")
        return self.new_calendar_group(owner, str(body["name"]))

    def update_calendar_group(
        self, owner: Owner, group_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        group = self.calendar_group(owner, group_id)
        if "name" in body:
            group["name"] = _name(body["name"], "calendar group")
        group["changeKey"] = new_change_key()
        self.store.put("calendar_group", group, owner=owner.key)
        return group

    def delete_calendar_group(self, owner: Owner, group_id: str) -> None:
        self.calendar_group(owner, group_id)
        if self.store.find("calendar", owner=owner.key, parent=group_id):
            raise bad_request("The calendar group is not empty.", "ErrorCannotDeleteObject")
        self.store.delete("calendar_group", group_id)

    # -- calendars ---------------------------------------------------------------------------

    def new_calendar(
        self, owner: Owner, body: dict[str, Any], group_id: str | None, *, default: bool = False
    ) -> dict[str, Any]:
        calendar = {
            "id": new_id("AAMkAGC"),
            "name": str(body.get("name", "Calendar")),
            "color": body.get("color", "auto"),
            "hexColor": body.get("hexColor", ""),
            "isDefaultCalendar": default,
            "changeKey": new_change_key(),
            "canShare": owner.kind == "user",
            "canViewPrivateItems": True,
            "canEdit": True,
            "isRemovable": not default,
            "isTallyingResponses": True,
            "allowedOnlineMeetingProviders": ["teamsForBusiness"],
            "defaultOnlineMeetingProvider": "teamsForBusiness",
            "owner": {"name": owner.name, "address": owner.address},
            "_group": group_id,
        }
        self.store.put("calendar", calendar, owner=owner.key, parent=group_id)
        return calendar

    def calendars(self, owner: Owner, group_id: str | None = None) -> list[dict[str, Any]]:
        if group_id is not None:
            self.calendar_group(owner, group_id)
        return self.store.find("calendar", owner=owner.key, parent=group_id)

    def default_calendar(self, owner: Owner) -> dict[str, Any]:
        for calendar in self.store.find("calendar", owner=owner.key):
            if calendar["isDefaultCalendar"]:
                return calendar
        raise not_found()

    def calendar(
        self, owner: Owner, calendar_id: str | None, group_id: str | None = None
    ) -> dict[str, Any]:
        if calendar_id is None:
            return self.default_calendar(owner)
        if len(calendar_id) < 8:
            raise malformed_id()
        candidates = (
            self.calendars(owner, group_id)
            if group_id
            else self.store.find("calendar", owner=owner.key)
        )
        found = next((c for c in candidates if c["id"] == calendar_id), None)
        if found is None:
            raise not_found()
        return found

    def create_calendar(
        self, owner: Owner, body: dict[str, Any], group_id: str | None = None
    ) -> dict[str, Any]:
        if not body.get("name"):
            raise bad_request("The calendar needs a name.", "ErrorInvalidRequest")
        if any(c["name"] == body["name"] for c in self.store.find("calendar", owner=owner.key)):
            raise GraphHTTPError(
                409, "ErrorFolderExists", "A folder with the specified name already exists."
            )
        if group_id is None:
            group_id = self.calendar_groups(owner)[0]["id"] if self.calendar_groups(owner) else None
        else:
            self.calendar_group(owner, group_id)
        return self.new_calendar(owner, body, group_id)

    def update_calendar(
        self, owner: Owner, calendar_id: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        calendar = self.calendar(owner, calendar_id)
        if "name" in body:
            _name(body["name"], "calendar")
        for key in ("name", "color", "hexColor", "defaultOnlineMeetingProvider"):
            if key in body and body[key] is not None:
                calendar[key] = body[key]
        calendar["changeKey"] = new_change_key()
        self.store.put("calendar", calendar, owner=owner.key, parent=calendar.get("_group"))
        return calendar

    def delete_calendar(self, owner: Owner, calendar_id: str) -> None:
        calendar = self.calendar(owner, calendar_id)
        if calendar["isDefaultCalendar"]:
            raise GraphHTTPError(
                400, "ErrorCannotDeleteObject", "The default calendar cannot be deleted."
            )
        with self.store.transaction():
            for event in self.store.find("event", owner=owner.key, parent=calendar["id"]):
                self.store.delete("event", event["id"])
            self.store.delete("calendar", calendar["id"])
