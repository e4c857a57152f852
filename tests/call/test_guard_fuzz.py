"""The egress guard holds against known bypass shapes and fuzzed input.

Requests may go only to the authentication's Graph origin (scheme, host and port) under its
base path, and only those carry the token. Every request the runtime sends here reaches a
recording MockTransport, and is judged the way the most lenient server in front of Graph could
read its path: percent-decoded repeatedly (IIS's %uXXXX and overlong UTF-8 too), Unicode folded
(NFKC, dot look-alikes), backslashes as slashes, `;params` dropped, dot segments resolved, and,
after a decoding, `?`/`#` cutting the path as a proxy that re-parses it would. A request is
contained when every such reading stays under the base path.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

import mscal
from mscal.call.guard import (
    ALLOWED_METHODS,
    FORBIDDEN_HEADERS,
    Origin,
    check_method,
    check_path,
    check_url,
)
from mscal.io.session import Session
from tests.conftest import CANARY_TOKEN

# 1,000 examples per property, fast: one connector and one session per origin for the module.
FUZZ = settings(
    max_examples=1000,
    deadline=None,
    database=None,  # nothing written into the repository; a failure prints its reproduction blob
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Target:
    """An authentication's base URL and the origin and base path it allows."""

    name: str
    base_url: str
    scheme: str
    host: str
    port: int
    base_path: str

    @property
    def first_page(self) -> str:
        return f"{self.base_url}/me/events"


GRAPH_URL = "https://graph.microsoft.com/v1.0"
TARGETS = [
    Target("graph", GRAPH_URL, "https", "graph.microsoft.com", 443, "/v1.0"),
    # Plain http with a port: only loopback may, and the port must match exactly.
    Target("loopback", "http://127.0.0.1:8765/v1.0", "http", "127.0.0.1", 8765, "/v1.0"),
    Target("loopback-ipv6", "http://[::1]:8765/v1.0", "http", "::1", 8765, "/v1.0"),
]


@dataclass
class Recorder:
    """A MockTransport handler: records every request; a server-given next link on page one."""

    requests: list[httpx2.Request] = field(default_factory=list)
    next_link: str | None = None

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self.next_link is not None and len(self.requests) == 1:
            return httpx2.Response(200, json={"value": [1], "@odata.nextLink": self.next_link})
        return httpx2.Response(200, json={"value": []})


class Wired:
    """One origin's session and its recorder (not a dataclass: its repr stays one line in
    Hypothesis's falsifying-example reports)."""

    def __init__(self, target: Target, session: Session, recorder: Recorder) -> None:
        self.target = target
        self.session = session
        self.recorder = recorder

    def __repr__(self) -> str:
        return f"Wired({self.target.name})"

    def attempt(
        self, operation: str, inputs: dict[str, Any], *, next_link: str | None = None
    ) -> tuple[mscal.ConnectorError | None, list[httpx2.Request]]:
        """Run once; return the refusal (if any) and every request that reached the transport.

        Only a ConnectorError counts as a refusal: anything else (a crash inside httpx2, say)
        propagates and fails the test, since a refusal must be typed and name its field."""
        self.recorder.requests = []
        self.recorder.next_link = next_link
        try:
            self.session.run(operation, inputs)
        except mscal.ConnectorError as exc:
            _tally(f"refused: {type(exc).__name__}")
            return exc, self.recorder.requests
        _tally(f"sent {len(self.recorder.requests)}")
        return None, self.recorder.requests


def _tally(outcome: str) -> None:
    # Shown by --hypothesis-show-statistics: a useful fuzz both refuses and sends.
    if currently_in_test_context():
        event(outcome)


@pytest.fixture(scope="module")
def wired() -> Iterator[dict[str, Wired]]:
    connector = mscal.load_connector()
    sessions: dict[str, Wired] = {}
    for target in TARGETS:
        auth = connector.authentication({"base_url": target.base_url}, access_token=CANARY_TOKEN)
        recorder = Recorder()
        session = connector.session(auth, transport=httpx2.MockTransport(recorder))
        sessions[target.name] = Wired(target, session, recorder)
    yield sessions
    for each in sessions.values():
        each.session.close()


