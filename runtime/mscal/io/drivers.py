"""Thin drivers that carry out a flow's steps: one over httpx2.Client, one over AsyncClient.

`Driver` and `AsyncDriver` bind a client, the bearer auth and the mailbox slots once, so a
session and the bulk runner carry flows out through the same public object. A driver sleeps
when asked, holds the request's mailbox slot while it is on the wire, sends
with credentials only when the step allows it, reads the body up to the step's cap, and hands
out a lazy reader's pages.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2

from mscal.call.retry import parse_retry_after
from mscal.call.steps import Flow, Page, PageFlow, Send, Wait
from mscal.errors import ConnectorError
from mscal.io.log_hygiene import install as install_log_hygiene
from mscal.io.response_cap import aread_capped, read_capped
from mscal.io.slots import Slots

# Before any request is sent or retried: httpx2's and our log records are scrubbed.
install_log_hygiene()


@dataclass(frozen=True)
class Driver:
    """Carries out flows over one sync client, with its credentials and mailbox slots."""

    client: httpx2.Client
    auth: httpx2.Auth | None
    slots: Slots | None

    def run(self, flow: Flow) -> Any:
        """The flow's result."""
        return drive(flow, self.client, self.auth, self.slots)

    def items(self, flow: PageFlow) -> Iterator[Any]:
        """The items of a page flow, one page in memory at a time."""
        return iterate(flow, self.client, self.auth, self.slots)


@dataclass(frozen=True)
class AsyncDriver:
    """Carries out flows over one async client, with its credentials and mailbox slots."""

    client: httpx2.AsyncClient
    auth: httpx2.Auth | None
    slots: Slots | None

    async def run(self, flow: Flow) -> Any:
        return await adrive(flow, self.client, self.auth, self.slots)

    def items(self, flow: PageFlow) -> AsyncIterator[Any]:
        return aiterate(flow, self.client, self.auth, self.slots)


def drive(flow: Flow, client: httpx2.Client, auth: httpx2.Auth | None, slots: Slots | None) -> Any:
    steps = _carry(flow, client, auth, slots)
    try:
        next(steps)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("a collecting flow handed out a page")  # pragma: no cover


def iterate(
    flow: PageFlow, client: httpx2.Client, auth: httpx2.Auth | None, slots: Slots | None
) -> Iterator[Any]:
    """The items of a page flow, one page in memory at a time."""
    steps = _carry(flow, client, auth, slots)
    for items in steps:
        yield from items


def _carry(
    flow: Flow | PageFlow,
    client: httpx2.Client,
    auth: httpx2.Auth | None,
    slots: Slots | None,
) -> Generator[list[Any], None, Any]:
    try:
        step = next(flow)
        while True:
            if isinstance(step, Page):
                yield step.items
                step = flow.send(None)
                continue
            if isinstance(step, Wait):
                time.sleep(step.seconds)
                step = flow.send(None)
                continue
            try:
                response = _send(client, step, auth, slots)
            except (httpx2.TransportError, ConnectorError) as exc:
                # The flow decides: retry, or raise with the operation's client-request-id.
                step = flow.throw(exc)
                continue
            step = flow.send(response)
    except StopIteration as stop:
        return stop.value
    finally:
        flow.close()


def _send(
    client: httpx2.Client, step: Send, auth: httpx2.Auth | None, slots: Slots | None
) -> httpx2.Response:
    slot = slots.for_thread(step.slot) if slots and step.slot else contextlib.nullcontext()
    with slot:
        response = client.send(step.request, auth=auth if step.credentials else None, stream=True)
        read_capped(response, step.max_bytes)
    told = _told_to_wait(response) if slots and step.slot else None
    if told:
        slots.pause(step.slot, told)  # type: ignore[union-attr]
    return response


def _told_to_wait(response: httpx2.Response) -> float | None:
    """The seconds a throttled answer's Retry-After asks for: with shared slots every worker
    then waits that long before its next request to the mailbox."""
    if response.status_code not in {429, 503}:
        return None
    return parse_retry_after(response.headers.get("Retry-After"))


async def adrive(
    flow: Flow,
    client: httpx2.AsyncClient,
    auth: httpx2.Auth | None,
    slots: Slots | None,
) -> Any:
    result: list[Any] = []
    async for _items in _acarry(flow, client, auth, slots, result):
        raise RuntimeError("a collecting flow handed out a page")  # pragma: no cover
    return result[0]


async def aiterate(
    flow: PageFlow,
    client: httpx2.AsyncClient,
    auth: httpx2.Auth | None,
    slots: Slots | None,
) -> AsyncIterator[Any]:
    async for items in _acarry(flow, client, auth, slots, []):
        for item in items:
            yield item


async def _acarry(
    flow: Flow | PageFlow,
    client: httpx2.AsyncClient,
    auth: httpx2.Auth | None,
    slots: Slots | None,
    result: list[Any],
) -> AsyncIterator[list[Any]]:
    """Like `_carry`; an async generator returns nothing, so the result is appended to
    `result`."""
    try:
        step = next(flow)
        while True:
            if isinstance(step, Page):
                yield step.items
                step = flow.send(None)
                continue
            if isinstance(step, Wait):
                await _asleep(step.seconds)
                step = flow.send(None)
                continue
            try:
                response = await _asend(client, step, auth, slots)
            except (httpx2.TransportError, ConnectorError) as exc:
                step = flow.throw(exc)
                continue
            step = flow.send(response)
    except StopIteration as stop:
        result.append(stop.value)
    finally:
        flow.close()


async def _asend(
    client: httpx2.AsyncClient,
    step: Send,
    auth: httpx2.Auth | None,
    slots: Slots | None,
) -> httpx2.Response:
    if slots is None or step.slot is None:
        response = await client.send(
            step.request, auth=auth if step.credentials else None, stream=True
        )
        await aread_capped(response, step.max_bytes)
        return response
    async with slots.for_task(step.slot):
        response = await client.send(step.request, auth=auth, stream=True)
        await aread_capped(response, step.max_bytes)
    told = _told_to_wait(response)
    if told:
        await slots.apause(step.slot, told)
    return response


async def _asleep(seconds: float) -> None:
    # Only async callers need asyncio; a sync CLI call never imports it.
    import asyncio  # noqa: PLC0415

    await asyncio.sleep(seconds)
