"""Paging: one small contract, and the next-link style Graph uses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mscal.errors import PagingError

# Inputs the runtime's pager reads by these names (the spec's paging trait declares them).
FOLLOW_ALL, MAX_ITEMS = "all_pages", "max_items"
# A next link returned after `max_items` stopped inside a page is that page's own link with
# how many of its items were already handed out, in the fragment (never sent: the runtime
# strips it and skips that many items of the page). So a resume starts right after the last
# item returned, whatever the service's links look like ($skip, an opaque $skiptoken).
_RESUME_MARK = re.compile(r"#mscal-skip=(?P<skip>[0-9]{1,9})$")


def resume_link(page_url: str, skip: int) -> str:
    """The link to resume a listing from: the page, less the `skip` items already returned."""
    return f"{page_url.split('#', 1)[0]}#mscal-skip={skip}" if skip else page_url


def split_resume_link(link: str) -> tuple[str, int]:
    """A resume link as the page URL to fetch and how many of its first items to skip."""
    mark = _RESUME_MARK.search(link)
    if mark is None:
        return link, 0
    return link[: mark.start()], int(mark.group("skip"))


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

    def add(
        self,
        items: list[Any],
        next_link: str | None,
        *,
        page_url: str | None = None,
        skipped: int = 0,
    ) -> tuple[list[Any], str | None]:
        """Record a page (`items` are what is left of it after `skipped` of its first items):
        the items to hand out (cut at max_items), and the link to fetch next (None when done).
        A cut inside the page leaves `next_link` pointing at the rest of this page."""
        self.next_link = next_link
        if self.max_items is not None and self.count + len(items) >= self.max_items:
            kept = items[: self.max_items - self.count]
            self.count += len(kept)
            if len(kept) < len(items) and page_url is not None:
                self.next_link = resume_link(page_url, skipped + len(kept))
            return kept, None
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
