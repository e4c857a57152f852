"""A session holds nothing per call: distinct large bodies leave no growth behind (before, a memo
of valid inputs kept 96 MiB after 100 distinct 1 MB bodies)."""

from __future__ import annotations

import gc
import tracemalloc

import httpx2

import mscal
from tests.conftest import CANARY_TOKEN

MIB = 1024 * 1024


def test_distinct_one_megabyte_bodies_leave_no_growth(connector: mscal.Connector) -> None:
    calls = 100
    sizes: list[int] = []

    def graph(request: httpx2.Request) -> httpx2.Response:
        sizes.append(len(request.content))  # keeps a number, not the body
        return httpx2.Response(200, json={"ok": True})

    auth = connector.authentication(access_token=CANARY_TOKEN)
    with connector.session(auth, transport=httpx2.MockTransport(graph)) as session:

        def send(i: int) -> None:
            body = {"data": f"{i:08d}" + "x" * (MIB - 8)}  # a new 1 MB value every call
            session.run(
                "raw_http_request",
                {"method": "POST", "endpoint": "/me/events", "body_type": "json", "body": body},
            )

        send(-1)  # warm: compiled templates, validators, the client's pool
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(calls - 1):
            send(i)
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    assert len(sizes) == calls and min(sizes) > MIB  # every body went out whole
    assert growth < 16 * MIB, f"{growth / MIB:.1f} MiB held after {calls - 1} distinct bodies"
