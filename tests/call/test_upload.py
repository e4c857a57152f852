"""The two-step upload: a session on Graph, then ranged PUTs to another host, no credentials."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpx2 import HTTPXMock

import mscal
from tests.conftest import CANARY_TOKEN, GRAPH

UPLOAD = "https://outlook.office.com/api/v2.0/Users('u')/Events('e')/AttachmentSessions('s')?authtoken=abc"
SESSION_URL = f"{GRAPH}/me/events/e1/attachments/createUploadSession"


def test_upload_sends_ranges_to_the_upload_host_without_credentials(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    data = bytes(range(256)) * 28_000  # 7,168,000 bytes: three ranges of at most 3,276,800
    httpx2_mock.add_response(
        url=SESSION_URL,
        method="POST",
        status_code=201,
        json={"uploadUrl": UPLOAD, "nextExpectedRanges": ["0-"]},
    )
    httpx2_mock.add_response(url=UPLOAD, method="PUT", json={"nextExpectedRanges": ["3276800-"]})
    httpx2_mock.add_response(url=UPLOAD, method="PUT", json={"nextExpectedRanges": ["6553600-"]})
    httpx2_mock.add_response(url=UPLOAD, method="PUT", status_code=201, headers={"Location": "L"})

    result = run(
        "upload_event_attachment",
        {"event_id": "e1", "name": "big.bin", "content_bytes": base64.b64encode(data).decode()},
    )

    assert result == {"uploaded": True, "name": "big.bin", "size": len(data), "location": "L"}
    session, *puts = httpx2_mock.get_requests()
    assert session.headers["Authorization"] == f"Bearer {CANARY_TOKEN}"
    assert json.loads(session.content) == {
        "AttachmentItem": {
            "attachmentType": "file",
            "name": "big.bin",
            "size": len(data),
            "contentType": "application/octet-stream",
        }
    }
    assert [p.headers["Content-Range"] for p in puts] == [
        "bytes 0-3276799/7168000",
        "bytes 3276800-6553599/7168000",
        "bytes 6553600-7167999/7168000",
    ]
    assert b"".join(p.content for p in puts) == data
    for put in puts:
        assert "Authorization" not in put.headers and "Cookie" not in put.headers
        assert "client-request-id" not in put.headers


@pytest.mark.parametrize(
    "upload_url",
    [
        "http://outlook.office.com/upload",
        "https://user:pw@outlook.office.com/upload",
        "not a url",
        "ftp://outlook.office.com/upload",
    ],
)
def test_an_unsafe_upload_url_is_refused_before_sending_the_file(
    httpx2_mock: HTTPXMock, run: Callable[..., Any], upload_url: str
) -> None:
    httpx2_mock.add_response(url=SESSION_URL, status_code=201, json={"uploadUrl": upload_url})
    with pytest.raises(mscal.TransportError):
        run("upload_event_attachment", {"event_id": "e1", "name": "x", "content_bytes": "aGk="})
    assert len(httpx2_mock.get_requests()) == 1  # the session only


def test_a_failed_range_is_a_graph_error(httpx2_mock: HTTPXMock, run: Callable[..., Any]) -> None:
    httpx2_mock.add_response(url=SESSION_URL, status_code=201, json={"uploadUrl": UPLOAD})
    httpx2_mock.add_response(
        url=UPLOAD, status_code=416, json={"error": {"code": "invalidRange", "message": "no"}}
    )
    with pytest.raises(mscal.GraphError) as caught:
        run("upload_event_attachment", {"event_id": "e1", "name": "x", "content_bytes": "aGk="})
    assert caught.value.code == "invalidRange"


def test_an_attachment_over_3_mb_is_refused_before_sending(
    httpx2_mock: HTTPXMock, run: Callable[..., Any]
) -> None:
    too_big = "A" * (4 * 1024 * 1024 + 4)
    with pytest.raises(mscal.InputError) as caught:
        run(
            "add_event_attachment",
            {
                "event_id": "e1",
                "attachment": {
                    "@odata.type": "#microsoft.graph.fileAttachment",
                    "name": "big",
                    "contentBytes": too_big,
                },
            },
        )
    assert (caught.value.field, caught.value.rule) == ("attachment.contentBytes", "maxLength")
    assert httpx2_mock.get_requests() == []


def test_content_must_be_base64(httpx2_mock: HTTPXMock, run: Callable[..., Any]) -> None:
    with pytest.raises(mscal.InputError) as caught:
        run(
            "upload_event_attachment",
            {"event_id": "e1", "name": "x", "content_bytes": "not base64!"},
        )
    assert caught.value.field == "content_bytes"
    assert httpx2_mock.get_requests() == []
