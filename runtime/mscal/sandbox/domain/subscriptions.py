"""Change-notification subscriptions, as Graph keeps them for Outlook events: a resource
(`/me/events`, `/users/{id}/events`, a calendar's events), change types, the URLs, an expiry of
at most 10,080 minutes, at most 1,000 a mailbox; removed once expired. The service's clock can
be moved forward (days pass in seconds), so renewal is tested without waiting.

Free of HTTP: the validation handshake and the deliveries are `webhooks/`'s job.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mscal.sandbox.domain.directory import Directory
from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.errors import GraphHTTPError, bad_request
from mscal.sandbox.store import Store

MAX_MINUTES = 10080  # Outlook events, without resource data
PER_MAILBOX = 1000
CHANGE_TYPES = frozenset({"created", "updated", "deleted"})
_RESOURCE = re.compile(
    r"^/?(?:me|users/(?P<user>[^/]+))(?:/calendars/(?P<calendar>[^/]+))?/events$", re.IGNORECASE
)


class Clock:
    """The service's time: real time plus an offset that tests move forward."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, by: dt.timedelta) -> None:
        self.offset += by


def graph_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "0000000Z"


def parse_expiry(value: Any) -> dt.datetime:
    """An ISO 8601 date-time (Graph's seven fractional digits allowed), as aware UTC."""
    if not isinstance(value, str) or not value:
        raise bad_request("expirationDateTime is required.", "InvalidRequest")
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(
            f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTimeOffset'.",
            "BadRequest",
        ) from None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed


@dataclass(frozen=True)
class Watched:
    """What a subscription watches: a mailbox, and maybe one calendar of it."""

    owner: str
    calendar: str | None


