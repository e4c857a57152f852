"""A wrapper that keeps credentials out of reprs, str(), logs and tracebacks, and the scrubber
that takes every credential the process knows out of text a server sent (an echoed client
secret, an `Authorization` header quoted in an error) before it is shown or logged."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Final
from urllib.parse import quote, quote_plus

MASK: Final = "********"
# Shorter values would mask ordinary words of a message; real secrets and tokens are longer.
_MIN_SCRUBBED = 8
# The newest values are kept (a long-running worker refreshes tokens for days).
_MAX_KNOWN = 4096
_known: OrderedDict[str, None] = OrderedDict()
_known_lock = threading.Lock()
# A URL's query parameter that carries a credential (an upload URL's `authtoken=`, a signed
# URL's `sig=`, an OAuth `code=`): its value is masked wherever a URL is shown. OData's
# `$skiptoken`/`$deltatoken` are paging state, not credentials: a resume link keeps them.
_CREDENTIAL_PARAM = re.compile(
    r"(?i)([?&;](?:auth_?token|access_token|id_token|refresh_token|token|sig|signature"
    r"|client_secret|secret|code|password|passwd|api_?key|key|x-amz-signature"
    r"|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential)=)"
    r"[^&#\s\"'<>]+"
)


class Secret:
    """Holds a credential; only `reveal()` gives the value back. Every value is also
    remembered by `scrub`, so a server that echoes it cannot make the runtime show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> str:
        # Pickling would carry the value to wherever the pickle goes; refuse instead.
        raise TypeError("Secret values cannot be pickled")


def remember(value: str) -> None:
    """Make `scrub` mask `value` (and the forms a server may echo it in: URL-encoded)."""
    if len(value) < _MIN_SCRUBBED:
        return
    with _known_lock:
        for form in {value, quote(value, safe=""), quote_plus(value)}:
            _known[form] = None
            _known.move_to_end(form)
        while len(_known) > _MAX_KNOWN:
            _known.popitem(last=False)


def scrub(text: str) -> str:
    """`text` with every credential the process knows, and the value of every credential
    parameter of a URL's query, replaced by the mask."""
    if not text:
        return text
    text = _CREDENTIAL_PARAM.sub(lambda m: m.group(1) + MASK, text)
    with _known_lock:
        found = [value for value in _known if value in text]
    # Longest first: a value that contains another is masked whole.
    for value in sorted(found, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text
