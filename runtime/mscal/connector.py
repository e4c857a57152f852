"""The builder's Python API: load the connector, describe it, run operations (sync and async).

connector = load_connector()
auth = connector.authentication({"client_id": "...", "tenant_id": "...", ...})
with connector.session(auth) as session:
    events = session.run("list_events", {"top": 5})
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2

if TYPE_CHECKING:  # the batching code is imported only by a bulk run, triggers by a watch
    from mscal.call.batching import Outcome
    from mscal.triggers.state import StateStore as TriggerStateStore
    from mscal.triggers.trigger import Clock, Trigger

from mscal.auth.bearer import BearerAuth
from mscal.auth.form import Authentication
from mscal.auth.oauth2 import OAuth2Tokens
from mscal.auth.tokens import CallableToken, TokenSource, token_source
from mscal.call.compiled import CallDefaults, CompiledOperation
from mscal.call.error_mapping import ErrorHints
from mscal.call.guard import Origin
from mscal.call.limits import Limits
from mscal.call.retry import RetryPolicy
from mscal.call.validation import InputValidator
from mscal.io.mailbox_key import Principal
from mscal.io.session import AsyncSession, Session, Wiring, slot_keys
from mscal.io.slots import Slots
from mscal.spec.defaults import Batch as BatchSpec
from mscal.spec.describe import describe_connector, describe_operation, describe_trigger
from mscal.spec.load import Spec, load_spec
from mscal.state.choose import open_store
from mscal.state.contract import StateStore
from mscal.templates.render import Templates

Tokens = Authentication | TokenSource | Callable[[bool], str]


class Connector:
    """A loaded connector spec and what is built from it, lazily and once."""

    def __init__(self, spec: Spec, store: StateStore | str | None = None) -> None:
        self.spec = spec
        self._store = open_store(store) if isinstance(store, str) else store
        self._compiled: dict[str, CompiledOperation] = {}
        self._described: dict[str, dict[str, Any]] = {}
        self._trigger_validators: dict[str, InputValidator] = {}

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return str(self.spec.manifest["title"])

    @property
    def version(self) -> str:
        return str(self.spec.manifest["version"])

    @cached_property
    def templates(self) -> Templates:
        return Templates(
            self.spec.fragments, max_chars=self.limits.template_chars, forms=self.spec.cache
        )

    @property
    def retry(self) -> RetryPolicy:
        return self.spec.defaults.retry

    @property
    def batch(self) -> BatchSpec:
        return self.spec.defaults.batch

    @property
    def limits(self) -> Limits:
        return self.spec.defaults.limits

    @property
    def error_hints(self) -> ErrorHints:
        return self.spec.defaults.error_hints

    @property
    def store(self) -> StateStore:
        """Where authentications, mailbox budgets and trigger state are kept: the builder's
        (`load_connector(store=...)`), else the one `MSCAL_STORE` names (files by default)."""
        if self._store is None:
            self._store = open_store()
        return self._store

    @cached_property
    def mailbox_slots(self) -> Slots:
        """Per-mailbox concurrency slots shared by this connector's sessions (and, with a Redis
        store, by every worker that uses the store)."""
        return self._new_slots(None)

    def slots_for(self, per_mailbox: int | None) -> Slots:
        return self.mailbox_slots if per_mailbox is None else self._new_slots(per_mailbox)

    def _new_slots(self, per_mailbox: int | None) -> Slots:
        concurrency = self.spec.defaults.concurrency
        return self.store.slots(
            per_mailbox or concurrency.per_mailbox,
            concurrency.mailbox,
            concurrency.window_requests,
            concurrency.window_seconds,
        )

    @property
    def default_headers(self) -> Mapping[str, str]:
        return self.spec.defaults.headers

    @cached_property
    def error_envelope(self) -> dict[str, list[str]]:
        return self.spec.defaults.errors.locations()

    @property
    def request_id_header(self) -> str:
        return self.spec.defaults.request_id_header

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
                "triggers": self.triggers,
            }
        described = self._described.get(operation)
        if described is None:
            described = describe_operation(self.spec, self.spec.operation(operation))
            self._described[operation] = described
        return described

    @property
    def triggers(self) -> list[dict[str, Any]]:
        """Every trigger with its title, the changes it emits and its resolved schemas."""
        return [describe_trigger(self.spec, t) for t in self.spec.triggers.values()]

    def describe_trigger(self, name: str) -> dict[str, Any]:
        return describe_trigger(self.spec, self.spec.trigger(name))

    def trigger(
        self,
        name: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        auth: Tokens,
        state: TriggerStateStore | Mapping[str, Any] | None = None,
        key: str | None = None,
        base_url: str | None = None,
        clock: Clock | None = None,
        emit_existing: bool = False,
    ) -> Trigger:
        """A trigger on a connection: `poll()` gives the changes since `state` (a state a poll
        returned, or a store holding it; None: a first run) and the new state, which `save()`
        records once the changes are emitted; `watch` (mscal.triggers.watch) runs it with a
        state store. Bad inputs raise InputError here, naming the field and the rule."""
        # Imported here: only a workflow that watches needs the trigger machinery.
        from mscal.triggers.trigger import Trigger, utc_now  # noqa: PLC0415

        definition = self.spec.trigger(name)
        validator = self._trigger_validators.get(name)
        if validator is None:
            resolved = self.describe_trigger(name)["input_schema"]
            validator = InputValidator(resolved, self.spec)
            self._trigger_validators[name] = validator
        validated = validator.validate(dict(inputs or {}), max_depth=self.limits.input_depth)
        return Trigger(
            definition,
            validated,
            lambda: self.session(auth, base_url=base_url),
            state=state,
            key=key,
            clock=clock or utc_now,
            emit_existing=emit_existing,
        )

    # -- running ------------------------------------------------------------------------------

    @cached_property
    def call_defaults(self) -> CallDefaults:
        return CallDefaults(
            headers=self.default_headers,
            request_id_header=self.request_id_header,
            retry=self.retry,
            error_envelope=self.error_envelope,
            error_hints=self.error_hints,
            limits=self.limits,
        )

    def compiled(self, name: str) -> CompiledOperation:
        """The operation's validator and templates, built the first time it is used."""
        compiled = self._compiled.get(name)
        if compiled is None:
            operation = self.spec.operation(name)
            validator = InputValidator(self.describe(name)["input_schema"], self.spec)
            compiled = CompiledOperation(operation, validator, self.templates, self.call_defaults)
            self._compiled[name] = compiled
            if self.spec.cache is not None:
                self.spec.cache.save()  # what compiling derived (plain forms), if anything new
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
        return Session(self._wiring(auth, base_url, limits, max_in_flight_per_mailbox), transport)

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
            self._wiring(auth, base_url, limits, max_in_flight_per_mailbox), transport
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

    def _wiring(
        self,
        auth: Tokens,
        base_url: str | None,
        limits: Mapping[str, Any] | None,
        per_mailbox: int | None,
    ) -> Wiring:
        client_id: str | None = None
        if isinstance(auth, Authentication):
            origin = Origin.from_base_url(base_url or auth.base_url)
            tokens: TokenSource = token_source(self.spec, auth)
            client_id = auth.values.get("client_id")
        elif callable(auth) and not hasattr(auth, "token"):
            origin = Origin.from_base_url(base_url or self.spec.base_url)
            tokens = CallableToken(auth)
        else:
            origin = Origin.from_base_url(base_url or self.spec.base_url)
            tokens = auth  # type: ignore[assignment]
        if isinstance(tokens, OAuth2Tokens):
            client_id = tokens.client_id
        slots = self.slots_for(per_mailbox)
        signed_in = self.spec.defaults.concurrency.signed_in_mailbox
        principal = (
            Principal(tokens, origin, client_id, self.spec.defaults.concurrency.signed_in_user)
            if slots.shared
            else None
        )
        return Wiring(
            compiled=self.compiled,
            batch=lambda: self.batch,
            origin=origin,
            auth=BearerAuth(tokens, origin),
            slots=slots,
            slot_of=slot_keys(slots, origin, auth, signed_in, principal),
            limits=dict(limits or {}),
        )


def load_connector(
    path: str | Path | None = None, *, store: StateStore | str | None = None
) -> Connector:
    """Load a connector from its directory or connector.yaml (default: the shipped one).

    `store` is where state is kept: a `StateStore`, or a URL (`"redis://host:6379/0"`); by
    default the one `MSCAL_STORE` names, else files on this machine."""
    return Connector(load_spec(path), store)
