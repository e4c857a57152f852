"""The signed-in user, the organization, its places (rooms and room lists), and a mailbox's
Outlook settings: master categories and supported time zones."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from mscal.sandbox.http.call import Call
from mscal.sandbox.http.envelope import unknown_segment
from mscal.sandbox.http.responses import collection, metadata
from mscal.sandbox.http.routing import EVERYONE, Route

ORGANIZATION_ID = "9c1e3f4a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
_PLACE_KINDS = {
    "graph.room": "room",
    "microsoft.graph.room": "room",
    "graph.roomlist": "roomList",
    "microsoft.graph.roomlist": "roomList",
}


def get_user(call: Call) -> Response:
    user = call.tenant.directory.find_user(call.owner.id) or {}
    return JSONResponse({"@odata.context": metadata(call, "users/$entity"), **user})


def get_organization(call: Call) -> Response:
    organization = {
        "id": ORGANIZATION_ID,
        "displayName": "Contoso (local)",
        "verifiedDomains": [{"name": call.tenant.directory.domain, "isDefault": True}],
    }
    return JSONResponse({"@odata.context": metadata(call, "organization"), "value": [organization]})


def list_places(call: Call) -> Response:
    kind = _PLACE_KINDS.get(call.params["kind"].lower())
    if kind is None:
        raise unknown_segment(call.params["kind"])
    lookups = call.tenant.lookups
    docs = lookups.rooms() if kind == "room" else lookups.room_lists()
    return collection(call, kind, docs, raw=True)


def list_rooms_of_a_list(call: Call) -> Response:
    if _PLACE_KINDS.get(call.params["kind"].lower()) != "roomList":
        raise unknown_segment("/".join((call.params["list"], call.params["kind"], "rooms")))
    return collection(call, "rooms", call.tenant.lookups.rooms(call.params["list"]), raw=True)


def list_categories(call: Call) -> Response:
    categories = call.tenant.lookups.categories(call.owner)
    return collection(call, "masterCategories", categories, raw=True)


def create_category(call: Call) -> Response:
    return JSONResponse(
        call.tenant.lookups.create_category(call.owner, call.json(entity="outlookCategory")),
        status_code=201,
    )


def list_time_zones(call: Call) -> Response:
    zones = call.tenant.lookups.time_zones(call.arg("TimeZoneStandard"))
    return collection(call, "supportedTimeZones", zones, raw=True)


ROUTES = [
    Route("GET", "", get_user, owners=frozenset({"user"})),
    Route("GET", "organization", get_organization, owners=EVERYONE, unknown_otherwise=0),
    Route("GET", "places/{kind}", list_places, owners=EVERYONE),
    Route("GET", "places/{list}/{kind}/rooms", list_rooms_of_a_list, owners=EVERYONE),
    Route("GET", "outlook/masterCategories", list_categories),
    Route("POST", "outlook/masterCategories", create_category),
    Route("GET", "outlook/supportedTimeZones(...)", list_time_zones, unknown_otherwise=1),
    # Graph also answers the function without parentheses.
    Route("GET", "outlook/supportedTimeZones", list_time_zones, unknown_otherwise=1),
]
