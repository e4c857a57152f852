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

# Headers an operation or a caller may never set: credentials, framing and the connection's
# own hop-by-hop headers belong to the runtime (an Upgrade or an Expect could turn the request
# into something else on the wire).
FORBIDDEN_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "expect",
    }
)
ALLOWED_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A lone surrogate cannot be encoded at all: refuse it here rather than crash in httpx2.
_SURROGATE = re.compile("[\ud800-\udfff]")
# IIS also decodes %uXXXX escapes: %u002e%u002e is '..' there.
_WIDE_ESCAPE = re.compile(r"%u([0-9a-f]{4})", re.IGNORECASE)
# Where a segment ends for some server: '/'; ';' (path parameters: '..;' is '..' to Tomcat);
# and, once decoded, '?' or '#' (a proxy that decodes and re-parses ends the path there).
_SEGMENT_END = re.compile(r"[/;?#]")
_DECODE_ROUNDS = 4
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

    def relative(self, url: httpx2.URL) -> str:
        """A URL on this origin as its path (and query) after the base path, e.g. /me/events."""
        return url.raw_path.decode("ascii", "replace")[len(self.base_path) :]

    @property
    def may_use_env_proxy(self) -> bool:
        """See `may_use_env_proxy`: never for loopback or plain http."""
        return self.scheme == "https" and not is_loopback(self.host)

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


def may_use_env_proxy(url: str | httpx2.URL) -> bool:
    """Whether a client for `url` may take a proxy from the environment (HTTP_PROXY,
    HTTPS_PROXY, ALL_PROXY, NO_PROXY). Never for a loopback host (the local service is on this
    machine; a proxy would see its traffic) and never for plain http (a proxy would read the
    token): both are the same set, since plain http is accepted only for loopback."""
    parsed = httpx2.URL(str(url))
    return parsed.scheme == "https" and not is_loopback(parsed.host)


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def check_path(path: str) -> None:
    """A path suffix must be relative to the base path and stay under it."""
    if not path.startswith("/") or path.startswith("//"):
        raise EgressError(
            f"{_shown(path)} must be a path after the base URL, starting with a single /"
        )
    if _unsendable(path):
        raise EgressError(
            f"{_shown(path)} contains a control character, a backslash or a lone surrogate"
        )
    decoded = path.split("?", 1)[0].split("#", 1)[0]
    # Decode repeatedly: %252e%252e is '..' to a server that decodes twice.
    for _ in range(_DECODE_ROUNDS):
        normalised = unicodedata.normalize("NFKC", decoded).translate(_DOT_LIKE)
        segments = _SEGMENT_END.split(normalised.replace("\\", "/"))
        if any(segment in {".", ".."} for segment in segments):
            raise EgressError(f"{_shown(path)} climbs out of its path with '..' or '.'")
        if _CONTROL.search(normalised):
            raise EgressError(f"{_shown(path)} contains an encoded control character")
        undecoded, decoded = decoded, _decode(decoded, path)
        if undecoded == decoded:
            return
    # Still changing after every round: refuse rather than guess what a server decodes to.
    raise EgressError(f"{_shown(path)} is percent-encoded too many times over")


def _decode(text: str, path: str) -> str:
    """One round of percent-decoding, as the most lenient server would do it."""
    text = _WIDE_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        # Escapes that are not UTF-8: an old decoder reads the overlong %c0%ae as '.'.
        raise EgressError(f"{_shown(path)} has percent-escapes that are not UTF-8") from None


def _unsendable(text: str) -> bool:
    return bool(_CONTROL.search(text) or "\\" in text or _SURROGATE.search(text))


def check_url(url: str | httpx2.URL, origin: Origin) -> httpx2.URL:
    """A full URL (e.g. an @odata.nextLink) must be on the origin and under its base path."""
    text = str(url)
    if _unsendable(text):
        raise EgressError("link contains a control character, a backslash or a lone surrogate")
    try:
        parsed = httpx2.URL(text)
    except httpx2.InvalidURL as exc:
        raise EgressError(f"link is not a valid URL: {exc}") from None
    if not origin.contains(parsed):
        raise EgressError(
            f"link to {parsed.scheme}://{parsed.host}:{parsed.port or ''} is not on the "
            f"connection's Graph host {origin.host} under {origin.base_path or '/'}"
        )
    check_path(origin.relative(parsed) or "/")
    return parsed


def check_upload_url(url: str, origin: Origin) -> httpx2.URL:
    """An upload URL Graph handed out: another host is expected, but it gets no credentials and
    must be https (plain http only for loopback, when the connection itself is local)."""
    if not isinstance(url, str) or _unsendable(url):
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
        # fullmatch, not match: '$' also matches before a final newline, which let "X-A\n" by.
        if not _HEADER_NAME.fullmatch(name):
            raise EgressError(f"header name {name!r} is not a valid HTTP header name")
        if name.lower() in FORBIDDEN_HEADERS:
            raise EgressError(f"header {name!r} is set by the connection and cannot be given")
        # httpx2 encodes header values as ASCII: anything else would crash it, not be refused.
        if _CONTROL.search(value.replace("\t", "")) or not value.isascii():
            raise EgressError(f"header {name!r} contains a control or non-ASCII character")


def _shown(path: str) -> str:
    return repr(path if len(path) <= 80 else path[:77] + "...")
