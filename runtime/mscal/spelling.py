"""Did-you-mean: the names closest to a mistyped one, so an error suggests one or two names
instead of printing every name there is."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, known: Iterable[str], *, limit: int = 3) -> list[str]:
    """The known names most like `name` (a typo, a missing or extra letter, a swapped word)."""
    names = list(known)
    found = difflib.get_close_matches(name, names, n=limit, cutoff=0.6)
    if not found:
        # `events` for `list_events`: a name that contains what was typed, or is contained in it.
        lowered = name.lower()
        found = [n for n in names if lowered and (lowered in n.lower() or n.lower() in lowered)]
    return found[:limit]


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`; did you mean a or b?` or an empty string when nothing is close."""
    found = closest(name, known)
    if not found:
        return ""
    return f"; did you mean {either(found)}?"


def either(names: list[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
