"""Paging: one small contract, and the next-link style Graph uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mscal.errors import PagingError

# Inputs the runtime's pager reads by these names (the spec's paging trait declares them).
FOLLOW_ALL, MAX_ITEMS = "all_pages", "max_items"


class Paginator(Protocol):
    @property
    def resume_inputs(self) -> tuple[str, ...]:
        """Inputs that hold a link to start from instead of the operation's own request."""

    @property
    def final_output(self) -> str | None:
        """The output key for a link the last page carries (e.g. a delta link), if any."""

    def items(self, page: Any) -> list[Any]: ...

    def next_link(self, page: Any) -> str | None: ...

    def final_link(self, page: Any) -> str | None: ...

    def captured(self, page: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class NextLinkPaginator:
    """Items under one key, the next page's URL under another (followed verbatim), and
    optionally a link on the last page to resume from later (Graph's delta link)."""

    items_key: str
    next_key: str
    final_key: str | None
    final_output: str | None
    resume_inputs: tuple[str, ...]
    captures: tuple[tuple[str, str], ...]

    def captured(self, page: Any) -> dict[str, Any]:
        """Values of the first page the result keeps (output key -> page key), when present."""
        if not isinstance(page, Mapping):
            return {}
        return {output: page[key] for output, key in self.captures if key in page}

    def items(self, page: Any) -> list[Any]:
        items = page.get(self.items_key) if isinstance(page, Mapping) else None
        if not isinstance(items, list):
            raise PagingError(
                f"a page has no {self.items_key!r} list", collected=0, resume_link=None
            )
        return items

    def next_link(self, page: Any) -> str | None:
        return _link(page, self.next_key)

    def final_link(self, page: Any) -> str | None:
        return _link(page, self.final_key) if self.final_key else None


def _link(page: Any, key: str) -> str | None:
    link = page.get(key) if isinstance(page, Mapping) else None
    return link if isinstance(link, str) and link else None


def paginator_from_spec(raw: Mapping[str, Any]) -> Paginator:
    """The paginator an operation declares: the spec's `defaults.pagination` (every key
    required there) with the operation's own `pagination` keys over it, merged at load."""
    if raw["style"] != "next_link":
        raise ValueError(f"unknown pagination style {raw['style']!r}")
    final = raw.get("final_link")  # only an operation that can resume later has one
    return NextLinkPaginator(
        items_key=str(raw["items"]),
        next_key=str(raw["next_link"]),
        final_key=str(final["from"]) if final else None,
        final_output=str(final["as"]) if final else None,
        resume_inputs=tuple(raw["resume_inputs"]),
        captures=tuple(dict(raw["captures"]).items()),
    )


class PageTracker:
    """Counts items across pages (it keeps none: a lazy reader holds one page at a time),
    stops at `max_items`, and refuses to follow the same link twice."""

    def __init__(self, *, follow: bool, max_items: int | None) -> None:
        self.follow = follow
        self.max_items = max_items
        self.count = 0
        self.next_link: str | None = None
        self._seen: set[str] = set()

    def add(self, items: list[Any], next_link: str | None) -> tuple[list[Any], str | None]:
        """Record a page: the items to hand out (cut at max_items), and the link to fetch next
        (None when done)."""
        self.next_link = next_link
        if self.max_items is not None and self.count + len(items) >= self.max_items:
            items = items[: self.max_items - self.count]
            self.count += len(items)
            return items, None
        self.count += len(items)
        if not self.follow or next_link is None:
            return items, None
        if next_link in self._seen:
            raise PagingError(
                "the service returned a next link it had returned before; stopping to avoid a loop",
                collected=self.count,
                resume_link=next_link,
            )
        self._seen.add(next_link)
        return items, next_link
