"""The egress guard: decides, before any socket opens, whether a request may carry the token.

A request may go only to the connection's Graph origin (scheme, host and port exactly) and under
its base path. Plain http is accepted only for loopback hosts (the local Graph service).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

import httpx2

from mscal.errors import EgressError

# Headers an operation or a caller may never set: credentials and framing belong to the runtime.
FORBIDDEN_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
    }
)
ALLOWED_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Characters that some parsers fold into "." after normalisation (full-width dot and friends).
_DOT_LIKE = str.maketrans({"\uff0e": ".", "\u3002": ".", "\uff61": ".", "\u2024": "."})
_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True)
class Origin:
    """Where a connection's requests may go."""

    scheme: str
    host: str
    port: int
    base_path: str

    @classmethod
    def from_base_url(cls, base_url: str) -> Origin:
        try:
            url = httpx2.URL(base_url)
        except (httpx2.InvalidURL, TypeError) as exc:
            raise EgressError(f"base URL {base_url!r} is not a valid URL: {exc}") from None
        if url.scheme not in {"https", "http"} or not url.host:
            raise EgressError(f"base URL {base_url!r} must be an absolute https URL")
        if url.userinfo or url.query or url.fragment:
            raise EgressError("base URL must not carry credentials, a query or a fragment")
        if url.scheme == "http" and not is_loopback(url.host):
            raise EgressError(
                f"base URL {base_url!r} uses plain http; only https is allowed, "
                "except for a loopback address such as the local Graph service"
            )
        port = url.port or (443 if url.scheme == "https" else 80)
        return cls(url.scheme, url.host.lower(), port, url.path.rstrip("/"))

    def join(self, path: str) -> str:
        """The absolute URL of a path under the base path (the path is checked first)."""
        check_path(path)
        default_port = 443 if self.scheme == "https" else 80
        netloc = _bracket(self.host) + ("" if self.port == default_port else f":{self.port}")
        return f"{self.scheme}://{netloc}{self.base_path}{path}"

    def contains(self, url: httpx2.URL) -> bool:
        port = url.port or (443 if url.scheme == "https" else 80)
        if (url.scheme, (url.host or "").lower(), port) != (self.scheme, self.host, self.port):
            return False
        if url.userinfo:
            return False
        raw_path = url.raw_path.decode("ascii", "replace").split("?", 1)[0]
        return raw_path == self.base_path or raw_path.startswith(self.base_path + "/")


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def check_path(path: str) -> None:
    """A path suffix must be relative to the base path and stay under it."""
    if not path.startswith("/") or path.startswith("//"):
        raise EgressError(
            f"{_shown(path)} must be a path after the base URL, starting with a single /"
        )
    if _CONTROL.search(path) or "\\" in path:
        raise EgressError(f"{_shown(path)} contains a control character or a backslash")
    decoded = path.split("?", 1)[0].split("#", 1)[0]
    # Decode repeatedly: %252e%252e is '..' to a server that decodes twice.
    for _ in range(4):
        normalised = unicodedata.normalize("NFKC", decoded).translate(_DOT_LIKE)
        segments = normalised.replace("\\", "/").split("/")
        if any(segment in {".", ".."} for segment in segments):
            raise EgressError(f"{_shown(path)} climbs out of its path with '..' or '.'")
        if _CONTROL.search(normalised):
            raise EgressError(f"{_shown(path)} contains an encoded control character")
        undecoded, decoded = decoded, unquote(decoded)
        if undecoded == decoded:
            break


def check_url(url: str | httpx2.URL, origin: Origin) -> httpx2.URL:
    """A full URL (e.g. an @odata.nextLink) must be on the origin and under its base path."""
    text = str(url)
    if _CONTROL.search(text) or "\\" in text:
        raise EgressError("link contains a control character or a backslash")
    try:
        parsed = httpx2.URL(text)
    except httpx2.InvalidURL as exc:
        raise EgressError(f"link is not a valid URL: {exc}") from None
    if not origin.contains(parsed):
        raise EgressError(
            f"link to {parsed.scheme}://{parsed.host}:{parsed.port or ''} is not on the "
            f"connection's Graph host {origin.host} under {origin.base_path or '/'}"
        )
    check_path(parsed.raw_path.decode("ascii", "replace")[len(origin.base_path) :] or "/")
    return parsed


def check_upload_url(url: str, origin: Origin) -> httpx2.URL:
    """An upload URL Graph handed out: another host is expected, but it gets no credentials and
    must be https (plain http only for loopback, when the connection itself is local)."""
    if not isinstance(url, str) or _CONTROL.search(url) or "\\" in url:
        raise EgressError("the upload URL is missing or contains a control character")
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL as exc:
        raise EgressError(f"the upload URL is not a valid URL: {exc}") from None
    if parsed.userinfo or not parsed.host:
        raise EgressError("the upload URL must be absolute and carry no credentials")
    local = origin.scheme == "http" and is_loopback(origin.host) and is_loopback(parsed.host)
    if parsed.scheme != "https" and not (parsed.scheme == "http" and local):
        raise EgressError(f"refused to upload over {parsed.scheme}: only https is allowed")
    return parsed


def check_method(method: str) -> str:
    upper = method.upper()
    if upper not in ALLOWED_METHODS:
        raise EgressError(f"method {method!r} is not one of {', '.join(sorted(ALLOWED_METHODS))}")
    return upper


def check_headers(headers: dict[str, str]) -> None:
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise EgressError(f"header name {name!r} is not a valid HTTP header name")
        if name.lower() in FORBIDDEN_HEADERS:
            raise EgressError(f"header {name!r} is set by the connection and cannot be given")
        if _CONTROL.search(value.replace("\t", "")):
            raise EgressError(f"header {name!r} contains a control character")


def _shown(path: str) -> str:
    return repr(path if len(path) <= 80 else path[:77] + "...")
