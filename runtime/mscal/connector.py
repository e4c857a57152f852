"""The builder's Python API: load the connector, describe it, run operations (sync and async).

connector = load_connector()
auth = connector.authentication({"client_id": "...", "tenant_id": "...", ...})
with connector.session(auth) as session:
    events = session.run("list_events", {"top": 5})
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx2

if TYPE_CHECKING:
    from mscal.call.batching import BatchSpec, Outcome

from mscal.auth.core import Authentication, BearerAuth, CallableToken, TokenSource, token_source
from mscal.call.error_mapping import ErrorHints, hints_from_spec
from mscal.call.flow import Call, Upload, follow_link, operation_flow, page_flow
from mscal.call.guard import Origin
from mscal.call.limits import PHASE_TIMEOUT, Limits
from mscal.call.paging import FOLLOW_ALL, MAX_ITEMS, Paginator, paginator_from_spec
from mscal.call.request import RequestBuilder
from mscal.call.retry import RetryPolicy
from mscal.call.validation import InputValidator
from mscal.errors import SpecError
from mscal.io.drivers import adrive, aiterate, drive, iterate
from mscal.io.slots import MailboxSlots
from mscal.spec.describe import describe_connector, describe_operation
from mscal.spec.load import Operation, Spec, load_spec
from mscal.templates.render import Templates


class CompiledOperation:
    """An operation with its validator and templates built once."""

    def __init__(self, connector: Connector, operation: Operation) -> None:
        self.operation = operation
        self.connector = connector
        described = connector.describe(operation.name)
        self.validator = InputValidator(described["input_schema"], connector.spec.registry)
        self.builder = RequestBuilder(operation, connector.templates)
        self.result = (
            connector.templates.value(operation.result) if operation.result is not None else None
        )
        self.upload = _compile_upload(connector, operation)
        self.paginator: Paginator | None = (
            paginator_from_spec(operation.pagination) if operation.paginated else None
        )
        self.limits = connector.limits.merged(operation.limits)

    def prepare(
        self,
        connector: Connector,
        inputs: Mapping[str, Any],
        origin: Origin,
        *,
        limits: Limits | None = None,
        slot_of: Callable[[str], Hashable | None] | None = None,
    ) -> Call:
        """Validate and render; raises InputError before anything could be sent."""
        limits = limits or self.limits
        values = self.validator.validate(inputs, max_depth=limits.input_depth)
        defaults = connector.default_headers
        client_request_id = None
        if connector.request_id_header:
            # One id for the whole operation (every retry and page), set with the defaults so
            # an operation's own headers could still name it.
            client_request_id = str(uuid.uuid4())
            defaults = {**defaults, connector.request_id_header: client_request_id}
        context = self.builder.context(values)
        request = self.builder.build(
            values, origin, defaults, max_body_bytes=limits.body_bytes, context=context
        )
        follow = False
        max_items = None
        if self.paginator is not None:
            follow = bool(values.get(FOLLOW_ALL))
            max_items = values.get(MAX_ITEMS)
            follow = follow or max_items is not None
            resume = next((values[k] for k in self.paginator.resume_inputs if values.get(k)), None)
            if resume:
                request = follow_link(request, resume, origin)
        return Call(
            operation=self.operation.name,
            request=request,
            context=context,
            origin=origin,
            client_request_id=client_request_id,
            retry=connector.retry,
            error_envelope=connector.error_envelope,
            paginator=self.paginator,
            follow_pages=follow,
            max_items=max_items,
            result=self.result,
            upload=self.upload,
            idempotent=self.operation.idempotent,
            limits=limits,
            error_hints=connector.error_hints,
            slot_of=slot_of,
        )


def _compile_upload(connector: Connector, operation: Operation) -> Upload | None:
    spec = operation.upload
    if spec is None:
        return None
    return Upload(
        url=connector.templates.value(spec["url"]),
        content=connector.templates.value(spec["content"]),
        chunk_size=int(spec["chunk_size"]),
    )


Tokens = Authentication | TokenSource | Callable[[bool], str]


class Connector:
    """A loaded connector spec and what is built from it, lazily and once."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._compiled: dict[str, CompiledOperation] = {}
        self._described: dict[str, dict[str, Any]] = {}

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return str(self.spec.manifest.get("title", self.spec.name))

    @property
    def version(self) -> str:
        return str(self.spec.manifest.get("version", ""))

    @cached_property
    def templates(self) -> Templates:
        return Templates(self.spec.fragments, max_chars=self.limits.template_chars)

    @cached_property
    def retry(self) -> RetryPolicy:
        return RetryPolicy.from_spec(self.spec.defaults.get("retry"))

    @cached_property
    def batch(self) -> BatchSpec | None:
        from mscal.call.batching import BatchSpec

        return BatchSpec.from_spec(self.spec.defaults.get("batch"))

    @cached_property
    def limits(self) -> Limits:
        return Limits.from_spec(self.spec.defaults.get("limits"))

    @cached_property
    def error_hints(self) -> ErrorHints:
        return hints_from_spec(self.spec.defaults.get("error_hints"))

    @cached_property
    def mailbox_slots(self) -> MailboxSlots | None:
        """Per-mailbox concurrency slots shared by this connector's sessions (None: no limit)."""
        return self._new_slots(None)

    def slots_for(self, per_mailbox: int | None) -> MailboxSlots | None:
        return self.mailbox_slots if per_mailbox is None else self._new_slots(per_mailbox)

    def _new_slots(self, per_mailbox: int | None) -> MailboxSlots | None:
        raw = self.spec.defaults.get("concurrency") or {}
        limit = per_mailbox or raw.get("per_mailbox")
        if not limit or not raw.get("mailbox"):
            return None
        return MailboxSlots(int(limit), str(raw["mailbox"]))

    @cached_property
    def default_headers(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (self.spec.defaults.get("headers") or {}).items()}

    @cached_property
    def error_envelope(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in (self.spec.defaults.get("errors") or {}).items()}

    @property
    def request_id_header(self) -> str | None:
        value = self.spec.defaults.get("request_id_header")
        return str(value) if value else None

    # -- what a builder renders -------------------------------------------------------------

    @property
    def operations(self) -> list[dict[str, Any]]:
        """Every operation with its title, group and resolved input and output schemas."""
        return [self.describe(name) for name in self.spec.operations]

    @property
    def auth_form(self) -> list[dict[str, Any]]:
        fields: list[dict[str, Any]] = describe_connector(self.spec, operations=False)[
            "authentication"
        ]["fields"]
        return fields

    def describe(self, operation: str | None = None) -> dict[str, Any]:
        """The resolved description of one operation, or of the whole connector."""
        if operation is None:
            return {
                **describe_connector(self.spec, operations=False),
                "operations": self.operations,
            }
        described = self._described.get(operation)
        if described is None:
            described = describe_operation(self.spec, self.spec.operation(operation))
            self._described[operation] = described
        return described

    # -- running ------------------------------------------------------------------------------

    def compiled(self, name: str) -> CompiledOperation:
        compiled = self._compiled.get(name)
        if compiled is None:
            compiled = self._compiled[name] = CompiledOperation(self, self.spec.operation(name))
        return compiled

    def authentication(
        self, values: Mapping[str, Any] | None = None, **tokens: Any
    ) -> Authentication:
        """Build an Authentication from the auth form's values (validated, defaults applied)."""
        return Authentication.from_form(self.spec, values, **tokens)

    def session(
        self,
        auth: Tokens,
        *,
        base_url: str | None = None,
        transport: httpx2.BaseTransport | None = None,
        limits: Mapping[str, Any] | None = None,
        max_in_flight_per_mailbox: int | None = None,
    ) -> Session:
        """A pooled sync session.

        `limits` overrides the spec's limits for every operation (e.g. `{"deadline_seconds":
        30}`); `max_in_flight_per_mailbox` replaces Graph's limit of 4 (a session with its own
        value keeps its own slots); `transport` replaces the network (tests, proxies).
        """
        return Session(
            self,
            auth,
            base_url=base_url,
            transport=transport,
            limits=limits,
            max_in_flight_per_mailbox=max_in_flight_per_mailbox,
        )

    def async_session(
        self,
        auth: Tokens,
        *,
        base_url: str | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        limits: Mapping[str, Any] | None = None,
        max_in_flight_per_mailbox: int | None = None,
    ) -> AsyncSession:
        return AsyncSession(
            self,
            auth,
            base_url=base_url,
            transport=transport,
            limits=limits,
            max_in_flight_per_mailbox=max_in_flight_per_mailbox,
        )

    def run(
        self,
        operation: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        auth: Tokens,
        base_url: str | None = None,
    ) -> Any:
        with self.session(auth, base_url=base_url) as session:
            return session.run(operation, inputs)

    async def arun(
        self,
        operation: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        auth: Tokens,
        base_url: str | None = None,
    ) -> Any:
        async with self.async_session(auth, base_url=base_url) as session:
            return await session.run(operation, inputs)

    def run_many(
        self,
        operation: str,
        inputs: Iterable[Mapping[str, Any]],
        *,
        auth: Tokens,
        base_url: str | None = None,
    ) -> Iterator[Outcome]:
        """`Session.run_many` in a session of its own, open while the outcomes are read."""
        with self.session(auth, base_url=base_url) as session:
            yield from session.run_many(operation, inputs)

    def iterate(
        self,
        operation: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        auth: Tokens,
        base_url: str | None = None,
    ) -> Iterator[Any]:
        """`Session.iterate` in a session of its own, open while the items are read."""
        with self.session(auth, base_url=base_url) as session:
            yield from session.iterate(operation, inputs)

    def _connection(self, auth: Tokens, base_url: str | None) -> tuple[Origin, BearerAuth]:
        if isinstance(auth, Authentication):
            origin = Origin.from_base_url(base_url or auth.base_url)
            tokens: TokenSource = token_source(self.spec, auth)
        else:
            origin = Origin.from_base_url(base_url or self.spec.base_url)
            tokens = CallableToken(auth) if callable(auth) and not hasattr(auth, "token") else auth  # type: ignore[assignment]
        return origin, BearerAuth(tokens, origin)


