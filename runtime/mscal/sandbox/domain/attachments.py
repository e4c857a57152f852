"""Event attachments: small ones in one request, large ones through an upload session whose URL
is on another host name (as Graph's is) and takes ranged PUTs with no Authorization header."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from mscal.sandbox.domain.events import Events
from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.domain.timezones import graph_timestamp
from mscal.sandbox.errors import GraphHTTPError, bad_request, not_found
from mscal.sandbox.ids import new_id
from mscal.sandbox.store import Store

MAX_SIMPLE = 3 * 1024 * 1024
MAX_UPLOAD = 150 * 1024 * 1024
MAX_CHUNK = 4 * 1024 * 1024
SESSION_LIFETIME = dt.timedelta(hours=2)
_TYPES = {
    "#microsoft.graph.fileAttachment",
    "#microsoft.graph.itemAttachment",
    "#microsoft.graph.referenceAttachment",
}
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass
class UploadSession:
    owner: Owner
    event_id: str
    name: str
    size: int
    content_type: str
    expires: dt.datetime
    data: bytearray = field(default_factory=bytearray)

    def status(self) -> dict[str, Any]:
        return {
            "expirationDateTime": graph_timestamp(self.expires),
            # Outlook's sessions name where the next chunk starts ("{start}"), not a range;
            # a session nothing was uploaded to yet answers "0-", as in Graph's example.
            "nextExpectedRanges": [str(len(self.data))] if self.data else ["0-"],
        }


class Attachments:
    def __init__(self, store: Store, events: Events) -> None:
        self.store = store
        self.events = events
        self._sessions: dict[str, UploadSession] = {}
        self._lock = threading.Lock()

    def list(self, owner: Owner, event_id: str) -> list[dict[str, Any]]:
        self.events.event(owner, event_id)
        return self.store.find("attachment", owner=owner.key, parent=event_id)

    def get(self, owner: Owner, event_id: str, attachment_id: str) -> dict[str, Any]:
        for attachment in self.list(owner, event_id):
            if attachment["id"] == attachment_id:
                return attachment
        raise not_found()

    def add(self, owner: Owner, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        kind = body.get("@odata.type")
        if kind not in _TYPES:
            raise bad_request(
                "An attachment needs an @odata.type: #microsoft.graph.fileAttachment, "
                "itemAttachment or referenceAttachment.",
                "ErrorInvalidRequest",
            )
        if not body.get("name"):
            raise bad_request("An attachment needs a name.", "ErrorInvalidRequest")
        attachment = {
            k: v for k, v in body.items() if k not in {"id", "size", "lastModifiedDateTime"}
        }
        if kind == "#microsoft.graph.fileAttachment":
            try:
                size = len(base64.b64decode(str(body.get("contentBytes", "")), validate=True))
            except ValueError:
                raise bad_request(
                    "contentBytes is not valid base64.", "ErrorInvalidRequest"
                ) from None
        else:
            size = len(json.dumps(body).encode())
        if size > MAX_SIMPLE:
            raise GraphHTTPError(
                413,
                "ErrorRequestEntityTooLarge",
                "Attachments of 3 MB or more must be "
                "uploaded through an upload session (createUploadSession).",
            )
        return self._save(owner, event_id, attachment, size)

    def _save(
        self, owner: Owner, event_id: str, attachment: dict[str, Any], size: int
    ) -> dict[str, Any]:
        self.events.event(owner, event_id)
        kind = str(attachment.get("@odata.type", "#microsoft.graph.fileAttachment"))
        attachment = {
            "@odata.type": kind,
            "id": new_id("AAMkAGAtt"),
            "lastModifiedDateTime": graph_timestamp(),
            "name": None,
            "contentType": "application/octet-stream",
            "size": size,
            "isInline": False,
            **(
                {"contentId": None, "contentLocation": None}
                if kind.endswith("fileAttachment")
                else {}
            ),
            **attachment,
        }
        with self.store.transaction():
            self.store.put("attachment", attachment, owner=owner.key, parent=event_id)
            self._flag(event_id, True)
        return attachment

    def delete(self, owner: Owner, event_id: str, attachment_id: str) -> None:
        self.get(owner, event_id, attachment_id)
        with self.store.transaction():
            self.store.delete("attachment", attachment_id)
            self._flag(
                event_id, bool(self.store.find("attachment", owner=owner.key, parent=event_id))
            )

    def _flag(self, event_id: str, has: bool) -> None:
        event = self.store.get("event", event_id)
        if event is not None and event.get("hasAttachments") != has:
            event["hasAttachments"] = has
            self.store.put("event", event, owner=event["_owner"], parent=event["_calendar"])

    # -- upload sessions ----------------------------------------------------------------------

    def create_session(
        self, owner: Owner, event_id: str, body: dict[str, Any]
    ) -> tuple[str, UploadSession]:
        self.events.event(owner, event_id)
        item = body.get("AttachmentItem") or body.get("attachmentItem") or {}
        if item.get("attachmentType", "file") != "file" or not item.get("name"):
            raise bad_request(
                "AttachmentItem needs attachmentType 'file' and a name.", "ErrorInvalidRequest"
            )
        size = int(item.get("size") or 0)
        if size < MAX_SIMPLE:
            raise bad_request(
                "The attachment size should not be less than 3 MB for an upload session; "
                "attach smaller files directly.",
                "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
            )
        if size > MAX_UPLOAD:
            raise bad_request(
                "The attachment size exceeds the maximum of 150 MB.", "ErrorAttachmentSizeExceeded"
            )
        token = secrets.token_urlsafe(24)
        session = UploadSession(
            owner,
            event_id,
            str(item["name"]),
            size,
            str(item.get("contentType") or "application/octet-stream"),
            dt.datetime.now(dt.UTC) + SESSION_LIFETIME,
        )
        with self._lock:
            self._sessions[token] = session
        return token, session

    def session(self, token: str) -> UploadSession:
        with self._lock:
            session = self._sessions.get(token)
        if session is None or session.expires < dt.datetime.now(dt.UTC):
            raise GraphHTTPError(
                404, "itemNotFound", "The upload session was not found or has expired."
            )
        return session

    def cancel(self, token: str) -> None:
        self.session(token)
        with self._lock:
            self._sessions.pop(token, None)

    def upload(self, token: str, content_range: str | None, chunk: bytes) -> dict[str, Any] | None:
        """Take one ranged chunk; the finished attachment once the last byte arrives, else None."""
        session = self.session(token)
        match = _RANGE.match(content_range or "")
        if not match:
            raise bad_request(
                "A Content-Range header such as 'bytes 0-4194303/10485760' is required.",
                "invalidRange",
            )
        first, last, total = (int(g) for g in match.groups())
        if total != session.size or first != len(session.data) or last - first + 1 != len(chunk):
            raise GraphHTTPError(
                416,
                "invalidRange",
                f"The uploaded fragment does not match the expected "
                f"range; next expected: {len(session.data)}-.",
            )
        if len(chunk) > MAX_CHUNK:
            raise bad_request("A fragment may be at most 4 MB.", "invalidRange")
        session.data.extend(chunk)
        if len(session.data) < session.size:
            return None
        with self._lock:
            self._sessions.pop(token, None)
        attachment = {
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": session.name,
            "contentType": session.content_type,
            "contentBytes": base64.b64encode(bytes(session.data)).decode(),
        }
        return self._save(session.owner, session.event_id, attachment, session.size)
