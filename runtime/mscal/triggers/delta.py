"""One delta round through the spec's delta operation (`source.delta`): a first round over a
window, or the next round from the saved link. An expired link is the spec's `resync_error`
type, which the caller answers with a full round."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mscal.call.error_mapping import ERROR_TYPES
from mscal.errors import GraphError, SpecError
from mscal.io.session import Session

Window = tuple[dt.datetime, dt.datetime]


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class DeltaRound:
    """How a round is asked for and read, from the trigger file's `source.delta`."""

    operation: str
    pass_inputs: tuple[str, ...]
    inputs: Mapping[str, Any]
    start_input: str
    end_input: str
    days_input: str
    behind_days: float
    link: str
    next_page: str
    items: str
    removed: str
    resync_error: type[GraphError]

    @classmethod
    def from_spec(cls, raw: Mapping[str, Any]) -> DeltaRound:
        window = raw["window"]
        try:
            resync_error = ERROR_TYPES[str(raw["resync_error"])]
        except KeyError:
            known = ", ".join(sorted(ERROR_TYPES))
            raise SpecError(
                f"source.delta.resync_error: unknown error type {raw['resync_error']!r}; "
                f"known: {known}"
            ) from None
        return cls(
            operation=str(raw["operation"]),
            pass_inputs=tuple(raw.get("pass_inputs") or ()),
            inputs=dict(raw.get("inputs") or {}),
            start_input=str(window["start_input"]),
            end_input=str(window["end_input"]),
            days_input=str(window["days_input"]),
            behind_days=float(window["behind_days"]),
            link=str(raw["link"]),
            next_page=str(raw["next"]),
            items=str(raw["items"]),
            removed=str(raw["removed"]),
            resync_error=resync_error,
        )

    def window(self, now: dt.datetime, trigger_inputs: Mapping[str, Any]) -> Window:
        days = float(trigger_inputs.get(self.days_input) or 30)
        start = now - dt.timedelta(days=self.behind_days)
        return start.replace(microsecond=0), (now + dt.timedelta(days=days)).replace(microsecond=0)

    def _base(self, trigger_inputs: Mapping[str, Any]) -> dict[str, Any]:
        passed = {k: trigger_inputs[k] for k in self.pass_inputs if k in trigger_inputs}
        return {**self.inputs, **passed}

    def first(
        self, session: Session, trigger_inputs: Mapping[str, Any], window: Window
    ) -> tuple[list[dict[str, Any]], str | None]:
        inputs = {
            **self._base(trigger_inputs),
            self.start_input: iso(window[0]),
            self.end_input: iso(window[1]),
        }
        return self._pages(session, inputs)

    def next(
        self, session: Session, trigger_inputs: Mapping[str, Any], link: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The round after `link`; raises `resync_error` when the link has expired."""
        return self._pages(session, {**self._base(trigger_inputs), self.link: link})

    def _pages(
        self, session: Session, inputs: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Every page of a round, one call each, until the page that carries the next link."""
        items: list[dict[str, Any]] = []
        following = dict(self.inputs)  # a next page needs only its link and the preferences
        while True:
            result = session.run(self.operation, inputs)
            if not isinstance(result, Mapping):
                return items, None
            items.extend(i for i in result.get(self.items) or [] if isinstance(i, dict))
            page = result.get(self.next_page)
            if not isinstance(page, str) or not page:
                link = result.get(self.link)
                return items, link if isinstance(link, str) else None
            inputs = {**following, self.next_page: page}
