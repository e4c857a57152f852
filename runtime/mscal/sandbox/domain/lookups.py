"""Places (rooms and room lists), Outlook master categories and supported time zones."""

from __future__ import annotations

import zoneinfo
from typing import Any

from tzlocal.windows_tz import win_tz

from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.errors import GraphHTTPError, bad_request, not_found
from mscal.sandbox.ids import new_id
from mscal.sandbox.store import Store

# Outlook's default categories for a new mailbox.
DEFAULT_CATEGORIES = [
    ("Red category", "preset0"),
    ("Orange category", "preset1"),
    ("Yellow category", "preset3"),
    ("Green category", "preset4"),
    ("Blue category", "preset7"),
    ("Purple category", "preset8"),
]
CATEGORY_COLORS = {"none", *(f"preset{i}" for i in range(25))}


class Lookups:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- places ------------------------------------------------------------------------------

    def add_place(
        self, kind: str, name: str, email: str, parent: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        place = {"id": new_id("PLC"), "displayName": name, "emailAddress": email, **extra}
        self.store.put(kind, place, parent=parent, track=False)
        return place

    def rooms(self, room_list: str | None = None) -> list[dict[str, Any]]:
        if room_list is None:
            return self.store.find("room")
        match = next(
            (p for p in self.store.find("roomList") if room_list in {p["id"], p["emailAddress"]}),
            None,
        )
        if match is None:
            raise not_found(f"The room list '{room_list}' was not found.")
        return self.store.find("room", parent=match["id"])

    def room_lists(self) -> list[dict[str, Any]]:
        return self.store.find("roomList")

    # -- categories --------------------------------------------------------------------------

    def categories(self, owner: Owner) -> list[dict[str, Any]]:
        found = self.store.find("category", owner=owner.key)
        if not found:
            for name, color in DEFAULT_CATEGORIES:
                self.store.put(
                    "category",
                    {"id": new_id("CAT"), "displayName": name, "color": color},
                    owner=owner.key,
                    track=False,
                )
            found = self.store.find("category", owner=owner.key)
        return found

    def create_category(self, owner: Owner, body: dict[str, Any]) -> dict[str, Any]:
        name = str(body.get("displayName") or "")
        if not name:
            raise bad_request("A category needs a displayName.", "ErrorInvalidRequest")
        if any(c["displayName"].lower() == name.lower() for c in self.categories(owner)):
            raise GraphHTTPError(
                409, "ErrorItemAlreadyExists", f"A category named '{name}' already exists."
            )
        color = body.get("color", "none")
        if color not in CATEGORY_COLORS:
            raise bad_request(
                f"'{color}' is not a category color (none, preset0 to preset24).",
                "ErrorInvalidRequest",
            )
        category = {"id": new_id("CAT"), "displayName": name, "color": color}
        self.store.put("category", category, owner=owner.key, track=False)
        return category

    # -- time zones --------------------------------------------------------------------------

    @staticmethod
    def time_zones(standard: str | None) -> list[dict[str, str]]:
        if standard is None or standard.lower() == "windows":
            names = sorted(win_tz)
        elif standard.lower() == "iana":
            names = sorted(zoneinfo.available_timezones())
        else:
            raise bad_request(
                f"'{standard}' is not a TimeZoneStandard (Windows or Iana).",
                "ErrorInvalidParameter",
            )
        return [{"alias": name, "displayName": name} for name in names]