# --- How a lenient server could read a path --------------------------------------------------

_ESCAPE = re.compile(r"%[uU]([0-9A-Fa-f]{4})|%([0-9A-Fa-f]{2})")
_DOT_LIKES = str.maketrans(
    {"\uff0e": ".", "\u3002": ".", "\uff61": ".", "\u2024": ".", "\ufe52": ".", "\\": "/"}
)
_OUTSIDE = "<still changing after 8 decodings>"


def _utf8_width(lead: int) -> int:
    if lead < 0x80:
        return 1
    if 0xC0 <= lead < 0xE0:
        return 2
    if 0xE0 <= lead < 0xF0:
        return 3
    return 4 if 0xF0 <= lead < 0xF8 else 0


def _lenient_utf8(data: bytes) -> str:
    """UTF-8 as an old decoder reads it: overlong forms accepted (%c0%ae is '.')."""
    chars: list[str] = []
    i = 0
    while i < len(data):
        width = _utf8_width(data[i])
        tail = data[i + 1 : i + width]
        if width == 0 or len(tail) != width - 1 or any(b & 0xC0 != 0x80 for b in tail):
            chars.append("\ufffd")
            i += 1
            continue
        point = data[i] if width == 1 else data[i] & (0x7F >> width)
        for b in tail:
            point = (point << 6) | (b & 0x3F)
        chars.append(chr(point) if point <= 0x10FFFF else "\ufffd")
        i += width
    return "".join(chars)


def _lenient_unquote(text: str) -> str:
    """One round of percent-decoding, %uXXXX included (IIS)."""
    out = bytearray()
    pos = 0
    for match in _ESCAPE.finditer(text):
        out += text[pos : match.start()].encode("utf-8", "surrogatepass")
        if match.group(1):
            out += chr(int(match.group(1), 16)).encode("utf-8", "surrogatepass")
        else:
            out.append(int(match.group(2), 16))
        pos = match.end()
    out += text[pos:].encode("utf-8", "surrogatepass")
    return _lenient_utf8(bytes(out))


def _resolved(path: str) -> str:
    """Unicode folded, then dot segments resolved (a `;param` does not hide a '..')."""
    folded = unicodedata.normalize("NFKC", path).translate(_DOT_LIKES)
    kept: list[str] = []
    for segment in folded.split("/")[1:]:
        bare = segment.split(";", 1)[0]
        if bare == "..":
            if kept:
                kept.pop()
        elif bare != ".":
            kept.append(segment)
    return "/" + "/".join(kept)


def server_views(raw_path: str) -> list[str]:
    """Every path a lenient server could route `raw_path` (no query) to."""
    views = [_resolved(raw_path)]
    current = raw_path
    for _ in range(8):
        decoded = _lenient_unquote(current)
        if decoded == current:
            return views
        current = decoded
        views.append(_resolved(current))
        # A proxy that decodes and re-parses sees a decoded '?' or '#' end the path.
        views.append(_resolved(re.split(r"[?#]", current, maxsplit=1)[0]))
    return [*views, _OUTSIDE]


def under(base_path: str, view: str) -> bool:
    return view == base_path or view.startswith(base_path + "/")


def assert_contained(requests: list[httpx2.Request], target: Target) -> None:
    """Each request: exactly the origin, no userinfo, under the base path, the token once."""
    for request in requests:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        assert (url.scheme, url.host, port) == (target.scheme, target.host, target.port), url
        assert not url.userinfo, url
        raw_path = url.raw_path.decode("ascii").split("?", 1)[0]
        outside = [view for view in server_views(raw_path) if not under(target.base_path, view)]
        assert not outside, f"{url} can be read as {outside}"
        assert request.headers.get_list("Authorization") == [f"Bearer {CANARY_TOKEN}"]


