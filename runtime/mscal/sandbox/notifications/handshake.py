"""Graph's validation of a notification (or lifecycle) URL: a POST with `?validationToken=…`
that must be answered 200 `text/plain` with the decoded token within 10 seconds. The local
service only calls loopback addresses: it never reaches out to the network."""

from __future__ import annotations

import ipaddress
import secrets
from urllib.parse import urlsplit

import httpx2

from mscal.sandbox.errors import bad_request

VALIDATION_SECONDS = 10.0
_client: httpx2.Client | None = None


def validation_client() -> httpx2.Client:
    """One client for every validation request of the process (no redirects followed)."""
    global _client  # noqa: PLW0603 -- one pooled client, made on first use
    if _client is None:
        _client = httpx2.Client(timeout=VALIDATION_SECONDS, follow_redirects=False)
    return _client


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def validate(client: httpx2.Client, url: str, what: str) -> None:
    """Ask `url` to echo a validation token, as Graph does before it creates a subscription."""
    if not is_loopback(url):
        raise bad_request(
            f"Subscription validation request failed: the local service only calls loopback "
            f"addresses, and {what} is {urlsplit(url).hostname or url!r}.",
            "ValidationError",
        )
    # Graph's tokens are text with spaces and colons: the endpoint must decode the query.
    token = f"Validation: Testing client application reachability {secrets.token_hex(8)}"
    try:
        answer = client.post(
            url,
            params={"validationToken": token},
            headers={"Content-Type": "text/plain; charset=utf-8"},
            timeout=VALIDATION_SECONDS,
        )
    except httpx2.HTTPError as exc:
        raise bad_request(
            f"Subscription validation request failed: {what} did not answer "
            f"({type(exc).__name__}).",
            "ValidationError",
        ) from None
    content_type = answer.headers.get("content-type", "")
    if answer.status_code != 200 or not content_type.startswith("text/plain"):
        raise bad_request(
            f"Subscription validation request failed. {what} must respond with 200 OK and "
            f"text/plain to the validation request (it answered {answer.status_code}, "
            f"{content_type or 'no content type'}).",
            "ValidationError",
        )
    if answer.text != token:
        raise bad_request(
            f"Subscription validation request failed: {what} must answer the decoded "
            "validationToken as it was sent.",
            "ValidationError",
        )
