"""The identity platform's published documents: OpenID configuration (v2.0 and v1.0),
instance discovery, the signing keys (JWKS), and OIDC's userinfo."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mscal.sandbox.errors import unauthorized
from mscal.sandbox.http.envelope import answer
from mscal.sandbox.http.identity import service_origin
from mscal.sandbox.identity.discovery import (
    check_tenant,
    instance_discovery,
    openid_configuration,
)
from mscal.sandbox.identity.id_tokens import issuer, pairwise_subject
from mscal.sandbox.identity.model import OAuthError
from mscal.sandbox.identity.platform import Identity


class DiscoveryEndpoints:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    def routes(self) -> list[Route]:
        return [
            Route("/{tenant}/v2.0/.well-known/openid-configuration", self.v2, methods=["GET"]),
            Route("/{tenant}/.well-known/openid-configuration", self.v1, methods=["GET"]),
            Route("/{tenant}/discovery/instance", self.instance, methods=["GET"]),
            Route("/{tenant}/discovery/v2.0/keys", self.keys_v2, methods=["GET"]),
            Route("/{tenant}/discovery/keys", self.keys_v1, methods=["GET"]),
            Route("/oidc/userinfo", self.userinfo, methods=["GET", "POST"]),
        ]

    async def v2(self, request: Request) -> Response:
        return self._configuration(request, v1=False)

    async def v1(self, request: Request) -> Response:
        return self._configuration(request, v1=True)

    def _configuration(self, request: Request, *, v1: bool) -> Response:
        tenant = request.path_params["tenant"]
        try:
            check_tenant(tenant, self.identity.config, error="invalid_tenant")
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        document = openid_configuration(
            service_origin(request),
            tenant,
            self.identity.config.tenant_id,
            v1=v1,
        )
        return JSONResponse(document)

    async def instance(self, request: Request) -> Response:
        try:
            document = instance_discovery(
                service_origin(request), request.query_params.get("authorization_endpoint")
            )
        except OAuthError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(document)

    async def keys_v2(self, request: Request) -> Response:
        tenant_id = self.identity.config.tenant_id
        named = issuer(service_origin(request), tenant_id, v1=False)
        return JSONResponse(self.identity.signing_key.jwks(named))

    async def keys_v1(self, request: Request) -> Response:
        return JSONResponse(self.identity.signing_key.jwks())

    async def userinfo(self, request: Request) -> Response:
        """Who the bearer token's user is (Graph serves this at graph.microsoft.com)."""

        async def handle() -> Response:
            principal = self.identity.principal(request.headers.get("authorization"))
            if principal.user is None:
                raise unauthorized("An app-only token has no user to describe.")
            person = self.identity.person(principal.user)
            return JSONResponse(
                {
                    "sub": pairwise_subject(person.oid, principal.client_id),
                    "name": person.name,
                    "email": person.upn,
                }
            )

        return await answer(request, handle)