def test_the_server_model_sees_through_known_encodings() -> None:
    """The judge must be able to fail: each of these raw paths escapes /v1.0 for some server."""
    escaping = [
        "/v1.0/../beta",
        "/v1.0/%2e%2e/beta",
        "/v1.0/%2E%2e/beta",
        "/v1.0/%252e%252e/beta",
        "/v1.0/%25252e%25252e/beta",
        "/v1.0/%c0%ae%c0%ae/beta",
        "/v1.0/%e0%80%ae%e0%80%ae/beta",
        "/v1.0/me%c0%af..%c0%af..%c0%afbeta",
        "/v1.0/%u002e%u002e/beta",
        "/v1.0/%25u002e%25u002e/beta",
        "/v1.0/..;/beta",
        "/v1.0/%ef%bc%8e%ef%bc%8e/beta",
        "/v1.0/%e2%80%a5/beta",
        "/v1.0%5c..%5cbeta",
        "/v1.0/%2e%2e%3f",
        "/v1.0/%2e%2e%23",
        "/v1.0/" + ("%" + "25" * 9 + "2e") * 2,  # ten decodings deep
    ]
    for raw_path in escaping:
        assert not all(under("/v1.0", view) for view in server_views(raw_path)), raw_path
    staying = ["/v1.0", "/v1.0/me", "/v1.0/me/../x", "/v1.0/%zz", "/v1.0/a..b", "/v1.0/..."]
    for raw_path in staying:
        assert all(under("/v1.0", view) for view in server_views(raw_path)), raw_path


# --- Curated bypass shapes for the raw request's endpoint ------------------------------------

