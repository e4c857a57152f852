"""The endpoint Graph notifies: an ASGI app a builder mounts (or `handle` from any framework).

It answers Graph's validation request with the decoded `validationToken` as text/plain, and
each notification with 202 at once: the work is queued (a notification only says "look now":
the next delta round reads what changed). A notification's `clientState` is compared with the
subscription's in constant time; one without it or with a wrong one is dropped and logged, and
still answered 202 (so a forger learns nothing). A body over the cap is refused unread. A
notification's `resource` is never fetched: only the delta round, on the Graph origin, is.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger("mscal.triggers.webhook")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str = "text/plain; charset=utf-8"
    body: bytes = b""


class NotificationReceiver:
    def __init__(
        self,
        notification: Mapping[str, Any],
        client_state: Callable[[], str | None],
        on_change: Callable[[], None],
        on_lifecycle: Callable[[str], None],
    ) -> None:
        self.keys = notification
        self.max_body = int(notification["max_body_bytes"])
        self.client_state = client_state
        self.on_change = on_change
        self.on_lifecycle = on_lifecycle
        self.dropped = 0  # notifications without the right clientState

    def handle(self, method: str, query: str, body: bytes) -> Answer:
        """One request: the validation handshake, or notifications (queued, answered 202)."""
        token = parse_qs(query, keep_blank_values=True).get(self.keys["validation_token"])
        if token:
            return Answer(200, body=token[0].encode())
        if method != "POST":
            return Answer(405)
        if len(body) > self.max_body:
            return Answer(413)
        try:
            document = json.loads(body)
        except ValueError:
            return Answer(400)
        items = document.get(self.keys["items"]) if isinstance(document, dict) else None
        if not isinstance(items, list):
            return Answer(400)
        changed = False
        for item in items:
            if not isinstance(item, dict) or not self._genuine(item.get(self.keys["client_state"])):
                self.dropped += 1
                subscription = (
                    item.get(self.keys["subscription_id"]) if isinstance(item, dict) else None
                )
                log.warning(
                    "notification dropped: clientState missing or wrong (subscription %s)",
                    str(subscription)[:64],
                )
                continue
            event = item.get(self.keys["lifecycle_event"])
            if isinstance(event, str):
                self.on_lifecycle(event)
            else:
                changed = True
        if changed:
            self.on_change()
        return Answer(202)

    def _genuine(self, sent: Any) -> bool:
        expected = self.client_state()
        if expected is None or not isinstance(sent, str):
            return False
        return hmac.compare_digest(sent.encode(), expected.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await self._read(receive)
        query = scope.get("query_string", b"").decode("latin-1")
        answer = self.handle(scope["method"], query, body) if body is not None else Answer(413)
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [
                    (b"content-type", answer.content_type.encode()),
                    (b"content-length", str(len(answer.body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})

    async def _read(self, receive: Receive) -> bytes | None:
        """The body, or None once it passes the cap (reading stops there)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
