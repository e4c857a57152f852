"""The identity platform as the spec declares it: endpoint templates rendered with an
authentication's values, and token-endpoint refusals turned into advice."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2

from mscal.call.guard import Origin
from mscal.errors import AuthError
from mscal.spec.load import Spec
from mscal.templates.render import Templates, render


@dataclass(frozen=True)
class OAuthEndpoints:
    """The identity platform's URLs and token parameters for one authentication's values."""

    authorize_url: str
    token_url: str
    device_code_url: str
    token_params: dict[str, str]
    client_auth_method: str


def oauth_endpoints(spec: Spec, values: Mapping[str, Any]) -> OAuthEndpoints:
    """Render the spec's OAuth 2.0 templates with the form's values (plus `resource`, rendered
    first from the spec's `oauth2.resource`)."""
    oauth = spec.oauth2
    Origin.from_base_url(str(values["authority_host"]))  # https (or loopback http) only
    context: dict[str, Any] = {
        **{f.key: None for f in spec.auth_fields if not f.secret},
        **values,
        "resource": None,
    }
    templates = Templates({})
    if "resource" in oauth:  # what the token is for, from the form (never where requests go)
        context["resource"] = render(templates.value(oauth["resource"]), context)
    params = token_params_for(oauth["token_params"], values)
    return OAuthEndpoints(
        authorize_url=str(render(templates.value(oauth["authorize_url"]), context)),
        token_url=str(render(templates.value(oauth["token_url"]), context)),
        device_code_url=(
            str(render(templates.value(oauth["device_code_url"]), context))
            if "device_code_url" in oauth  # an identity platform may have no device flow
            else ""
        ),
        token_params={k: str(v) for k, v in render(templates.value(params), context).items()},
        client_auth_method=str(oauth["token_endpoint_auth_method"]),
    )


def token_params_for(cases: Sequence[Mapping[str, Any]], values: Mapping[str, Any]) -> Any:
    """The parameters of the first case whose `when` the form's values all match."""
    for case in cases:
        if all(values.get(key) == wanted for key, wanted in case["when"].items()):
            return case["params"]
    shown = {key: values.get(key) for case in cases for key in case["when"]}
    raise AuthError(f"the spec's oauth2.token_params has no case for {shown}")


@contextlib.contextmanager
def token_errors(advice: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Token endpoint failures as AuthErrors that carry the platform's reason (and, for a code
    the spec's `authentication.advice` knows, what to do), never a secret."""
    # Imported when a token request is made, not when a call only reads a fresh token.
    # authlib sends through httpx (not httpx2): its transport errors are caught too.
    import httpx  # noqa: PLC0415
    from authlib.integrations.base_client import OAuthError  # noqa: PLC0415

    try:
        yield
    except OAuthError as exc:
        raise AuthError(_oauth_message(exc, advice)) from None
    except (httpx2.HTTPError, httpx.HTTPError) as exc:
        raise AuthError(f"token request failed: {type(exc).__name__}") from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # A 200 that is no token answer: an HTML page (a captive portal, a proxy's login),
        # a non-numeric expires_in, a JSON array. Its text is not shown: it may echo secrets.
        raise AuthError(
            "the token endpoint's answer is not an OAuth token response "
            f"(unreadable: {type(exc).__name__}); check the authority host and any proxy"
        ) from None


def _oauth_message(exc: Exception, advice: Mapping[str, Any] | None = None) -> str:
    error = getattr(exc, "error", None) or "token_error"
    description = (getattr(exc, "description", None) or "").split("\r\n")[0].strip()
    message = f"token request refused: {error}" + (f": {description}" if description else "")
    code = re.match(advice["code_pattern"], description) if advice else None
    tip = advice["codes"].get(code.group(1)) if advice and code else None
    return f"{message} To fix: {' '.join(tip.split())}." if tip else message
