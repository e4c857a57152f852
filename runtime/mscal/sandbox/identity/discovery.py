"""The documents a client reads before it signs in, shaped as Entra's, every endpoint on the
local service's own origin: OpenID configuration (v2.0 and v1.0) and instance discovery.

MSAL reads instance discovery first (for an authority host it does not know), then the
`tenant_discovery_endpoint` it names, and from there takes the authorize, token and device
code endpoints; nothing else tells it where they are.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mscal.sandbox.identity.id_tokens import issuer
from mscal.sandbox.identity.model import IdentityConfig, OAuthError

# The tenants that are not one tenant: their configuration names a placeholder issuer.
MULTI_TENANT = frozenset({"common", "organizations", "consumers"})


def check_tenant(tenant: str, config: IdentityConfig, *, error: str = "invalid_request") -> None:
    """With `strict`, only this tenant (its domain or its id) and the multi-tenant names are
    known; any other is AADSTS90002, as Entra answers (`invalid_tenant` for its documents)."""
    known = MULTI_TENANT | {config.tenant_domain.lower(), config.tenant_id}
    if config.strict and tenant.lower() not in known:
        raise OAuthError(
            error,
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud.",
        )


def openid_configuration(origin: str, tenant: str, tenant_id: str, *, v1: bool) -> dict[str, Any]:
    """`/{tenant}/v2.0/.well-known/openid-configuration`, or the v1.0 one without `/v2.0`."""
    # A named tenant's endpoints are written with its id, as Entra writes them.
    path = tenant if tenant.lower() in MULTI_TENANT else tenant_id
    named = "{tenantid}" if tenant.lower() in MULTI_TENANT else tenant_id
    base = f"{origin}/{path}/oauth2" + ("" if v1 else "/v2.0")
    claims = ["sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "name", "oid", "tid", "ver"]
    document: dict[str, Any] = {
        "token_endpoint": f"{base}/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{origin}/common/discovery/keys"
        if v1
        else f"{origin}/{path}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code"],
        "scopes_supported": ["openid"] if v1 else ["openid", "profile", "offline_access"],
        "issuer": issuer(origin, named, v1=v1),
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{origin}/oidc/userinfo",
        "authorization_endpoint": f"{base}/authorize",
        "device_authorization_endpoint": f"{base}/devicecode",
        "code_challenge_methods_supported": ["plain", "S256"],
        "claims_supported": claims + (["upn", "unique_name"] if v1 else ["preferred_username"]),
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
        "msgraph_host": urlsplit(origin).netloc,
    }
    if v1:
        document["microsoft_multi_refresh_token"] = True
    return document


def instance_discovery(origin: str, authorization_endpoint: str | None) -> dict[str, Any]:
    """`/common/discovery/instance?authorization_endpoint=...`: where the tenant's OpenID
    configuration is, for an authorize endpoint on this service (any other host is unknown
    here, `invalid_instance`, as Entra answers for a host that is not a Microsoft cloud)."""
    if not authorization_endpoint:
        raise OAuthError(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'authorization_endpoint'.",
        )
    ours = urlsplit(origin)
    try:
        asked = urlsplit(authorization_endpoint)
        host = asked.hostname or ""
    except ValueError:  # not a URL at all (an unclosed IPv6 bracket, ...)
        host = ""
    segments = [s for s in asked.path.split("/") if s] if host else []
    # MSAL names the authority's host without its port; the host must be this service's.
    if host != (ours.hostname or "") or not segments:
        raise OAuthError("invalid_instance", 50049, "Unknown or invalid instance.")
    v2 = "v2.0" in segments
    document = (
        f"{origin}/{segments[0]}" + ("/v2.0" if v2 else "") + ("/.well-known/openid-configuration")
    )
    alias = ours.netloc
    return {
        "tenant_discovery_endpoint": document,
        "api-version": "1.1",
        "metadata": [{"preferred_network": alias, "preferred_cache": alias, "aliases": [alias]}],
    }