# Each is refused with an InputError naming `endpoint`, before anything reaches the transport.
REFUSED_ENDPOINTS = [
    # absolute URLs, other schemes, scheme-relative, userinfo, IP literals
    "https://evil.example/v1.0/me",
    "http://graph.microsoft.com/v1.0/me",
    "https://graph.microsoft.com.evil.example/v1.0/me",
    "https://evilgraph.microsoft.com/v1.0/me",
    "https://graph.microsoft.com@evil.example/v1.0/me",
    "https://graph.microsoft.com:443@evil.example/v1.0/me",
    "HTTPS://EVIL.EXAMPLE/v1.0/me",
    "https:evil.example/v1.0/me",
    "https:/evil.example/v1.0/me",
    "ftp://evil.example/me",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "//evil.example/me",
    "///evil.example/me",
    "//graph.microsoft.com.evil.example/v1.0/me",
    "//user:pass@evil.example/me",
    "//evil.example:443/me",
    "//127.0.0.1/me",
    "//[::1]/me",
    "//[::ffff:7f00:1]/me",
    "//2130706433/me",
    "//0x7f.0.0.1/me",
    "@evil.example/me",
    "evil.example/me",
    "graph.microsoft.com/v1.0/me",
    ".evil.example/me",
    " /me",
    # backslashes, raw
    "/\\evil.example/me",
    "\\\\evil.example\\me",
    "/me\\..\\..\\beta",
    "/me\\events",
    # dot segments, plain
    "/..",
    "/.",
    "/../beta/me",
    "/me/../../beta",
    "/me/..",
    "/me/../",
    "/me/./x",
    "/me/../../../../etc/passwd",
    "/v1.0/../beta/me",
    "/me/..?x=1",
    "/me/..#x",
    # dot segments, percent-encoded (any case, mixed with plain dots, slashes encoded too)
    "/%2e%2e/beta",
    "/%2E%2E/beta",
    "/%2e%2E/beta",
    "/.%2e/beta",
    "/%2e./beta",
    "/me/%2e/x",
    "/me%2f..%2f..%2fbeta",
    "/me%2F%2E%2E%2F%2E%2E%2Fbeta",
    "/me/..%2fbeta",
    "/me/..%5cbeta",
    "/me%5c..%5c..%5cbeta",
    # encoded again and again
    "/%252e%252e/beta",
    "/%252E%252E/beta",
    "/%25252e%25252e/beta",
    "/%2525252e%2525252e/beta",
    "/" + ("%" + "25" * 6 + "2e") * 2 + "/beta",
    "/me%252f..%252fbeta",
    "/%%32%65%%32%65/beta",
    "/%2%65%2%65/beta",
    # overlong UTF-8 and IIS %u escapes
    "/%c0%ae%c0%ae/beta",
    "/%C0%AE%C0%AE/beta",
    "/%e0%80%ae%e0%80%ae/beta",
    "/%f0%80%80%ae%f0%80%80%ae/beta",
    "/me%c0%af..%c0%af..%c0%afbeta",
    "/me%c1%9c..%c1%9cbeta",
    "/%u002e%u002e/beta",
    "/%U002E%U002E/beta",
    "/me%u002f..%u002fbeta",
    "/%25u002e%25u002e/beta",
    # full-width and other dots and slashes Unicode folds to ASCII
    "/\uff0e\uff0e/beta",
    "/%ef%bc%8e%ef%bc%8e/beta",
    "/.\uff0e/beta",
    "/\u3002\u3002/beta",
    "/\uff61\uff61/beta",
    "/\u2024\u2024/beta",
    "/\u2025/beta",
    "/%e2%80%a5/beta",
    "/\ufe52\ufe52/beta",
    "/me\uff0f..\uff0fbeta",
    "/me\uff3c..\uff3cbeta",
    # path parameters and decoded query/fragment markers that end a dot segment
    "/..;/beta",
    "/me/..;x=1/..;/beta",
    "/.;/me",
    "/%2e%2e;/beta",
    "/%2e%2e%3f",
    "/%2e%2e%23",
    "/%2e%2e%3bx/beta",
    # CR, LF, NUL and other controls, raw and encoded
    "/me\r\nHost: evil.example",
    "/me\nX: y",
    "/me\rX: y",
    "/me HTTP/1.1\r\nHost: evil.example\r\n\r\nGET /",
    "/me\x00",
    "/me\x00.evil.example",
    "/me\t/x",
    "/me\x0b",
    "/me\x7f",
    "/me%0d%0aHost:%20evil.example",
    "/me%0D%0A",
    "/me%00",
    "/me%2500",
    "/me%09",
]

# Odd but harmless: sent, on the origin, and still under the base path for any server.
SENT_ENDPOINTS = [
    "/me",
    "/me/calendars",
    "/me/events?$filter=subject eq 'a/../b'",
    "/me?next=https://evil.example/v1.0",
    "/me?/../../beta",
    "/me#/../../beta",
    "/me#@evil.example",
    "/me/@evil.example",
    "/users/adele@evil.example/events",
    "/graph.microsoft.com.evil.example/me",
    "/me:443",
    "/me/events/AAMkAGI2%2FTG93AAA%3D",
    "/me/...",
    "/me/.hidden",
    "/me/a..b",
    "/me/%zz",
    "/me/100%",
    "/me/\u00e9v\u00e9nement",
    "/me/\u2028",
]

# Judged by the server model only: refusing them or sending them contained are both fine.
JUDGED_ENDPOINTS = ["/me/.. ", "/me/..%20", "/me/\u200b..", "/me/.\u200b.", "/me/%2e%2e%2e"]


def test_the_curated_list_is_large_and_distinct() -> None:
    assert len(REFUSED_ENDPOINTS) >= 60
    every = REFUSED_ENDPOINTS + SENT_ENDPOINTS + JUDGED_ENDPOINTS
    assert len(set(every)) == len(every)


@pytest.mark.parametrize("endpoint", REFUSED_ENDPOINTS)
def test_the_guard_itself_refuses_every_bypass_shape(endpoint: str) -> None:
    # Many shapes are also stopped by the raw request's schema (pattern ^/); the guard checks
    # every operation's rendered path and must hold without that schema's help.
    with pytest.raises(mscal.EgressError):
        check_path(endpoint)


