"""Keeping a change-notification subscription alive for a webhook trigger, through the spec's
subscription operations (`source.subscription`): created with a fresh clientState, renewed
once less than `renew_before_minutes` is left, created again when Graph no longer knows it
(404), reauthorized when asked. Its id, expiry and clientState are part of the trigger's state.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mscal.errors import GraphError
from mscal.templates.render import Templates, ValueTemplate
from mscal.triggers.delta import iso
from mscal.triggers.mirror import parse_time

if TYPE_CHECKING:
    from mscal.io.session import Session
    from mscal.triggers.trigger import Clock


@dataclass(frozen=True)
class SubscriptionSpec:
    """The trigger file's `source.subscription`."""

    resource: str
    change_type: str
    max_minutes: int
    renew_before_minutes: int
    safety_round_seconds: float
    operations: Mapping[str, str]
    fields: Mapping[str, str]
    notification: Mapping[str, Any]
    lifecycle: Mapping[str, str]

    @classmethod
    def from_spec(cls, raw: Mapping[str, Any]) -> SubscriptionSpec:
        return cls(
            resource=str(raw["resource"]),
            change_type=str(raw["change_type"]),
            max_minutes=int(raw["max_minutes"]),
            renew_before_minutes=int(raw["renew_before_minutes"]),
            safety_round_seconds=float(raw["safety_round_seconds"]),
            operations=dict(raw["operations"]),
            fields=dict(raw["fields"]),
            notification=dict(raw["notification"]),
            lifecycle=dict(raw["lifecycle"]),
        )


class SubscriptionKeeper:
    """Creates, renews, reauthorizes and re-creates one subscription; `state` is the trigger's
    state dict, whose "subscription" entry it keeps."""

    def __init__(
        self,
        spec: SubscriptionSpec,
        inputs: Mapping[str, Any],
        input_names: tuple[str, ...],
        notification_url: str,
        clock: Clock,
    ) -> None:
        self.spec = spec
        self.notification_url = notification_url
        self.clock = clock
        context = {name: inputs.get(name) for name in input_names}
        template = Templates({}).value(spec.resource)
        assert isinstance(template, ValueTemplate)  # a string compiles to one template
        self.resource = str(template.render(context))
        self.renewals = 0
        self.creations = 0
        self.expiry: str | None = None  # of the subscription, as last seen

    def due(self) -> bool:
        """Whether `ensure` has work: no subscription known, or its renewal is due."""
        expiry = parse_time(self.expiry)
        due = dt.timedelta(minutes=self.spec.renew_before_minutes)
        return expiry is None or expiry - self.clock() < due

    def client_state(self, state: Mapping[str, Any]) -> str | None:
        current = state.get("subscription")
        return str(current["client_state"]) if isinstance(current, dict) else None

    def ensure(self, session: Session, state: dict[str, Any]) -> None:
        """A live subscription for this trigger: created, or renewed when it is due."""
        current = state.get("subscription")
        if (
            not isinstance(current, dict)
            or current.get("notification_url") != self.notification_url
        ):
            if isinstance(current, dict):
                self.delete(session, state)  # another URL: the old one would notify nobody
            self.create(session, state)
            return
        self.expiry = current.get("expiry")
        if self.due():
            self.renew(session, state)

    def create(self, session: Session, state: dict[str, Any]) -> None:
        fields = self.spec.fields
        client_state = secrets.token_urlsafe(32)
        body = {
            fields["resource"]: self.resource,
            fields["change_type"]: self.spec.change_type,
            fields["notification_url"]: self.notification_url,
            fields["lifecycle_url"]: self.notification_url,
            fields["expiry"]: self._expiry(),
            fields["client_state"]: client_state,
        }
        created = session.run(self.spec.operations["create"], {"subscription": body})
        state["subscription"] = {
            "id": created[fields["id"]],
            "expiry": created.get(fields["expiry"], body[fields["expiry"]]),
            "client_state": client_state,
            "resource": self.resource,
            "notification_url": self.notification_url,
        }
        self.expiry = state["subscription"]["expiry"]
        self.creations += 1

    def renew(self, session: Session, state: dict[str, Any]) -> None:
        current = state["subscription"]
        try:
            renewed = session.run(
                self.spec.operations["renew"],
                {"subscription_id": current["id"], "expiration_date_time": self._expiry()},
            )
        except GraphError as exc:
            if exc.status_code != 404:
                raise
            self.create(session, state)  # Graph no longer knows it (expired, removed)
            return
        current["expiry"] = renewed.get(self.spec.fields["expiry"], current["expiry"])
        self.expiry = current["expiry"]
        self.renewals += 1

    def reauthorize(self, session: Session, state: dict[str, Any]) -> None:
        current = state.get("subscription")
        if not isinstance(current, dict):
            self.create(session, state)
            return
        try:
            session.run(self.spec.operations["reauthorize"], {"subscription_id": current["id"]})
        except GraphError as exc:
            if exc.status_code != 404:
                raise
            self.create(session, state)

    def delete(self, session: Session, state: dict[str, Any]) -> None:
        current = state.get("subscription")
        state["subscription"] = None
        if isinstance(current, dict):
            try:
                session.run(self.spec.operations["delete"], {"subscription_id": current["id"]})
            except GraphError as exc:
                if exc.status_code != 404:
                    raise

    def _expiry(self) -> str:
        # A minute short of the maximum: Graph measures from its own clock.
        return iso(self.clock() + dt.timedelta(minutes=self.spec.max_minutes - 1))
