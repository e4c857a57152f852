"""Webhook mode: a watch whose rounds run when Graph notifies (plus a slow safety round), with
its subscription kept alive between rounds and lifecycle notifications answered:
`reauthorizationRequired` reauthorizes, `subscriptionRemoved` creates a new subscription and
runs a round, `missed` runs a round. The delta round is the source of truth, so a lost, repeated,
late or out-of-order notification changes nothing that is emitted.

    mode = WebhookMode(watch, "https://example.com/notify")
    # mount mode.app at that URL (any ASGI server), then:
    mode.start()  # the subscription (Graph validates the URL now)
    watch.run()   # rounds when notified, and every `watch.interval` seconds
"""

from __future__ import annotations

import collections
import threading
from typing import TYPE_CHECKING, Any

from mscal.triggers.subscription import SubscriptionKeeper, SubscriptionSpec
from mscal.triggers.webhook import NotificationReceiver

if TYPE_CHECKING:
    from mscal.triggers.watch import Watch


class WebhookMode:
    def __init__(self, watch: Watch, notification_url: str = "") -> None:
        trigger = watch.trigger
        source = trigger.definition.source.get("subscription")
        if not source:
            raise ValueError(f"trigger {trigger.name!r} has no subscription: poll it instead")
        self.watch = watch
        self.spec = SubscriptionSpec.from_spec(source)
        self.keeper = SubscriptionKeeper(
            self.spec,
            trigger.inputs,
            trigger.definition.input_names,
            notification_url,
            trigger.clock,
        )
        self._client_state: str | None = None
        self._actions: collections.deque[str] = collections.deque()
        self._lock = threading.Lock()
        self.lifecycle_seen: collections.Counter[str] = collections.Counter()
        self.receiver = NotificationReceiver(
            self.spec.notification, lambda: self._client_state, watch.wake, self._lifecycle
        )
        watch.between_rounds = self.maintain

    @property
    def app(self) -> NotificationReceiver:
        """The ASGI app to mount at the notification URL."""
        return self.receiver

    def start(self, notification_url: str | None = None) -> None:
        """Create (or renew, or take over) the subscription; the app must already be served
        there (`notification_url`, when it is known only now: a port chosen by the server)."""
        if notification_url is not None:
            self.keeper.notification_url = notification_url
        if not self.keeper.notification_url:
            raise ValueError("the notification URL is not known: pass it to start()")
        state = self.watch.load()
        if not state or not state.get("delta_link"):
            # The baseline first: a change after it and before the subscription is still
            # read by the first notified round (from the saved link), not taken as existing.
            self.watch.round()
        self._with_state(self.keeper.ensure)

    def maintain(self) -> None:
        """Between rounds: answer lifecycle notifications, renew the subscription when due."""
        while True:
            with self._lock:
                if not self._actions:
                    break
                action = self._actions.popleft()
            if action == "reauthorize":
                self._with_state(self.keeper.reauthorize)
                self.watch.wake()  # a round: changes while it waited went unnotified
            elif action == "recreate":
                self._with_state(self.keeper.create)
                self.watch.wake()  # and resync: a round catches up on what was missed
            elif action == "resync":
                self.watch.wake()
        if self.keeper.due():
            self._with_state(self.keeper.ensure)

    def stop(self, *, delete: bool = False) -> None:
        """Stop the watch; `delete` also deletes the subscription (else a restart takes it)."""
        self.watch.stop()
        if delete:
            self._with_state(self.keeper.delete)

    def _lifecycle(self, event: str) -> None:
        self.lifecycle_seen[event] += 1
        action = self.spec.lifecycle.get(event)
        if action is None:
            return
        with self._lock:
            self._actions.append(action)
        self.watch.wake()

    def _with_state(self, change: Any) -> None:
        def apply(state: dict[str, Any]) -> None:
            change(self.watch.open_session(), state)
            self._client_state = self.keeper.client_state(state)

        self.watch.update(apply)
