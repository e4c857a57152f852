"""Saved authentications made ready to call with, kept while nothing about them changes.

Building a token source renders the identity platform's endpoints from the spec; doing that
for every lookup would cost more than the lookup itself. A source is kept per authentication
and loaded connector, and built afresh when the saved authentication changes (a new sign-in,
a refresh, `mscal auth add --replace`) or the spec is reloaded. Tokens themselves always live
in the store (a refresh is written back under its lock), never only here.
"""

from __future__ import annotations

import json
import threading

import httpx2

from mscal.auth.tokens import TokenSource
from mscal.cli.auth import stored_connection
from mscal.connector import Connector
from mscal.io.session import Session
from mscal.state.contract import AuthRecords

Key = tuple[int, str, str]


class Connections:
    def __init__(self, store: AuthRecords, transport: httpx2.BaseTransport) -> None:
        self.store = store
        self.transport = transport
        self._kept: dict[Key, tuple[TokenSource, str]] = {}
        self._lock = threading.Lock()

    def session(
        self, connector: Connector, auth: str, transport: httpx2.BaseTransport | None = None
    ) -> Session:
        """A session of the named authentication (through the studio's pool by default)."""
        tokens, base_url = self.tokens(connector, auth)
        return connector.session(tokens, base_url=base_url, transport=transport or self.transport)

    def tokens(self, connector: Connector, auth: str) -> tuple[TokenSource, str]:
        """The named authentication's token source and Graph base URL."""
        record = self.store.load(auth)
        stamp = json.dumps([record.values, record.tokens], sort_keys=True, default=str)
        key = (id(connector), auth, stamp)
        with self._lock:
            kept = self._kept.get(key)
        if kept is None:
            tokens, authentication = stored_connection(connector, auth, self.store)
            kept = (tokens, authentication.base_url)
            with self._lock:
                # One entry per authentication: an older one is of a file or spec now gone.
                self._kept = {k: v for k, v in self._kept.items() if k[1] != auth}
                self._kept[key] = kept
        return kept
