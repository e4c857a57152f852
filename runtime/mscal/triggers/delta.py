"""One delta round through the spec's delta operation (`source.delta`): a first round over a
window, or the next round from the saved link. An expired link is the spec's `resync_error`
type, which the caller answers with a full round."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
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

    def first(self, session: Session, trigger_inputs: Mapping[str, Any], window: Window) -> Pages:
        inputs = {
            **self._base(trigger_inputs),
            self.start_input: iso(window[0]),
            self.end_input: iso(window[1]),
        }
        return Pages(self, session, inputs)

    def next(self, session: Session, trigger_inputs: Mapping[str, Any], link: str) -> Pages:
        """The round after `link`; raises `resync_error` when the link has expired."""
        return Pages(self, session, {**self._base(trigger_inputs), self.link: link})


class Pages:
    """A round's items, read a page (one call) at a time as they are iterated, so a first round
    over a big calendar never holds more than a page of full events; `link` is the next round's
    link once every item has been read.

    The first page is read at once: an expired link is found before any item is used, when a
    caller can still answer it with a full round. A later page that fails (whatever the error)
    fails the round, which is then run again from the saved state.
    """

    def __init__(self, delta: DeltaRound, session: Session, inputs: dict[str, Any]) -> None:
        self.delta = delta
        self.session = session
        self.link: str | None = None
        self._first = session.run(delta.operation, inputs)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        delta = self.delta
        following = dict(delta.inputs)  # a next page needs only its link and the preferences
        result, self._first = self._first, None
        while isinstance(result, Mapping):
            yield from (i for i in result.get(delta.items) or [] if isinstance(i, dict))
            page = result.get(delta.next_page)
            if not isinstance(page, str) or not page:
                link = result.get(delta.link)
                self.link = link if isinstance(link, str) else None
                return
            result = self.session.run(delta.operation, {**following, delta.next_page: page})
