"""Sessions: one pooled httpx2 client each, running a connector's compiled operations.

A session prepares a call (validated and rendered, or refused before anything is sent) and
hands its flow to a driver; `run_many` and `iterate` use the same driver.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx2

if TYPE_CHECKING:  # the batching code is imported only by a bulk run
    from mscal.call.batching import BatchSpec, Outcome
from mscal.call.compiled import CompiledOperation
from mscal.call.flow import operation_flow, page_flow
from mscal.call.guard import Origin
from mscal.call.limits import PHASE_TIMEOUT, Limits
from mscal.call.paging import FOLLOW_ALL
from mscal.call.steps import Call
from mscal.errors import SpecError
from mscal.io.drivers import AsyncDriver, Driver
from mscal.io.mailbox_key import MailboxKey, Principal
from mscal.io.slots import Slots

SlotOf = Callable[[str], Hashable | None]


@dataclasses.dataclass(frozen=True)
class Wiring:
    """What a session is built from: the connector's compiled operations, where requests go,
    with which credentials, under which mailbox slots and limits."""

    compiled: Callable[[str], CompiledOperation]
    batch: Callable[[], BatchSpec | None]
    origin: Origin
    auth: httpx2.Auth
    slots: Slots | None
    slot_of: SlotOf | None
    limits: Mapping[str, Any]


class _BaseSession:
    def __init__(self, wiring: Wiring) -> None:
        self.origin = wiring.origin
        self._wiring = wiring
        self._limits = dict(wiring.limits)
        Limits.check_names(self._limits)  # unknown names fail here, not at the first call

    def prepare(self, operation: str, inputs: Mapping[str, Any] | None) -> Call:
        compiled = self._wiring.compiled(operation)
        limits = compiled.limits.merged(self._limits) if self._limits else compiled.limits
        return compiled.prepare(
            inputs or {}, self.origin, limits=limits, slot_of=self._wiring.slot_of
        )

    def _preparer(self, operation: str) -> Callable[[Mapping[str, Any]], Call]:
        return lambda values: self.prepare(operation, values)

    def _paged_call(self, operation: str, inputs: Mapping[str, Any] | None) -> Call:
        """A call that follows every page (unless the inputs turn `all_pages` off)."""
        call = self.prepare(operation, inputs)
        if call.paginator is None:
            raise SpecError(f"operation {operation!r} is not paged: use run()")
        follow = (inputs or {}).get(FOLLOW_ALL) is not False
        return dataclasses.replace(call, follow_pages=follow)


def slot_keys(
    slots: Slots | None,
    origin: Origin,
    auth: object,
    signed_in: str | None,
    principal: Principal | None = None,
) -> SlotOf | None:
    """A request path's slot key: Graph counts per app and mailbox, and the signed-in user's
    mailbox (`/me`) differs by authentication, so the key holds the origin, the authentication
    (for that one) and the mailbox. Shared slots get a `MailboxKey`, named alike in every
    process (the app's id; `/me` as the signed-in user's id)."""
    if slots is None:
        return None
    if slots.shared and principal is not None:
        return _shared_keys(slots, origin, signed_in, principal)
    place = (origin.host, origin.port, origin.base_path)
    who = id(auth)

    def slot_of(path: str) -> Hashable | None:
        mailbox = slots.mailbox(path)
        if mailbox is None:
            return None
        return (place, who if mailbox == signed_in else None, mailbox.lower())

    return slot_of


def _shared_keys(
    slots: Slots, origin: Origin, signed_in: str | None, principal: Principal
) -> SlotOf:
    place = f"{origin.host}:{origin.port}{origin.base_path}"

    def slot_of(path: str) -> Hashable | None:
        mailbox = slots.mailbox(path)
        if mailbox is None:
            return None
        me = mailbox == signed_in
        return MailboxKey(place, mailbox.lower().lstrip("/"), principal, signed_in=me)

    return slot_of


class Session(_BaseSession):
    """Runs operations over one pooled httpx2.Client (no event loop)."""

    def __init__(self, wiring: Wiring, transport: httpx2.BaseTransport | None = None) -> None:
        super().__init__(wiring)
        client = httpx2.Client(
            timeout=PHASE_TIMEOUT,
            follow_redirects=False,
            transport=transport,
            trust_env=self.origin.may_use_env_proxy,
        )
        self.driver = Driver(client, wiring.auth, wiring.slots)

    def run(self, operation: str, inputs: Mapping[str, Any] | None = None) -> Any:
        return self.driver.run(operation_flow(self.prepare(operation, inputs)))

    def run_many(self, operation: str, inputs: Iterable[Mapping[str, Any]]) -> Iterator[Outcome]:
        """Run one operation over many inputs, packed into JSON batches (at most 20 a batch,
        at most 4 in flight per mailbox, throttled requests retried one by one). Yields one
        `Outcome` per input (`.result` or `.error`), in input order, as soon as it is known."""
        # Imported here: a single call never needs the bulk runner's threads.
        from mscal.io.bulk import run_many  # noqa: PLC0415

        return run_many(self.driver, self._preparer(operation), self._wiring.batch(), inputs)

    def iterate(self, operation: str, inputs: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """The items of a list operation, page by page as they arrive: only one page is held in
        memory. Bad inputs raise here, before anything is sent."""
        return self.driver.items(page_flow(self._paged_call(operation, inputs)))

    def close(self) -> None:
        self.driver.client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncSession(_BaseSession):
    """Runs operations over one pooled httpx2.AsyncClient."""

    def __init__(self, wiring: Wiring, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        super().__init__(wiring)
        client = httpx2.AsyncClient(
            timeout=PHASE_TIMEOUT,
            follow_redirects=False,
            transport=transport,
            trust_env=self.origin.may_use_env_proxy,
        )
        self.driver = AsyncDriver(client, wiring.auth, wiring.slots)

    async def run(self, operation: str, inputs: Mapping[str, Any] | None = None) -> Any:
        return await self.driver.run(operation_flow(self.prepare(operation, inputs)))

    def run_many(
        self, operation: str, inputs: Iterable[Mapping[str, Any]]
    ) -> AsyncIterator[Outcome]:
        """`async for outcome in session.run_many(...)`: as `Session.run_many`."""
        # Imported here: a single call never needs the bulk runner or asyncio's extras.
        from mscal.io.bulk import arun_many  # noqa: PLC0415

        return arun_many(self.driver, self._preparer(operation), self._wiring.batch(), inputs)

    def iterate(
        self, operation: str, inputs: Mapping[str, Any] | None = None
    ) -> AsyncIterator[Any]:
        """`async for item in session.iterate(...)`: page by page, one page in memory."""
        return self.driver.items(page_flow(self._paged_call(operation, inputs)))

    async def aclose(self) -> None:
        await self.driver.client.aclose()

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
