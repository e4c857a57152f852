"""Other people's and groups' calendars with an app token, and the organization's lookups:
rooms and room lists, supported time zones, master categories."""

from __future__ import annotations

import pytest

import mscal
from mscal.io.session import Session
from tests.e2e.conftest import ALEX


def test_other_users_and_group_calendars_with_an_app_token(
    connector: mscal.Connector, app_auth: mscal.Authentication
) -> None:
    with connector.session(app_auth) as app:
        calendars = app.run("list_calendars", {"user_id": ALEX})["value"]
        assert [c["name"] for c in calendars] == ["Calendar"]
        group = "02bd9fd6-8f93-4758-87c3-1fb73740a315"
        assert app.run("get_calendar", {"group_id": group})["name"] == "Calendar"
        assert [e["subject"] for e in app.run("list_events", {"group_id": group})["value"]] == [
            "Apollo launch review"
        ]
        with pytest.raises(mscal.GraphError) as caught:
            app.run("list_calendars")
        assert (caught.value.status_code, caught.value.code) == (400, "BadRequest")
        assert "delegated" in caught.value.message


def test_places_and_lookups(me: Session) -> None:
    rooms = me.run("list_rooms", {"all_pages": True})["value"]
    assert sorted(r["displayName"] for r in rooms) == [
        "Conf Room Adams",
        "Conf Room Baker",
        "Conf Room Rainier",
    ]
    lists = me.run("list_room_lists", {})["value"]
    assert [r["displayName"] for r in lists] == ["Building 1", "Building 2"]
    in_one = me.run("list_rooms", {"room_list": lists[0]["emailAddress"]})["value"]
    assert [r["displayName"] for r in in_one] == ["Conf Room Rainier", "Conf Room Baker"]
    windows = me.run("list_supported_time_zones", {"all_pages": True})["value"]
    assert {"alias": "Pacific Standard Time", "displayName": "Pacific Standard Time"} in windows
    iana = me.run("list_supported_time_zones", {"time_zone_standard": "Iana", "all_pages": True})[
        "value"
    ]
    assert "Europe/Berlin" in {z["alias"] for z in iana}
    categories = [c["displayName"] for c in me.run("list_categories", {"all_pages": True})["value"]]
    assert categories[0] == "Red category" and len(categories) == 6
