"""A wrapper that keeps credentials out of reprs, str(), logs and tracebacks."""

from __future__ import annotations

from typing import Final

MASK: Final = "********"


class Secret:
    """Holds a credential; only `reveal()` gives the value back."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

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
