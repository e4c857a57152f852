"""Deliveries: each tracked change of an event becomes a basic change notification
(`resourceData` with `id`, `@odata.type`, `@odata.etag`) for every live subscription that
watches it, POSTed to its notificationUrl from a thread of its own; an answer other than 2xx
within 3 seconds is retried a few times with backoff (Graph retries for hours; here it is
bounded), then given up, and a `missed` lifecycle notification tells the subscription's
lifecycle URL (if it has one). Faults drop, repeat, delay or reorder notifications, as a real
network and Graph's own repeats do; lifecycle notifications go to the lifecycleNotificationUrl.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx2

from mscal.sandbox.domain.subscriptions import Subscriptions
from mscal.sandbox.errors import GraphHTTPError
from mscal.sandbox.ids import decode_compound
from mscal.sandbox.store import Store

log = logging.getLogger("mscal.sandbox.notifications")
ANSWER_SECONDS = 3.0  # Graph expects a notification answered within 3 seconds
RETRIES = 3
BACKOFF_SECONDS = 0.2
TENANT_ID = "9c1e3f4a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
LIFECYCLE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved", "missed")


@dataclass
class NotificationFaults:
    drop: float = 0.0  # the share of notifications never sent
    repeat: float = 0.0  # the share sent twice
    delay: float = 0.0  # seconds each delivery waits first
    reorder: bool = False  # a burst's deliveries go out shuffled
    seed: int | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> NotificationFaults:
        unknown = set(raw) - {"drop", "repeat", "delay", "reorder", "seed"}
        if unknown:
            raise ValueError(f"unknown notification fault {sorted(unknown)[0]!r}")
        faults = cls(
            drop=float(raw.get("drop", 0)),
            repeat=float(raw.get("repeat", 0)),
            delay=float(raw.get("delay", 0)),
            reorder=bool(raw.get("reorder", False)),
            seed=None if raw.get("seed") is None else int(raw["seed"]),
        )
        if not (0 <= faults.drop <= 1 and 0 <= faults.repeat <= 1 and faults.delay >= 0):
            raise ValueError(
                "drop and repeat are shares from 0 to 1; delay is seconds, not negative"
            )
        return faults


@dataclass(frozen=True)
class Delivery:
    url: str
    body: dict[str, Any]


class Notifier:
    def __init__(self, store: Store, subscriptions: Subscriptions) -> None:
        self.store = store
        self.subscriptions = subscriptions
        self._faults = NotificationFaults()
        self._random = random.Random()
        self.stats: Counter[str] = Counter()
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._client: httpx2.Client | None = None  # made by the delivery thread, when needed
        self._enabled = False
        store.listeners.append(self._on_change)

    @property
    def faults(self) -> NotificationFaults:
        return self._faults

    @faults.setter
    def faults(self, faults: NotificationFaults) -> None:
        self._faults = faults
        self._random = random.Random(faults.seed)

    def enable(self) -> None:
        """Start listening (once a subscription exists: seeding a big mailbox costs nothing)."""
        self._enabled = True
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True, name="mscal-notify")
            self._thread.start()

    @property
    def client(self) -> httpx2.Client:
        """One client for the deliveries (made on first use: a service that never notifies
        does not pay for a TLS context)."""
        if self._client is None:
            self._client = httpx2.Client(timeout=ANSWER_SECONDS, follow_redirects=False)
        return self._client

    def lifecycle(self, subscription: dict[str, Any], event: str) -> bool:
        """Send a lifecycle notification, as Graph does only to a subscription made with a
        `lifecycleNotificationUrl` (whether it was sent); either way `subscriptionRemoved`
        removes the subscription and `reauthorizationRequired` holds its notifications until
        it is reauthorized or renewed."""
        if event == "subscriptionRemoved":
            self.subscriptions.delete(subscription["id"])
        elif event == "reauthorizationRequired":
            self.subscriptions.hold(subscription["id"])
        url = subscription.get("lifecycleNotificationUrl")
        if not url:
            return False
        item = {
            "subscriptionId": subscription["id"],
            "subscriptionExpirationDateTime": subscription["expirationDateTime"],
            "tenantId": TENANT_ID,
            "clientState": subscription.get("clientState"),
            "lifecycleEvent": event,
        }
        self.enable()
        self._queue.put(("deliver", Delivery(url, {"value": [item]})))
        return True

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until everything queued was delivered or given up (tests and the benchmark)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    # -- the delivery thread -----------------------------------------------------------------

    def _on_change(self, kind: str, doc_id: str, owner: str | None, removed: bool) -> None:
        if self._enabled and kind == "event" and owner is not None:
            self._queue.put(("change", (doc_id, owner, removed)))

    def _run(self) -> None:
        while True:
            burst = [self._queue.get()]
            while len(burst) < 50:
                try:
                    burst.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._deliver_all(self._deliveries(burst))
            except Exception:  # a bug here must not end the thread
                log.exception("notification delivery failed")
            finally:
                for _ in burst:
                    self._queue.task_done()

    def _deliveries(self, burst: list[tuple[str, Any]]) -> list[Delivery]:
        deliveries: list[Delivery] = []
        for job, payload in burst:
            if job == "deliver":
                deliveries.append(payload)
                continue
            doc_id, owner, removed = payload
            if removed and decode_compound(doc_id) is not None:
                continue  # an occurrence deleted: Graph says only `updated`, of its series
            doc = self.store.get("event", doc_id)
            kept = doc or self.store.get("tombstone", doc_id) or {}
            change = "deleted" if removed or doc is None else _created_or_updated(doc)
            for subscription in self.subscriptions.watching(owner, kept.get("_calendar")):
                if change in subscription["changeType"].split(","):
                    deliveries.append(_notification(subscription, change, doc_id, kept))
        faults = self._faults
        out: list[Delivery] = []
        for delivery in deliveries:
            is_change = "lifecycleEvent" not in delivery.body["value"][0]
            if is_change and faults.drop and self._random.random() < faults.drop:
                self.stats["dropped"] += 1
                continue
            out.append(delivery)
            if is_change and faults.repeat and self._random.random() < faults.repeat:
                self.stats["repeated"] += 1
                out.append(delivery)
        if faults.reorder:
            self._random.shuffle(out)
        return out

    def _deliver_all(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            if self._faults.delay:
                time.sleep(self._faults.delay)
            self._deliver(delivery)

    def _deliver(self, delivery: Delivery) -> None:
        for attempt in range(RETRIES + 1):
            try:
                answer = self.client.post(delivery.url, json=delivery.body)
                if 200 <= answer.status_code < 300:
                    self.stats["delivered"] += 1
                    return
            except httpx2.HTTPError:
                pass
            if attempt < RETRIES:
                self.stats["retried"] += 1
                time.sleep(BACKOFF_SECONDS * 2**attempt)
        self.stats["given_up"] += 1
        self._missed(delivery)

    def _missed(self, delivery: Delivery) -> None:
        """A change notification given up: Graph tells the subscription's lifecycle URL that
        notifications were `missed` (the subscriber resyncs with delta)."""
        item = delivery.body["value"][0]
        if "lifecycleEvent" in item:
            return  # a lifecycle notification itself given up: nothing more to say
        try:
            subscription = self.subscriptions.get(str(item["subscriptionId"]))
        except GraphHTTPError:
            return  # removed meanwhile
        if self.lifecycle(subscription, "missed"):
            self.stats["missed"] += 1


def _created_or_updated(doc: dict[str, Any]) -> str:
    """`created` for an event saved within a second of its creation (a new event is saved more
    than once as it is made, and Graph, too, says created then updated), else `updated`."""
    try:
        created = dt.datetime.fromisoformat(str(doc["createdDateTime"])[:26])
        modified = dt.datetime.fromisoformat(str(doc["lastModifiedDateTime"])[:26])
    except (KeyError, ValueError):
        return "updated"
    return "created" if modified - created < dt.timedelta(seconds=1) else "updated"


def _notification(
    subscription: dict[str, Any], change: str, doc_id: str, doc: dict[str, Any]
) -> Delivery:
    owner_id = str(subscription["_owner"]).split(":", 1)[-1]
    path = f"Users/{owner_id}/Events/{doc_id}"
    item = {
        "subscriptionId": subscription["id"],
        "subscriptionExpirationDateTime": subscription["expirationDateTime"],
        "changeType": change,
        "resource": path,
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Event",
            "@odata.id": path,
            "@odata.etag": f'W/"{doc.get("changeKey", "")}"',
            "id": doc_id,
        },
        "clientState": subscription.get("clientState"),
        "tenantId": TENANT_ID,
    }
    return Delivery(subscription["notificationUrl"], {"value": [item]})