class _BaseSession:
    def __init__(
        self,
        connector: Connector,
        auth: Tokens,
        *,
        base_url: str | None = None,
        transport: Any = None,
        limits: Mapping[str, Any] | None = None,
        max_in_flight_per_mailbox: int | None = None,
    ) -> None:
        """See `Connector.session`; `transport` is a sync or an async one, as the session."""
        self.connector = connector
        self.origin, self._auth = connector._connection(auth, base_url)
        self._limits = dict(limits or {})
        Limits().merged(self._limits)  # unknown names fail here, not at the first call
        self._slots = connector.slots_for(max_in_flight_per_mailbox)
        signed_in = (connector.spec.defaults.get("concurrency") or {}).get("signed_in_mailbox")
        self._slot_of = _slot_keys(self._slots, self.origin, auth, signed_in)
        self._open(transport)

    def _open(self, transport: Any) -> None:
        raise NotImplementedError

    def prepare(self, operation: str, inputs: Mapping[str, Any] | None) -> Call:
        compiled = self.connector.compiled(operation)
        limits = compiled.limits.merged(self._limits) if self._limits else compiled.limits
        return compiled.prepare(
            self.connector, inputs or {}, self.origin, limits=limits, slot_of=self._slot_of
        )

    def _paged_call(self, operation: str, inputs: Mapping[str, Any] | None) -> Call:
        """A call that follows every page (unless the inputs turn `all_pages` off)."""
        call = self.prepare(operation, inputs)
        if call.paginator is None:
            raise SpecError(f"operation {operation!r} is not paged: use run()")
        follow = (inputs or {}).get(FOLLOW_ALL) is not False
        return dataclasses.replace(call, follow_pages=follow)


