"""`/subscriptions`: create (after validating the notification and lifecycle URLs), list, get,
renew (PATCH expirationDateTime), reauthorize and delete, as Graph answers them."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.http.call import Call
from mscal.sandbox.http.responses import empty
from mscal.sandbox.http.routing import Route
from mscal.sandbox.notifications.handshake import validate, validation_client

TENANT = frozenset({"tenant"})


def _shown(call: Call, subscription: dict[str, Any], *, entity: bool = True) -> dict[str, Any]:
    body = {k: v for k, v in subscription.items() if not k.startswith("_")}
    if entity:
        body = {"@odata.context": f"{call.base}/$metadata#subscriptions/$entity", **body}
    return body


def _caller(call: Call) -> Owner | None:
    user = call.principal.user
    return None if user is None else call.tenant.directory.user_owner(str(user))


def _mine(call: Call, subscription: dict[str, Any]) -> bool:
    """A person sees the subscriptions they created; an app (client credentials) all."""
    caller = _caller(call)
    return caller is None or subscription.get("creatorId") == caller.id


def create(call: Call) -> Response:
    subscriptions = call.tenant.subscriptions
    subscription = subscriptions.check_new(_caller(call), call.json())
    subscription["applicationId"] = call.principal.client_id
    client = validation_client()
    validate(client, subscription["notificationUrl"], "notificationUrl")
    if subscription.get("lifecycleNotificationUrl"):
        validate(client, subscription["lifecycleNotificationUrl"], "lifecycleNotificationUrl")
    subscriptions.add(subscription)
    return JSONResponse(_shown(call, subscription), status_code=201)


def list_subscriptions(call: Call) -> Response:
    found = [
        _shown(call, s, entity=False) for s in call.tenant.subscriptions.all() if _mine(call, s)
    ]
    return JSONResponse({"@odata.context": f"{call.base}/$metadata#subscriptions", "value": found})


def get(call: Call) -> Response:
    subscription = _owned(call)
    return JSONResponse(_shown(call, subscription))


def renew(call: Call) -> Response:
    _owned(call)
    renewed = call.tenant.subscriptions.renew(call.params["subscription"], call.json())
    return JSONResponse(_shown(call, renewed))


def reauthorize(call: Call) -> Response:
    call.json(required=False)
    _owned(call)
    call.tenant.subscriptions.reauthorize(call.params["subscription"])
    return empty(204)


def delete(call: Call) -> Response:
    _owned(call)
    call.tenant.subscriptions.delete(call.params["subscription"])
    return empty(204)


def _owned(call: Call) -> dict[str, Any]:
    subscriptions = call.tenant.subscriptions
    subscription = subscriptions.get(call.params["subscription"])
    if not _mine(call, subscription):
        # Another person's subscription is not there, for this caller.
        raise subscriptions.missing(call.params["subscription"])
    return subscription


ROUTES = [
    Route("GET", "subscriptions", list_subscriptions, owners=TENANT),
    Route("POST", "subscriptions", create, owners=TENANT),
    Route("GET", "subscriptions/{subscription}", get, owners=TENANT),
    Route("PATCH", "subscriptions/{subscription}", renew, owners=TENANT),
    Route("DELETE", "subscriptions/{subscription}", delete, owners=TENANT),
    Route("POST", "subscriptions/{subscription}/reauthorize", reauthorize, owners=TENANT),
]
