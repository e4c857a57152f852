"""Thin drivers that carry out a flow's steps: one over httpx2.Client, one over AsyncClient."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx2

from mscal.flow import Bare, Flow, Wait

log = logging.getLogger("mscal")


def drive(flow: Flow, client: httpx2.Client, auth: httpx2.Auth | None) -> Any:
    try:
        step = next(flow)
        while True:
            if isinstance(step, Wait):
                log.info("waiting %.2fs before retrying: %s", step.seconds, step.reason)
                time.sleep(step.seconds)
                step = flow.send(None)
                continue
            try:
                if isinstance(step, Bare):
                    response = client.send(step.request, auth=None)
                else:
                    response = client.send(step, auth=auth)
            except httpx2.TransportError as exc:
                step = flow.throw(exc)
                continue
            step = flow.send(response)
    except StopIteration as stop:
        return stop.value
    finally:
        flow.close()


async def adrive(flow: Flow, client: httpx2.AsyncClient, auth: httpx2.Auth | None) -> Any:
    try:
        step = next(flow)
        while True:
            if isinstance(step, Wait):
                log.info("waiting %.2fs before retrying: %s", step.seconds, step.reason)
                await asyncio.sleep(step.seconds)
                step = flow.send(None)
                continue
            try:
                if isinstance(step, Bare):
                    response = await client.send(step.request, auth=None)
                else:
                    response = await client.send(step, auth=auth)
            except httpx2.TransportError as exc:
                step = flow.throw(exc)
                continue
            step = flow.send(response)
    except StopIteration as stop:
        return stop.value
    finally:
        flow.close()
