"""What a job runner needs from the connector: run an operation by name with a stored
authentication, with ids that stay the same on every attempt, and say whether a failure is
worth another attempt and when.

A worker process keeps one connector and one session per authentication (its pooled
connections and its token); with `MSCAL_STORE=redis://…` every worker shares the mailbox
budget and one refresh (docs/deployment.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mscal.connector import Connector, load_connector
from mscal.errors import ConnectorError, GraphError, StoreError, ThrottlingError, TransportError
from mscal.idempotency import idempotency_key
from mscal.io.session import Session
from mscal.state.stored import stored_connection

if TYPE_CHECKING:
    from mscal.triggers.trigger import Change, Trigger

# A failure that may pass (the network, the store, Graph's own 5xx) is tried again after
# this many seconds, doubled on each attempt up to the last value.
BACKOFF_SECONDS = (2.0, 5.0, 15.0, 60.0)


@dataclass(frozen=True)
class Verdict:
    """Whether to run a failed call again and after how many seconds."""

    retry: bool
    delay: float | None = None


def verdict(error: ConnectorError, attempt: int) -> Verdict:
    """Throttling: again after Graph's `Retry-After`. The network, the store or a 5xx: again
    after a backoff. Anything else (bad inputs, a refused or missing authentication, an egress
    refusal, another 4xx) fails the same way every time: never again."""
    if isinstance(error, ThrottlingError):
        return Verdict(True, float(error.retry_after or BACKOFF_SECONDS[0]))
    passing = isinstance(error, TransportError | StoreError) or (
        isinstance(error, GraphError) and error.status_code >= 500
    )
    if passing:
        return Verdict(True, BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)])
    return Verdict(False)


class StoredRunner:
    """Runs operations with stored authentications (from the connector's store)."""

    def __init__(self, connector: Connector | None = None) -> None:
        self._connector = connector
        # Each authentication's session, with the tokens it signs in with (a trigger needs them).
        self._sessions: dict[tuple[str, str | None], tuple[Session, Any]] = {}
        self._lock = threading.RLock()  # a new session loads the connector under it

    @property
    def connector(self) -> Connector:
        if self._connector is None:
            with self._lock:
                if self._connector is None:
                    self._connector = load_connector()
        return self._connector

    def _session(self, auth: str, base_url: str | None) -> Session:
        return self._connection(auth, base_url)[0]

    def _connection(self, auth: str, base_url: str | None) -> tuple[Session, Any]:
        """The session on the stored authentication `auth`, and the tokens it signs in with."""
        found = self._sessions.get((auth, base_url))
        if found is None:
            with self._lock:
                found = self._sessions.get((auth, base_url))
                if found is None:
                    connector = self.connector
                    tokens, authentication = stored_connection(
                        connector.spec, connector.store.authentications, auth
                    )
                    session = connector.session(
                        tokens, base_url=base_url or authentication.base_url
                    )
                    found = self._sessions[(auth, base_url)] = (session, tokens)
        return found

    def poll(
        self,
        trigger: str,
        inputs: Mapping[str, Any] | None,
        auth: str,
        emit: Callable[[list[Change]], None],
        *,
        base_url: str | None = None,
    ) -> list[Change]:
        """One round of `trigger` with the stored authentication `auth`: `emit` gets its changes
        before the new state is saved. The state and the trigger's lease are in the connector's
        store (with Redis, shared: two workers never run one trigger's round at once, and a
        round starts from the state the last one saved, whichever worker ran it)."""
        # Imported here: a worker that only runs operations never loads the triggers.
        from mscal.triggers.watch import Watch  # noqa: PLC0415

        made, session = self._trigger(trigger, inputs, auth, base_url)
        store = self.connector.store.triggers
        return Watch(made, store, emit, interval=0, session=session).round()

    def poll_aside(
        self, trigger: str, inputs: Mapping[str, Any] | None, auth: str, *, base_url: str | None
    ) -> tuple[list[Change], str]:
        """One round whose state is kept aside until `commit` (see trigger_rounds.py)."""
        from mscal.integrations import trigger_rounds  # noqa: PLC0415  (triggers only)

        made, session = self._trigger(trigger, inputs, auth, base_url)
        return trigger_rounds.poll_aside(made, self.connector.store.triggers, session)

    def commit(
        self,
        trigger: str,
        inputs: Mapping[str, Any] | None,
        auth: str,
        token: str,
        *,
        base_url: str | None,
    ) -> bool:
        from mscal.integrations import trigger_rounds  # noqa: PLC0415  (triggers only)

        made, _ = self._trigger(trigger, inputs, auth, base_url)
        return trigger_rounds.commit(made, self.connector.store.triggers, token)

    def _trigger(
        self, trigger: str, inputs: Mapping[str, Any] | None, auth: str, base_url: str | None
    ) -> tuple[Trigger, Session]:
        """The trigger on the stored authentication `auth`, its state in the store."""
        session, tokens = self._connection(auth, base_url)
        connector = self.connector
        made = connector.trigger(trigger, inputs, auth=tokens, state=connector.store.triggers)
        made.key = f"{auth}|{made.key}"  # the same trigger on two connections: two states
        return made, session

    def run(
        self,
        operation: str,
        inputs: Mapping[str, Any] | None,
        auth: str,
        *,
        key: str,
        base_url: str | None = None,
    ) -> Any:
        """The operation's result; a client-chosen id (a create's transactionId) is derived from
        `key`, so running it again with the same key makes no second event."""
        session = self._session(auth, base_url)
        with idempotency_key(key):
            return session.run(operation, inputs)

    async def arun(
        self,
        operation: str,
        inputs: Mapping[str, Any] | None,
        auth: str,
        *,
        key: str,
        base_url: str | None = None,
    ) -> Any:
        """As `run`, on an async session of its own (async clients belong to one loop)."""
        connector = self.connector
        # Reading the stored record is a file or Redis read: off the event loop.
        import asyncio  # noqa: PLC0415  (async callers only)

        tokens, authentication = await asyncio.to_thread(
            stored_connection, connector.spec, connector.store.authentications, auth
        )
        async with connector.async_session(
            tokens, base_url=base_url or authentication.base_url
        ) as session:
            with idempotency_key(key):
                return await session.run(operation, inputs)

    def close(self) -> None:
        with self._lock:
            for session, _ in self._sessions.values():
                session.close()
            self._sessions.clear()
