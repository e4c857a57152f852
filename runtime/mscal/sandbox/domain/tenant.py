"""The tenant: every aggregate of the domain over one store, wired once.

Seeding, tests, the benchmark and `mscal sandbox` script the service through the few entry
points at the bottom (the names they have always used); the HTTP layer reaches the aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mscal.sandbox.domain.attachments import Attachments
from mscal.sandbox.domain.calendars import Calendars
from mscal.sandbox.domain.delta import Delta
from mscal.sandbox.domain.directory import DOMAIN, Directory
from mscal.sandbox.domain.events import Events
from mscal.sandbox.domain.invitations import Invitations
from mscal.sandbox.domain.lookups import Lookups
from mscal.sandbox.domain.meetings import Meetings
from mscal.sandbox.domain.occurrences import Occurrences
from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.domain.reminders import Reminders
from mscal.sandbox.domain.scheduling import Scheduling
from mscal.sandbox.domain.sharing import Sharing
from mscal.sandbox.domain.subscriptions import Subscriptions
from mscal.sandbox.store import Store


@dataclass
class Tenant:
    store: Store
    directory: Directory
    calendars: Calendars
    events: Events
    meetings: Meetings
    reminders: Reminders
    scheduling: Scheduling
    delta: Delta
    attachments: Attachments
    sharing: Sharing
    lookups: Lookups
    subscriptions: Subscriptions

    @classmethod
    def open(cls, store: Store, *, strict: bool = False, domain: str = DOMAIN) -> Tenant:
        calendars = Calendars(store)
        directory = Directory(store, calendars, strict=strict, domain=domain)
        occurrences = Occurrences(store)
        invitations = Invitations(store, directory, calendars)
        events = Events(store, calendars, occurrences, invitations)
        return cls(
            store=store,
            directory=directory,
            calendars=calendars,
            events=events,
            meetings=Meetings(store, directory, events, invitations),
            reminders=Reminders(store, events),
            scheduling=Scheduling(directory, events),
            delta=Delta(store, calendars, events, occurrences),
            attachments=Attachments(store, events),
            sharing=Sharing(store, directory),
            lookups=Lookups(store),
            subscriptions=Subscriptions(store, directory),
        )

    # -- entry points for scripts ------------------------------------------------------------

    def find_user(self, id_or_upn: str) -> dict[str, Any] | None:
        return self.directory.find_user(id_or_upn)

    def ensure_user(self, upn: str, display_name: str | None = None) -> str:
        return self.directory.ensure_user(upn, display_name)

    def user_owner(self, id_or_upn: str) -> Owner:
        return self.directory.user_owner(id_or_upn)

    def default_calendar(self, owner: Owner) -> dict[str, Any]:
        return self.calendars.default_calendar(owner)

    def create_calendar(self, owner: Owner, body: dict[str, Any]) -> dict[str, Any]:
        return self.calendars.create_calendar(owner, body)

    def create_event(
        self, owner: Owner, calendar_id: str | None, body: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        return self.events.create_event(owner, calendar_id, body)
