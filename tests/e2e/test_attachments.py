"""Attachments: small ones directly, large ones through an upload session on another host."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

import mscal
from mscal.io.session import Session
from tests.e2e.conftest import q, raw


@pytest.fixture
def event(me: Session) -> Iterator[dict[str, Any]]:
    made = me.run(
        "create_event",
        {
            "event": {
                "subject": "With files",
                "start": {"dateTime": "2027-02-01T10:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2027-02-01T11:00:00", "timeZone": "UTC"},
            }
        },
    )
    yield made
    me.run("delete_event", {"event_id": made["id"]})


def test_small_attachments_lifecycle(me: Session, event: dict[str, Any]) -> None:
    base = f"/me/events/{q(event['id'])}/attachments"
    content = base64.b64encode(b"hello, calendar").decode()
    created = raw(
        me,
        "POST",
        base,
        {
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": "a.txt",
            "contentType": "text/plain",
            "contentBytes": content,
        },
    )
    assert created["status_code"] == 201 and created["body"]["size"] == 15
    raw(
        me,
        "POST",
        base,
        {
            "@odata.type": "#microsoft.graph.itemAttachment",
            "name": "Agenda",
            "item": {"@odata.type": "#microsoft.graph.event", "subject": "Agenda"},
        },
    )
    listed = raw(me, "GET", base)["body"]["value"]
    assert [a["name"] for a in listed] == ["a.txt", "Agenda"]
    assert me.run("get_event", {"event_id": event["id"]})["hasAttachments"] is True
    one = raw(me, "GET", f"{base}/{q(created['body']['id'])}")["body"]
    assert base64.b64decode(one["contentBytes"]) == b"hello, calendar"
    for attachment in listed:
        assert raw(me, "DELETE", f"{base}/{q(attachment['id'])}")["status_code"] == 204
    assert me.run("get_event", {"event_id": event["id"]})["hasAttachments"] is False
    with pytest.raises(mscal.GraphError) as caught:
        raw(me, "POST", base, {"name": "no type"})
    assert caught.value.code == "ErrorInvalidRequest"
    big = base64.b64encode(b"x" * (3 * 1024 * 1024 + 1)).decode()
    with pytest.raises(mscal.GraphError) as caught:
        raw(
            me,
            "POST",
            base,
            {"@odata.type": "#microsoft.graph.fileAttachment", "name": "big", "contentBytes": big},
        )
    assert caught.value.status_code == 413


def test_upload_session_on_another_host_without_authorization(
    me: Session, event: dict[str, Any]
) -> None:
    base = f"/me/events/{q(event['id'])}/attachments"
    size = 5 * 1024 * 1024 + 123
    data = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    session = raw(
        me,
        "POST",
        f"{base}/createUploadSession",
        {"AttachmentItem": {"attachmentType": "file", "name": "big.bin", "size": size}},
    )["body"]
    upload = httpx2.URL(session["uploadUrl"])
    assert upload.host == "localhost" and session["nextExpectedRanges"] == ["0-"]
    assert (
        httpx2.put(
            session["uploadUrl"],
            content=data[:10],
            headers={"Authorization": "Bearer x", "Content-Range": f"bytes 0-9/{size}"},
        ).status_code
        == 401
    )
    assert (
        httpx2.put(
            session["uploadUrl"], content=data[5:10], headers={"Content-Range": f"bytes 5-9/{size}"}
        ).status_code
        == 416
    )
    chunk = 4 * 1024 * 1024
    first = httpx2.put(
        session["uploadUrl"],
        content=data[:chunk],
        headers={"Content-Range": f"bytes 0-{chunk - 1}/{size}"},
    )
    assert first.status_code == 200 and first.json()["nextExpectedRanges"] == [f"{chunk}"]
    last = httpx2.put(
        session["uploadUrl"],
        content=data[chunk:],
        headers={"Content-Range": f"bytes {chunk}-{size - 1}/{size}"},
    )
    assert last.status_code == 201 and "/attachments('" in last.headers["location"]
    listed = raw(me, "GET", base)["body"]["value"]
    assert [(a["name"], a["size"]) for a in listed] == [("big.bin", size)]
    assert base64.b64decode(listed[0]["contentBytes"]) == data
    assert httpx2.get(session["uploadUrl"]).status_code == 404  # the session is done


def test_upload_session_size_limits(me: Session, event: dict[str, Any]) -> None:
    base = f"/me/events/{q(event['id'])}/attachments/createUploadSession"
    for size, code in [
        (1024, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize"),
        (151 * 1024 * 1024, "ErrorAttachmentSizeExceeded"),
    ]:
        with pytest.raises(mscal.GraphError) as caught:
            raw(
                me,
                "POST",
                base,
                {"AttachmentItem": {"attachmentType": "file", "name": "f", "size": size}},
            )
        assert caught.value.code == code


MAY_DAY = "2027-05-11"  # a Tuesday


def _may_event(
    subject: str, start: str = "10:00", end: str = "11:00", **extra: Any
) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": f"{MAY_DAY}T{start}:00", "timeZone": "UTC"},
        "end": {"dateTime": f"{MAY_DAY}T{end}:00", "timeZone": "UTC"},
        **extra,
    }


def test_attachment_operations(me: Session) -> None:
    event = me.run("create_event", {"event": _may_event("Ops files")})
    added = me.run(
        "add_event_attachment",
        {
            "event_id": event["id"],
            "attachment": {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": "notes.txt",
                "contentType": "text/plain",
                "contentBytes": base64.b64encode(b"notes").decode(),
            },
        },
    )
    assert added["size"] == 5
    listed = me.run("list_event_attachments", {"event_id": event["id"], "select": ["name"]})[
        "value"
    ]
    assert [a["name"] for a in listed] == ["notes.txt"]
    got = me.run("get_event_attachment", {"event_id": event["id"], "attachment_id": added["id"]})
    assert base64.b64decode(got["contentBytes"]) == b"notes"
    assert me.run(
        "delete_event_attachment", {"event_id": event["id"], "attachment_id": added["id"]}
    ) == {"deleted": True}
    me.run("delete_event", {"event_id": event["id"]})


def test_upload_event_attachment_through_a_session(me: Session) -> None:
    event = me.run("create_event", {"event": _may_event("Ops big file")})
    data = bytes(range(256)) * 20_480 + b"tail"  # 5 MB and a bit: two ranges
    result = me.run(
        "upload_event_attachment",
        {
            "event_id": event["id"],
            "name": "big.bin",
            "content_type": "application/x-demo",
            "content_bytes": base64.b64encode(data).decode(),
        },
    )
    assert result["uploaded"] is True and result["size"] == len(data)
    assert "/attachments('" in result["location"]
    listed = me.run("list_event_attachments", {"event_id": event["id"]})["value"]
    assert [(a["name"], a["size"], a["contentType"]) for a in listed] == [
        ("big.bin", len(data), "application/x-demo")
    ]
    assert base64.b64decode(listed[0]["contentBytes"]) == data
    me.run("delete_event", {"event_id": event["id"]})