def _slot_keys(
    slots: MailboxSlots | None, origin: Origin, auth: object, signed_in: str | None
) -> Callable[[str], Hashable | None] | None:
    """A request path's slot key: Graph counts per app and mailbox, and the signed-in user's
    mailbox (`/me`) differs by authentication, so the key holds the origin, the authentication
    (for that one) and the mailbox."""
    if slots is None:
        return None
    place = (origin.host, origin.port, origin.base_path)
    principal = id(auth)

    def slot_of(path: str) -> Hashable | None:
        mailbox = slots.mailbox(path)
        if mailbox is None:
            return None
        return (place, principal if mailbox == signed_in else None, mailbox.lower())

    return slot_of


class Session(_BaseSession):
    """Runs operations over one pooled httpx2.Client (no event loop)."""

    def _open(self, transport: httpx2.BaseTransport | None) -> None:
        self._client = httpx2.Client(
            timeout=PHASE_TIMEOUT, follow_redirects=False, transport=transport
        )

    def run(self, operation: str, inputs: Mapping[str, Any] | None = None) -> Any:
        call = self.prepare(operation, inputs)
        return drive(operation_flow(call), self._client, self._auth, self._slots)

    def run_many(self, operation: str, inputs: Iterable[Mapping[str, Any]]) -> Iterator[Outcome]:
        """Run one operation over many inputs, packed into JSON batches (at most 20 a batch,
        at most 4 in flight per mailbox, throttled requests retried one by one). Yields one
        `Outcome` per input (`.result` or `.error`), in input order, as soon as it is known."""
        from mscal.io.bulk import run_many

        return run_many(self, operation, inputs)

    def iterate(self, operation: str, inputs: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """The items of a list operation, page by page as they arrive: only one page is held in
        memory. Bad inputs raise here, before anything is sent."""
        call = self._paged_call(operation, inputs)
        return iterate(page_flow(call), self._client, self._auth, self._slots)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncSession(_BaseSession):
    """Runs operations over one pooled httpx2.AsyncClient."""

    def _open(self, transport: httpx2.AsyncBaseTransport | None) -> None:
        self._client = httpx2.AsyncClient(
            timeout=PHASE_TIMEOUT, follow_redirects=False, transport=transport
        )

    async def run(self, operation: str, inputs: Mapping[str, Any] | None = None) -> Any:
        call = self.prepare(operation, inputs)
        return await adrive(operation_flow(call), self._client, self._auth, self._slots)

    def run_many(
        self, operation: str, inputs: Iterable[Mapping[str, Any]]
    ) -> AsyncIterator[Outcome]:
        """`async for outcome in session.run_many(...)`: as `Session.run_many`."""
        from mscal.io.bulk import arun_many

        return arun_many(self, operation, inputs)

    def iterate(
        self, operation: str, inputs: Mapping[str, Any] | None = None
    ) -> AsyncIterator[Any]:
        """`async for item in session.iterate(...)`: page by page, one page in memory."""
        call = self._paged_call(operation, inputs)
        return aiterate(page_flow(call), self._client, self._auth, self._slots)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def load_connector(path: str | Path | None = None) -> Connector:
    """Load a connector from its directory or connector.yaml (default: the shipped one)."""
    return Connector(load_spec(path))