@pytest.mark.parametrize("target", TARGETS[:2], ids=lambda t: t.name)
@pytest.mark.parametrize("endpoint", REFUSED_ENDPOINTS)
def test_bypass_shapes_are_refused_before_anything_is_sent(
    wired: dict[str, Wired], target: Target, endpoint: str
) -> None:
    refusal, sent = wired[target.name].attempt("raw_http_request", {"endpoint": endpoint})
    assert isinstance(refusal, mscal.InputError), refusal
    assert refusal.field == "endpoint"
    assert sent == []


@pytest.mark.parametrize("target", TARGETS[:2], ids=lambda t: t.name)
@pytest.mark.parametrize("endpoint", SENT_ENDPOINTS)
def test_harmless_odd_endpoints_are_sent_contained(
    wired: dict[str, Wired], target: Target, endpoint: str
) -> None:
    refusal, sent = wired[target.name].attempt("raw_http_request", {"endpoint": endpoint})
    assert refusal is None
    assert len(sent) == 1
    assert_contained(sent, target)


@pytest.mark.parametrize("endpoint", JUDGED_ENDPOINTS)
def test_borderline_endpoints_are_refused_or_contained(
    wired: dict[str, Wired], endpoint: str
) -> None:
    refusal, sent = wired["graph"].attempt("raw_http_request", {"endpoint": endpoint})
    if refusal is not None:
        assert sent == []
    assert_contained(sent, TARGETS[0])


# A lone surrogate (JSON input can hold one) cannot be encoded, so it can never be sent. The
# guard refuses it, and so do the steps before it (the uri format check, the search for the
# input to blame), as a typed error rather than a UnicodeEncodeError.
SURROGATE_INPUTS = [
    ("raw_http_request", {"endpoint": "/me/\ud800"}),
    ("list_events", {"next_link": "https://graph.microsoft.com/v1.0/me/\ud800"}),
]


def test_the_guard_refuses_lone_surrogates() -> None:
    with pytest.raises(mscal.EgressError, match="surrogate"):
        check_path("/me/\ud800")
    with pytest.raises(mscal.EgressError, match="surrogate"):
        check_url("https://graph.microsoft.com/v1.0/me/\ud800", Origin.from_base_url(GRAPH_URL))


@pytest.mark.parametrize(("operation", "inputs"), SURROGATE_INPUTS)
def test_a_lone_surrogate_is_never_sent(
    wired: dict[str, Wired], operation: str, inputs: dict[str, Any]
) -> None:
    each = wired["graph"]
    each.recorder.requests = []
    with pytest.raises((mscal.ConnectorError, UnicodeEncodeError)):
        each.session.run(operation, inputs)
    assert each.recorder.requests == []


@pytest.mark.parametrize(("operation", "inputs"), SURROGATE_INPUTS)
def test_a_lone_surrogate_is_refused_as_an_input_error(
    wired: dict[str, Wired], operation: str, inputs: dict[str, Any]
) -> None:
    refusal, sent = wired["graph"].attempt(operation, inputs)
    assert isinstance(refusal, mscal.InputError | mscal.PagingError)
    assert sent == []


# --- Fuzz: endpoints -------------------------------------------------------------------------

