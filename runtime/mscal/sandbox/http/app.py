"""The service's ASGI app: Graph under /v1.0 (with $batch), the identity platform, upload
sessions and the /_sandbox administration, as one Starlette route list."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from mscal.sandbox.domain.tenant import Tenant
from mscal.sandbox.http.admin import AdminEndpoints
from mscal.sandbox.http.batch import BatchEndpoint
from mscal.sandbox.http.device_login import DeviceLoginEndpoints
from mscal.sandbox.http.discovery import DiscoveryEndpoints
from mscal.sandbox.http.envelope import no_route
from mscal.sandbox.http.faults import Faults
from mscal.sandbox.http.graph import GraphEndpoint
from mscal.sandbox.http.identity import IdentityEndpoints
from mscal.sandbox.http.notification_admin import NotificationAdmin
from mscal.sandbox.http.resources.attachments import UploadEndpoint
from mscal.sandbox.http.resources.table import graph_table
from mscal.sandbox.http.wire_guard import REQUEST_SECONDS, WireGuard
from mscal.sandbox.identity.platform import Identity
from mscal.sandbox.notifications.delivery import Notifier

# Every method reaches the handlers, so one Graph does not serve on a path is a 405 in Graph's
# envelope with an `Allow` header (never the web framework's plain-text answer).
_METHODS = ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "TRACE"]


def build_app(
    tenant: Tenant, identity: Identity, faults: Faults, request_seconds: float = REQUEST_SECONDS
) -> Starlette:
    notifier = Notifier(tenant.store, tenant.subscriptions)
    tenant.subscriptions.on_added.append(notifier.enable)
    batch = BatchEndpoint(identity, faults)
    graph = GraphEndpoint(tenant, identity, faults, graph_table())
    upload = UploadEndpoint(tenant.attachments)
    app = Starlette(
        routes=[
            Route("/v1.0/$batch", batch.endpoint, methods=["POST"]),
            Route("/v1.0/{path:path}", graph.endpoint, methods=_METHODS),
            *IdentityEndpoints(identity, tenant.directory).routes(),
            *DiscoveryEndpoints(identity).routes(),
            *DeviceLoginEndpoints(identity).routes(),
            Route("/upload/{token}", upload.endpoint, methods=_METHODS),
            *AdminEndpoints(faults, identity, tenant.delta).routes(),
            *NotificationAdmin(notifier, tenant.subscriptions).routes(),
            Route("/{path:path}", no_route, methods=_METHODS),
        ],
        # Body size, strict JSON, the time limit and Graph's envelope for every answer.
        middleware=[Middleware(WireGuard, request_seconds=request_seconds)],
    )
    batch.app = app  # a batch's inner requests go through this same app
    app.state.notifier = notifier
    return app
