"""What a sign-in says about the person: the `id_token` (claims as Entra issues them, v2.0 and
v1.0) and `client_info` (the account's home ids, which MSAL keys its cache by)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Person:
    """A signed-in user as the directory knows them."""

    oid: str
    upn: str
    name: str


def person_from(record: dict[str, Any] | None, user: str) -> Person:
    """A directory record as a Person; a user the directory does not hold (yet) gets a stable
    object id made from their sign-in name."""
    if record is not None:
        return Person(str(record["id"]), str(record["userPrincipalName"]), record["displayName"])
    return Person(str(uuid.uuid5(uuid.NAMESPACE_URL, f"mscal:{user.lower()}")), user, user)


def issuer(origin: str, tenant_id: str, *, v1: bool) -> str:
    """The platform's issuer: `{origin}/{tid}/v2.0`, or for v1.0 `{origin}/{tid}/` (Entra's is
    `https://sts.windows.net/{tid}/`, a host the local service cannot be)."""
    return f"{origin}/{tenant_id}/" if v1 else f"{origin}/{tenant_id}/v2.0"


def id_token_claims(
    person: Person,
    *,
    client_id: str,
    tenant_id: str,
    origin: str,
    lifetime: int,
    nonce: str | None,
    v1: bool,
) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": client_id,
        "iss": issuer(origin, tenant_id, v1=v1),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "name": person.name,
        "oid": person.oid,
        "sub": pairwise_subject(person.oid, client_id),
        "tid": tenant_id,
        "ver": "1.0" if v1 else "2.0",
    }
    if v1:
        claims["upn"] = claims["unique_name"] = person.upn
    else:
        claims["preferred_username"] = person.upn
    if nonce:
        claims["nonce"] = nonce
    return claims


def pairwise_subject(oid: str, client_id: str) -> str:
    """Entra's `sub` is pairwise: the same person has a different subject in each app."""
    digest = hashlib.sha256(f"{oid}:{client_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def client_info(person: Person, tenant_id: str) -> str:
    """base64url JSON of the account's home object and tenant ids (`uid.utid` is MSAL's key)."""
    raw = json.dumps({"uid": person.oid, "utid": tenant_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