DANGEROUS = [
    "/", "//", ".", "..", "%2e", "%2E", "%2f", "%2F", "%5c", "%5C", "%25", "%252e", "%c0%ae",
    "%c0%af", "%u002e", "%", "\\", "@", ":", ";", "?", "#", "%3f", "%23", "%3b", "%00", "%0d",
    "%0a", "\x00", "\r", "\n", "\t", " ", "\uff0e", "\u3002", "\u2025", "\uff0f", "\uff3c",
    "graph.microsoft.com", "evil.example", "http:", "https:", "127.0.0.1", "[::1]",
    ":443", ":8765", "v1.0", "beta", "me", "events", "~",
    # whole dot segments in each disguise, so a bypass needs few draws to assemble
    "../", "/..", "..;", "%2e%2e", "%c0%ae%c0%ae", "%u002e%u002e", "%252e%252e", "\uff0e\uff0e",
]  # fmt: skip
# Mostly the characters paths are made of, sometimes any Unicode at all.
_PLAIN = st.text(alphabet=string.ascii_letters + string.digits + "-_.~=,'()$!*+", max_size=6)
_PIECE = st.one_of(
    st.sampled_from(DANGEROUS),
    _PLAIN,
    st.text(max_size=3),
    st.integers(min_value=0, max_value=99999).map(str),
)
_FUZZED = st.lists(_PIECE, min_size=1, max_size=12).map("".join)
# Most start with one '/' so they get past the schema's pattern and test the guard itself.
ENDPOINTS = st.one_of(_FUZZED.map(lambda s: "/" + s), _FUZZED)


@FUZZ
@given(endpoint=ENDPOINTS, target=st.sampled_from(TARGETS))
def test_fuzzed_endpoints_never_leave_the_origin_or_the_base_path(
    wired: dict[str, Wired], endpoint: str, target: Target
) -> None:
    refusal, sent = wired[target.name].attempt("raw_http_request", {"endpoint": endpoint})
    if refusal is not None:
        assert isinstance(refusal, mscal.InputError)
        assert refusal.field == "endpoint"
        assert sent == []
    else:
        assert len(sent) == 1
    assert_contained(sent, target)


# --- Methods: the raw request's schema lists five; the guard refuses the rest for every
# operation, whatever its template renders.


@pytest.mark.parametrize(
    "method",
    ["TRACE", "CONNECT", "OPTIONS", "HEAD", "PROPFIND", "trace", "GET\r\n", "GET\r\nX: y",
     "GET /evil HTTP/1.1", "G\x00ET", " GET", "GET ", ""],
)  # fmt: skip
def test_the_guard_refuses_other_methods(method: str) -> None:
    with pytest.raises(mscal.EgressError):
        check_method(method)


def test_the_guard_sends_the_five_methods_in_their_canonical_case() -> None:
    assert {check_method(method.lower()) for method in ALLOWED_METHODS} == ALLOWED_METHODS


# --- Fuzz: headers ---------------------------------------------------------------------------

_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_FORBIDDEN_SPELLINGS = [
    spelling
    for name in sorted(FORBIDDEN_HEADERS)
    for spelling in (name, name.upper(), name.title())
]
_NAME = st.one_of(
    st.sampled_from(_FORBIDDEN_SPELLINGS),
    st.lists(
        st.one_of(
            st.sampled_from(["X-", "Prefer", "-", ":", " ", "\r", "\n", "\x00", "\t", "é", "@"]),
            _PLAIN,
            st.text(max_size=2),
        ),
        min_size=1,
        max_size=5,
    ).map("".join),
)
_VALUE = st.lists(
    st.one_of(
        st.sampled_from(["\r\n", "\r", "\n", "\x00", "\t", " ", "Host: evil.example", "é", ";"]),
        _PLAIN,
        st.text(max_size=3),
    ),
    max_size=5,
).map("".join)


@FUZZ
@given(headers=st.dictionaries(_NAME, _VALUE, min_size=1, max_size=3))
def test_fuzzed_headers_are_refused_or_sent_intact_without_overriding_the_runtime(
    wired: dict[str, Wired], headers: dict[str, str]
) -> None:
    target = TARGETS[0]
    inputs = {"endpoint": "/me", "headers": headers}
    refusal, sent = wired[target.name].attempt("raw_http_request", inputs)
    if refusal is not None:
        assert isinstance(refusal, mscal.InputError)
        assert refusal.field == "headers"
        assert sent == []
        return
    # Sent: the runtime drops empty values; every other header had a plain token name that is
    # not the runtime's, an ASCII value free of CR/LF/NUL, and went as given.
    (request,) = sent
    assert_contained(sent, target)
    assert request.headers["Host"] == target.host
    for name, value in headers.items():
        if not value:
            continue
        assert _HEADER_NAME.fullmatch(name)
        assert name.lower() not in FORBIDDEN_HEADERS
        assert value.isascii() and not re.search(r"[\r\n\x00]", value)
        assert value in request.headers.get_list(name)
    for raw_name, raw_value in request.headers.raw:
        assert not re.search(rb"[\r\n\x00]", raw_name + raw_value)


