"""A named authentication from a store, ready to call with: its token source saves new and
rotated tokens back to the store, refreshing under the store's lock."""

from __future__ import annotations

from mscal.auth.form import Authentication
from mscal.auth.tokens import TokenSource, token_source
from mscal.spec.load import Spec
from mscal.state.contract import AuthRecords


def stored_connection(
    spec: Spec, records: AuthRecords, name: str
) -> tuple[TokenSource, Authentication]:
    """The token source of a saved authentication, and the authentication (for its base URL)."""
    record = records.load(name)
    tokens = record.tokens
    authentication = Authentication.from_form(
        spec,
        {**record.values, **record.secrets},
        access_token=tokens.get("access_token"),
        refresh_token=tokens.get("refresh_token"),
        expires_at=tokens.get("expires_at"),
    )
    persistence = records.persistence(name)
    return token_source(spec, authentication, persistence=persistence), authentication
