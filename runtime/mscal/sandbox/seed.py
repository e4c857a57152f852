"""A realistic sample tenant: a few people, their calendars, recurring meetings across them."""

from __future__ import annotations

import datetime as dt

from mscal.sandbox.domain.owners import Owner
from mscal.sandbox.domain.tenant import Tenant

DOMAIN = "contoso.onmicrosoft.com"
PEOPLE = [("adele", "Adele Vance"), ("alex", "Alex Wilber"), ("megan", "Megan Bowen")]
APOLLO_GROUP = "02bd9fd6-8f93-4758-87c3-1fb73740a315"


def _address(name: str) -> str:
    return f"{name}@{DOMAIN}"


def _when(day: dt.date, hour: int, minute: int = 0) -> dict[str, str]:
    return {
        "dateTime": dt.datetime.combine(day, dt.time(hour, minute)).isoformat(),
        "timeZone": "Pacific Standard Time",
    }


def seed_mailboxes(tenant: Tenant, today: dt.date | None = None) -> None:
    """Create the sample tenant once (seeding twice changes nothing)."""
    if tenant.find_user(_address("adele")) is not None:
        return
    for name, display in PEOPLE:
        tenant.ensure_user(_address(name), display)
    tenant.directory.ensure_group(APOLLO_GROUP, "Project Apollo")
    adele = tenant.user_owner(_address("adele"))
    alex = tenant.user_owner(_address("alex"))
    today = today or dt.date.today()
    monday = today - dt.timedelta(days=today.weekday())
    attendees = [
        {"emailAddress": {"address": _address(n), "name": d}, "type": "required"}
        for n, d in PEOPLE[1:]
    ]
    tenant.create_event(
        adele,
        None,
        {
            "subject": "Team standup",
            "start": _when(monday, 9),
            "end": _when(monday, 9, 15),
            "location": {"displayName": "Teams"},
            "attendees": attendees,
            "isOnlineMeeting": True,
            "recurrence": {
                "pattern": {
                    "type": "weekly",
                    "interval": 1,
                    "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                },
                "range": {"type": "noEnd", "startDate": monday.isoformat()},
            },
        },
    )
    tenant.create_event(
        adele,
        None,
        {
            "subject": "Quarterly planning",
            "start": _when(monday + dt.timedelta(days=2), 14),
            "end": _when(monday + dt.timedelta(days=2), 15, 30),
            "location": {"displayName": "Conf Room Rainier"},
            "body": {"contentType": "html", "content": "<p>Agenda: goals, staffing, risks.</p>"},
            "attendees": attendees[:1],
            "importance": "high",
        },
    )
    tenant.create_event(
        alex,
        None,
        {
            "subject": "Dentist",
            "start": _when(monday + dt.timedelta(days=3), 8),
            "end": _when(monday + dt.timedelta(days=3), 9),
            "sensitivity": "private",
            "showAs": "oof",
        },
    )
    personal = tenant.create_calendar(adele, {"name": "Personal", "color": "lightGreen"})
    tenant.create_event(
        adele,
        personal["id"],
        {
            "subject": "Gym",
            "start": _when(monday, 18),
            "end": _when(monday, 19),
            "recurrence": {
                "pattern": {"type": "daily", "interval": 2},
                "range": {
                    "type": "numbered",
                    "startDate": monday.isoformat(),
                    "numberOfOccurrences": 10,
                },
            },
        },
    )
    places = tenant.lookups
    for building, rooms in [
        ("Building 1", [("Conf Room Rainier", 12), ("Conf Room Baker", 6)]),
        ("Building 2", [("Conf Room Adams", 20)]),
    ]:
        slug = building.lower().replace(" ", "")
        room_list = places.add_place("roomList", building, f"{slug}@{DOMAIN}")
        for name, capacity in rooms:
            email = name.lower().replace("conf room ", "") + f"@{DOMAIN}"
            places.add_place(
                "room",
                name,
                email,
                parent=room_list["id"],
                capacity=capacity,
                building=building,
                floorNumber=1,
                isWheelChairAccessible=True,
            )
    group = Owner("group", APOLLO_GROUP, f"projectapollo@{DOMAIN}", "Project Apollo")
    tenant.create_event(
        group,
        None,
        {
            "subject": "Apollo launch review",
            "start": _when(monday + dt.timedelta(days=4), 11),
            "end": _when(monday + dt.timedelta(days=4), 12),
        },
    )