# --- Fuzz: next links, given as input and returned by the server ------------------------------

_SCHEME = st.sampled_from(["https", "http", "HTTPS", "hTtP", "ftp", "javascript", "file", ""])
_SEPARATOR = st.sampled_from(["://", "://", "://", ":/", ":", "//", ":\\\\", ":///"])
_USERINFO = st.sampled_from(["", "", "", "user@", "graph.microsoft.com@", "u:p@", "%40@", "@"])
_HOST = st.sampled_from(
    [
        "graph.microsoft.com",
        "GRAPH.Microsoft.COM",
        "graph.microsoft.com.",
        "graph.microsoft.com.evil.example",
        "evilgraph.microsoft.com",
        "graph.microsoft.co",
        "graph\uff0emicrosoft\uff0ecom",
        "graph.microsoft.com%2eevil.example",
        "graph.microsoft.com\\@evil.example",
        "127.0.0.1",
        "127.1",
        "2130706433",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "localhost",
        "evil.example",
        "",
    ]
)
_PORT = st.sampled_from(["", "", ":443", ":444", ":80", ":8765", ":8766", ":", ":0443", ":99999"])
_BASE = st.sampled_from(["/v1.0", "/v1.0/", "/V1.0", "/beta", "", "/v1.0%2f..", "/v1.0/.."])
_TAIL = st.sampled_from(["", "", "?$skiptoken=1", "#frag", "?next=https://evil.example/v1.0"])
# (on the target's origin?, text): the second kind is a fuzzed path on the target's own base
# URL, the shape most likely to be accepted, so the path checks get exercised too.
LINKS = st.one_of(
    st.tuples(_SCHEME, _SEPARATOR, _USERINFO, _HOST, _PORT, _BASE, _FUZZED, _TAIL).map(
        lambda parts: (False, "".join(parts))
    ),
    st.tuples(_FUZZED, _TAIL).map(lambda parts: (True, "".join(parts))),
    _FUZZED.map(lambda text: (False, text)),
)


def _link_for(target: Target, link: tuple[bool, str]) -> str:
    on_origin, text = link
    return f"{target.base_url}/{text.lstrip('/')}" if on_origin else text


@FUZZ
@given(link=LINKS, target=st.sampled_from(TARGETS))
def test_fuzzed_next_link_input_is_refused_unsent_or_contained(
    wired: dict[str, Wired], link: tuple[bool, str], target: Target
) -> None:
    inputs = {"next_link": _link_for(target, link)}
    refusal, sent = wired[target.name].attempt("list_events", inputs)
    if refusal is not None:
        assert isinstance(refusal, mscal.InputError | mscal.PagingError), refusal
        assert sent == []
    assert_contained(sent, target)


@FUZZ
@given(link=LINKS, target=st.sampled_from(TARGETS))
def test_fuzzed_server_next_links_stop_paging_unsent_or_stay_contained(
    wired: dict[str, Wired], link: tuple[bool, str], target: Target
) -> None:
    each = wired[target.name]
    inputs = {"all_pages": True}
    refusal, sent = each.attempt("list_events", inputs, next_link=_link_for(target, link))
    assert str(sent[0].url) == target.first_page
    if refusal is not None:
        assert isinstance(refusal, mscal.PagingError), refusal
        assert refusal.collected == 1
        assert len(sent) == 1
    assert_contained(sent, target)