class Subscriptions:
    def __init__(self, store: Store, directory: Directory, clock: Clock | None = None) -> None:
        self.store = store
        self.directory = directory
        self.clock = clock or Clock()
        self._lock = threading.RLock()
        # Told when a subscription is added (the deliveries start listening then).
        self.on_added: list[Callable[[], None]] = []

    # -- Graph's operations ------------------------------------------------------------------

    def check_new(self, caller: Owner | None, body: dict[str, Any]) -> dict[str, Any]:
        """A new subscription from `body`, checked (not stored: the URLs are validated first)."""
        resource = str(body.get("resource") or "")
        watched = self._watched(caller, resource)
        change_types = [c.strip() for c in str(body.get("changeType") or "").split(",") if c]
        if not change_types or not set(change_types) <= CHANGE_TYPES:
            raise bad_request(
                "changeType must be a comma-separated list of created, updated and deleted.",
                "InvalidRequest",
            )
        if not body.get("notificationUrl"):
            raise bad_request("notificationUrl is required.", "InvalidRequest")
        client_state = body.get("clientState")
        if client_state is not None and (
            not isinstance(client_state, str) or len(client_state) > 128
        ):
            raise bad_request(
                "clientState must be a string of at most 128 characters.", "InvalidRequest"
            )
        expiry = self._checked_expiry(body.get("expirationDateTime"))
        if len(self._of_mailbox(watched.owner)) >= PER_MAILBOX:
            raise GraphHTTPError(
                403,
                "ExtensionError",
                f"Operation: Create; Exception: [Status Code: Forbidden; Reason: The number of "
                f"subscriptions for this mailbox has reached its limit of {PER_MAILBOX}.]",
            )
        return {
            "id": str(uuid.uuid4()),
            "resource": resource,
            "applicationId": str(
                body.get("applicationId") or "00000000-0000-0000-0000-000000000000"
            ),
            "changeType": ",".join(change_types),
            "clientState": client_state,
            "notificationUrl": str(body["notificationUrl"]),
            "lifecycleNotificationUrl": body.get("lifecycleNotificationUrl"),
            "expirationDateTime": graph_time(expiry),
            "creatorId": caller.id if caller else None,
            "latestSupportedTlsVersion": "v1_2",
            "includeResourceData": False,
            "encryptionCertificate": None,
            "encryptionCertificateId": None,
            "notificationUrlAppId": None,
            "notificationQueryOptions": None,
            "_owner": watched.owner,
            "_calendar": watched.calendar,
            "_held": False,
        }

    def add(self, subscription: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.store.put("subscription", subscription, owner=subscription["_owner"], track=False)
        for listener in self.on_added:
            listener()
        return subscription

    def get(self, subscription_id: str) -> dict[str, Any]:
        self.sweep()
        found = self.store.get("subscription", subscription_id)
        if found is None:
            raise self.missing(subscription_id)
        return found

    @staticmethod
    def missing(subscription_id: str) -> GraphHTTPError:
        return GraphHTTPError(
            404,
            "ResourceNotFound",
            f"The object was not found: subscription {subscription_id}.",
        )

    def all(self) -> list[dict[str, Any]]:
        self.sweep()
        return self.store.find("subscription")

    def renew(self, subscription_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            subscription = self.get(subscription_id)
            subscription["expirationDateTime"] = graph_time(
                self._checked_expiry(body.get("expirationDateTime"))
            )
            subscription["_held"] = False  # a renewal reauthorizes too
            self.store.put("subscription", subscription, owner=subscription["_owner"], track=False)
        return subscription

    def reauthorize(self, subscription_id: str) -> None:
        with self._lock:
            subscription = self.get(subscription_id)
            subscription["_held"] = False
            self.store.put("subscription", subscription, owner=subscription["_owner"], track=False)

    def delete(self, subscription_id: str) -> None:
        with self._lock:
            if not self.store.delete("subscription", subscription_id, track=False):
                raise self.missing(subscription_id)

    # -- for deliveries and the administration ------------------------------------------------

    def hold(self, subscription_id: str) -> None:
        """After reauthorizationRequired: no notifications until reauthorized or renewed."""
        with self._lock:
            subscription = self.get(subscription_id)
            subscription["_held"] = True
            self.store.put("subscription", subscription, owner=subscription["_owner"], track=False)

    def watching(self, owner: str, calendar: str | None) -> list[dict[str, Any]]:
        """The live subscriptions a change of `owner`'s event (in `calendar`) concerns."""
        return [
            s
            for s in self._of_mailbox(owner)
            if not s.get("_held")
            and (s.get("_calendar") is None or calendar in (None, s["_calendar"]))
        ]

    def sweep(self) -> list[dict[str, Any]]:
        """Remove expired subscriptions, as Graph does; the ones removed."""
        now = self.clock.now()
        with self._lock:
            expired = [
                s
                for s in self.store.find("subscription")
                if parse_expiry(s["expirationDateTime"]) <= now
            ]
            for subscription in expired:
                self.store.delete("subscription", subscription["id"], track=False)
        return expired

    def _of_mailbox(self, owner: str) -> list[dict[str, Any]]:
        now = self.clock.now()
        return [
            s
            for s in self.store.find("subscription", owner=owner)
            if parse_expiry(s["expirationDateTime"]) > now
        ]

    def _watched(self, caller: Owner | None, resource: str) -> Watched:
        match = _RESOURCE.match(resource)
        if match is None:
            raise bad_request(
                f"Resource '{resource}' is not supported: use /me/events, /users/{{id}}/events "
                "or /users/{id}/calendars/{id}/events.",
                "InvalidRequest",
            )
        if match.group("user"):
            owner = self.directory.user_owner(match.group("user"))
        elif caller is not None:
            owner = caller
        else:
            raise bad_request("/me is only valid with delegated authentication.", "BadRequest")
        return Watched(owner.key, match.group("calendar"))

    def _checked_expiry(self, value: Any) -> dt.datetime:
        expiry = parse_expiry(value)
        now = self.clock.now()
        if expiry <= now:
            raise bad_request("Subscription expiration must be in the future.", "InvalidRequest")
        if expiry > now + dt.timedelta(minutes=MAX_MINUTES):
            raise bad_request(
                f"Subscription expiration can only be {MAX_MINUTES} minutes in the future.",
                "InvalidRequest",
            )
        return expiry
