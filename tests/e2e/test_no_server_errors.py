"""The three server errors once found, each kept fixed; and invitations kept in step with the
organizer's changes (an edited occurrence, attendees added by an update)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx2
import pytest

from mscal.sandbox.service import Sandbox
from tests.e2e.conftest import ADELE, ALEX, MEGAN

WINDOW = {"startDateTime": "2027-03-01T00:00:00Z", "endDateTime": "2027-03-08T00:00:00Z"}


def _client(service: str, sandbox: Sandbox, user: str) -> httpx2.Client:
    token = sandbox.identity.issue_for(user)
    return httpx2.Client(base_url=f"{service}/v1.0", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def adele(service: str, sandbox: Sandbox) -> Iterator[httpx2.Client]:
    with _client(service, sandbox, ADELE) as client:
        yield client


@pytest.fixture(scope="module")
def alex(service: str, sandbox: Sandbox) -> Iterator[httpx2.Client]:
    with _client(service, sandbox, ALEX) as client:
        yield client


def _slot(day: str, start: str, end: str) -> dict[str, Any]:
    return {
        "start": {"dateTime": f"{day}T{start}:00", "timeZone": "UTC"},
        "end": {"dateTime": f"{day}T{end}:00", "timeZone": "UTC"},
    }


def _view(client: httpx2.Client) -> list[dict[str, Any]]:
    answer = client.get("/me/calendarView", params={**WINDOW, "$top": "50"})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["value"])


def test_an_attendees_views_survive_an_edited_occurrence(
    adele: httpx2.Client, alex: httpx2.Client
) -> None:
    series = adele.post(
        "/me/events",
        json={
            "subject": "Edited occurrence",
            **_slot("2027-03-01", "09:00", "09:30"),
            "attendees": [{"emailAddress": {"address": ALEX}, "type": "required"}],
            "recurrence": {
                "pattern": {"type": "daily", "interval": 1},
                "range": {"type": "numbered", "startDate": "2027-03-01", "numberOfOccurrences": 3},
            },
        },
    ).json()
    occurrences = adele.get(
        f"/me/events/{quote(series['id'], safe='')}/instances", params=WINDOW
    ).json()["value"]
    second = occurrences[1]["id"]
    edited = adele.patch(
        f"/me/events/{quote(second, safe='')}",
        json={"subject": "Edited occurrence, moved", **_slot("2027-03-02", "14:00", "14:30")},
    )
    assert edited.status_code == 200, edited.text

    mine = [e for e in _view(alex) if e["subject"].startswith("Edited occurrence")]
    assert [(e["subject"], e["start"]["dateTime"][:16], e["type"]) for e in mine] == [
        ("Edited occurrence", "2027-03-01T09:00", "occurrence"),
        ("Edited occurrence, moved", "2027-03-02T14:00", "exception"),
        ("Edited occurrence", "2027-03-03T09:00", "occurrence"),
    ]
    # The attendee's copy is still a series (the edit did not overwrite it).
    master = alex.get(f"/me/events/{quote(mine[0]['seriesMasterId'], safe='')}").json()
    assert master["type"] == "seriesMaster" and master["recurrence"]["pattern"]["type"] == "daily"

    schedule = adele.post(
        "/me/calendar/getSchedule",
        json={
            "schedules": [ALEX],
            "availabilityViewInterval": 60,
            "startTime": {"dateTime": "2027-03-02T12:00:00", "timeZone": "UTC"},
            "endTime": {"dateTime": "2027-03-02T16:00:00", "timeZone": "UTC"},
        },
    )
    assert schedule.status_code == 200, schedule.text
    assert schedule.json()["value"][0]["availabilityView"] == "0020"

    times = adele.post(
        "/me/findMeetingTimes",
        json={
            "attendees": [{"emailAddress": {"address": ALEX}, "type": "required"}],
            "timeConstraint": {
                "activityDomain": "unrestricted",
                "timeSlots": [_slot("2027-03-02", "14:00", "15:00")],
            },
            "meetingDuration": "PT30M",
            "isOrganizerOptional": True,
        },
    )
    assert times.status_code == 200, times.text
    suggestions = times.json()["meetingTimeSuggestions"]
    assert [s["meetingTimeSlot"]["start"]["dateTime"][11:16] for s in suggestions] == ["14:30"]


def test_attendees_added_by_an_update_get_the_meeting(
    adele: httpx2.Client, alex: httpx2.Client, service: str, sandbox: Sandbox
) -> None:
    event = adele.post(
        "/me/events",
        json={"subject": "Grows", **_slot("2027-03-04", "10:00", "11:00"), "attendees": []},
    ).json()
    assert not [e for e in _view(alex) if e["subject"] == "Grows"]
    answer = adele.patch(
        f"/me/events/{quote(event['id'], safe='')}",
        json={
            "attendees": [
                {"emailAddress": {"address": ALEX}, "type": "required"},
                {"emailAddress": {"address": MEGAN}, "type": "optional"},
            ]
        },
    )
    assert answer.status_code == 200, answer.text
    copies = [e for e in _view(alex) if e["subject"] == "Grows"]
    assert len(copies) == 1
    assert copies[0]["isOrganizer"] is False
    assert copies[0]["organizer"]["emailAddress"]["address"] == ADELE
    assert copies[0]["responseStatus"]["response"] == "notResponded"
    with _client(service, sandbox, MEGAN) as megan:
        assert [e["subject"] for e in _view(megan) if e["subject"] == "Grows"] == ["Grows"]
    # A second update sends no second copy.
    adele.patch(f"/me/events/{quote(event['id'], safe='')}", json={"subject": "Grows"})
    assert len([e for e in _view(alex) if e["subject"] == "Grows"]) == 1


def test_put_on_calendar_groups_is_405_not_a_crash(adele: httpx2.Client) -> None:
    for body in (None, {}, [], "x"):
        answer = adele.put("/me/calendarGroups", json=body)
        assert answer.status_code == 405, answer.text
        assert answer.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"minimumAttendeePercentage": "half"}, "minimumAttendeePercentage"),
        ({"maxCandidates": "many"}, "maxCandidates"),
        ({"maxCandidates": 2.5}, "maxCandidates"),
        ({"timeConstraint": "soon"}, "timeConstraint"),
        ({"timeConstraint": {"timeSlots": ["monday"]}}, "timeSlots"),
        ({"attendees": [7]}, "attendees"),
        ({"attendees": [{"emailAddress": "a@b"}]}, "emailAddress"),
        ({"meetingDuration": "PT99999999999999H"}, "PT99999999999999H"),
        ({"meetingDuration": 30}, "meetingDuration"),
        ({"isOrganizerOptional": "yes"}, "isOrganizerOptional"),
        ({"locationConstraint": {"locations": [None, 3]}}, "locations"),
        (
            {"timeConstraint": {"timeSlots": [{"start": {"dateTime": 5}, "end": {}}]}},
            "literal '5'",
        ),
        (
            {
                "timeConstraint": {
                    "timeSlots": [
                        {
                            "start": {
                                "dateTime": "0001-01-01T00:00:00",
                                "timeZone": "Tokyo Standard Time",
                            },
                            "end": {"dateTime": "0001-01-02T00:00:00", "timeZone": "UTC"},
                        }
                    ]
                }
            },
            "out of range",
        ),
    ],
)
def test_find_meeting_times_refuses_a_fuzzed_body_with_a_400(
    adele: httpx2.Client, body: dict[str, Any], says: str
) -> None:
    answer = adele.post("/me/findMeetingTimes", json=body)
    assert answer.status_code == 400, answer.text
    assert says in answer.json()["error"]["message"]
