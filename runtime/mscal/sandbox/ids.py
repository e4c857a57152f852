"""Ids and change keys shaped like Graph's: long base64 strings in the URL-safe alphabet
(`-` and `_`, never `/` or `+`), ending in `=` as Graph's REST ids do."""

from __future__ import annotations

import base64
import secrets


def new_id(prefix: str = "AAMkA") -> str:
    # Graph's REST ids use the URL-safe alphabet (clients such as python-o365 put them in
    # paths as they are) and keep a padding '=', which still needs encoding in a query.
    return prefix + base64.urlsafe_b64encode(secrets.token_bytes(33)).decode().rstrip("=") + "="


def new_change_key() -> str:
    return base64.b64encode(secrets.token_bytes(12)).decode()


def new_token(prefix: str) -> str:
    return f"{prefix}.{secrets.token_urlsafe(32)}"


def encode_compound(*parts: str) -> str:
    """An id that carries other ids (an occurrence: its series and original start)."""
    raw = "\x1f".join(parts).encode()
    return "AAMkO" + base64.urlsafe_b64encode(raw).decode()


def decode_compound(value: str) -> list[str] | None:
    if not value.startswith("AAMkO"):
        return None
    try:
        return base64.urlsafe_b64decode(value[5:].encode()).decode().split("\x1f")
    except (ValueError, UnicodeDecodeError):
        return None