# --- Server-given links elsewhere stop paging, typed, and are never requested -----------------

GRAPH = TARGETS[0]
ELSEWHERE = [
    "https://evil.example/v1.0/me/events?$skiptoken=2",
    "http://graph.microsoft.com/v1.0/me/events?$skiptoken=2",
    "https://graph.microsoft.com:444/v1.0/me/events?$skiptoken=2",
    "https://graph.microsoft.com:80/v1.0/me/events?$skiptoken=2",
    "https://graph.microsoft.com.evil.example/v1.0/me/events",
    "https://evilgraph.microsoft.com/v1.0/me/events",
    "https://user@graph.microsoft.com/v1.0/me/events",
    "https://graph.microsoft.com/beta/me/events",
    "https://graph.microsoft.com/v1.0/../beta/me/events",
    "https://graph.microsoft.com/v1.0/%2e%2e/beta/me/events",
    "https://graph.microsoft.com/v1.0/%c0%ae%c0%ae/beta/me/events",
    "//evil.example/v1.0/me/events",
    "/v1.0/me/events?$skiptoken=2",
]


@pytest.mark.parametrize("link", ELSEWHERE)
def test_a_server_next_link_elsewhere_stops_paging_and_is_never_requested(
    wired: dict[str, Wired], link: str
) -> None:
    refusal, sent = wired["graph"].attempt("list_events", {"all_pages": True}, next_link=link)
    assert isinstance(refusal, mscal.PagingError)
    assert "refused to follow" in str(refusal)
    assert (refusal.collected, refusal.resume_link) == (1, None)
    assert [str(r.url) for r in sent] == [GRAPH.first_page]


@pytest.mark.parametrize("link", ELSEWHERE[:-2])
def test_a_next_link_input_elsewhere_is_refused_unsent(wired: dict[str, Wired], link: str) -> None:
    refusal, sent = wired["graph"].attempt("list_events", {"next_link": link})
    assert isinstance(refusal, mscal.PagingError)
    assert sent == []


@pytest.mark.parametrize("link", ELSEWHERE[:-2])
def test_a_delta_link_elsewhere_is_refused_unsent(wired: dict[str, Wired], link: str) -> None:
    delta = link.replace("/me/events", "/me/calendarView/delta").replace("skiptoken", "deltatoken")
    refusal, sent = wired["graph"].attempt("sync_calendar_view", {"delta_link": delta})
    assert isinstance(refusal, mscal.PagingError)
    assert sent == []


@pytest.mark.parametrize("link", ELSEWHERE[:3])
def test_a_delta_round_stops_at_a_next_link_elsewhere(wired: dict[str, Wired], link: str) -> None:
    start = f"{GRAPH.base_url}/me/calendarView/delta?$deltatoken=d1"
    refusal, sent = wired["graph"].attempt(
        "sync_calendar_view", {"delta_link": start}, next_link=link
    )
    assert isinstance(refusal, mscal.PagingError)
    assert refusal.collected == 1
    assert len(sent) == 1
    assert_contained(sent, GRAPH)


def test_a_loopback_next_link_to_another_port_is_refused(wired: dict[str, Wired]) -> None:
    loopback = wired["loopback"]
    for link in (
        "http://127.0.0.1:8766/v1.0/me/events",
        "http://127.0.0.1/v1.0/me/events",
        "https://127.0.0.1:8765/v1.0/me/events",
        "http://localhost:8765/v1.0/me/events",
    ):
        refusal, sent = loopback.attempt("list_events", {"all_pages": True}, next_link=link)
        assert isinstance(refusal, mscal.PagingError), link
        assert [str(r.url) for r in sent] == [loopback.target.first_page]


def test_an_origin_built_from_the_base_url_keeps_its_port() -> None:
    assert Origin.from_base_url("http://127.0.0.1:8765/v1.0").port == 8765
    assert Origin.from_base_url("https://graph.microsoft.com/v1.0").port == 443
