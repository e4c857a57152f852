"""The route table: how a path after the owner resolves to a handler, and what Graph answers
when none does (405 for a known path under another method, 400 naming the unknown segment)."""

from __future__ import annotations

import asyncio
from itertools import combinations
from typing import Any, cast
from urllib.parse import quote

import httpx2
import pytest
from starlette.responses import Response

from mscal.sandbox.domain.sharing import EXTERNAL_ROLES
from mscal.sandbox.errors import GraphHTTPError
from mscal.sandbox.http.call import Call
from mscal.sandbox.http.resources.table import graph_routes
from mscal.sandbox.http.routing import Route, RouteTable
from mscal.sandbox.seed import APOLLO_GROUP
from mscal.sandbox.service import Sandbox, create_sandbox

ADELE = "adele@contoso.onmicrosoft.com"


def _item(call: Call) -> Response:
    return Response("item")


def _action(call: Call) -> Response:
    return Response("action")


def _function(call: Call) -> Response:
    return Response("function")


def _no_such_thing(call: Call) -> None:
    raise GraphHTTPError(404, "ErrorItemNotFound", "No such thing.")


TOY = RouteTable(
    [
        Route("POST", "things/refresh", _action),
        Route("GET", "things/{thing}", _item),
        Route("GET", "mine", _item, owners=frozenset({"user"})),
        Route("GET", "lookup(...)", _function),
        Route("GET", "view", _item, unknown_otherwise=0),
        Route("GET", "guarded/{thing}", _item, guard=_no_such_thing),
    ]
)
# A refusal never reads the request.
NO_CALL = cast(Call, None)


def _refusal(method: str, owner: str, segments: list[str]) -> tuple[int, str, str]:
    with pytest.raises(GraphHTTPError) as caught:
        TOY.resolve(method, owner, segments).answer(NO_CALL)
    return caught.value.status, caught.value.code, caught.value.message


def test_the_first_route_matching_path_and_method_wins() -> None:
    assert TOY.resolve("POST", "user", ["things", "refresh"]).handler is _action
    got = TOY.resolve("GET", "user", ["things", "refresh"])
    assert (got.handler, got.params) == (_item, {"thing": "refresh"})


def test_a_known_path_under_another_method_is_405() -> None:
    assert _refusal("DELETE", "user", ["things", "one"]) == (
        405,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
    )


def test_a_route_may_answer_other_methods_as_an_unknown_segment() -> None:
    assert _refusal("POST", "user", ["view"]) == (
        400,
        "BadRequest",
        "Resource not found for the segment 'view'.",
    )


def test_the_guard_runs_before_the_handler_and_before_a_405() -> None:
    assert _refusal("GET", "user", ["guarded", "x"])[:2] == (404, "ErrorItemNotFound")
    assert _refusal("POST", "user", ["guarded", "x"])[:2] == (404, "ErrorItemNotFound")


@pytest.mark.parametrize(
    ("segments", "named"),
    [(["nothing"], "nothing"), (["things", "one", "more"], "more"), (["things"], "things")],
)
def test_an_unknown_path_names_the_first_segment_no_route_knows(
    segments: list[str], named: str
) -> None:
    assert _refusal("GET", "user", segments) == (
        400,
        "BadRequest",
        f"Resource not found for the segment '{named}'.",
    )


def test_a_route_for_other_owners_is_not_there() -> None:
    assert TOY.resolve("GET", "user", ["mine"]).handler is _item
    assert _refusal("GET", "group", ["mine"])[2] == "Resource not found for the segment 'mine'."


def test_nothing_after_the_owner_is_a_400_without_a_segment() -> None:
    assert _refusal("GET", "group", []) == (
        400,
        "BadRequest",
        "Resource not found for the segment.",
    )


def test_a_function_segment_passes_its_arguments() -> None:
    got = TOY.resolve("GET", "user", ["lookup(Name='O''Brien',Kind='x')"])
    assert (got.handler, got.args) == (_function, {"Name": "O'Brien", "Kind": "x"})
    assert TOY.resolve("GET", "user", ["lookup()"]).args == {}
    assert _refusal("GET", "user", ["lookup"])[2] == "Resource not found for the segment 'lookup'."


def _may_meet(a: str, b: str) -> bool:
    return a == b or a.startswith("{") or b.startswith("{")


def test_no_two_shipped_routes_compete_for_a_path() -> None:
    """Order in the table never decides between two routes of one method: none overlap."""
    # The one route meant to come last: any other action posted to an event.
    routes = [r for r in graph_routes() if not r.path.endswith("{action}")]
    clashes = [
        (a.method, a.path, b.path)
        for a, b in combinations(routes, 2)
        if a.method == b.method
        and a.owners & b.owners
        and len(a.path.split("/")) == len(b.path.split("/"))
        and all(_may_meet(x, y) for x, y in zip(a.path.split("/"), b.path.split("/"), strict=True))
    ]
    assert clashes == []
    assert len(routes) > 100  # events and calendar routes under every way to name a calendar


# -- through the service -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return create_sandbox(":memory:", seed=True)


def _send(sandbox: Sandbox, method: str, path: str, body: Any = None) -> httpx2.Response:
    token = sandbox.identity.issue_for(ADELE)

    async def send() -> httpx2.Response:
        transport = httpx2.ASGITransport(app=sandbox.app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.request(
                method, f"/v1.0{path}", json=body, headers={"Authorization": f"Bearer {token}"}
            )

    return asyncio.run(send())


def _error(response: httpx2.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        (
            "GET",
            "/me/nonsense",
            (400, "BadRequest", "Resource not found for the segment 'nonsense'."),
        ),
        ("POST", "/me", (400, "BadRequest", "Resource not found for the segment.")),
        (
            "GET",
            f"/groups/{APOLLO_GROUP}/calendars",
            (400, "BadRequest", "Resource not found for the segment 'calendars'."),
        ),
        (
            "DELETE",
            "/me/calendar",
            (
                405,
                "Request_BadRequest",
                "Specified HTTP method is not allowed for the request target.",
            ),
        ),
        (
            "PUT",
            "/me/events",
            (
                405,
                "Request_BadRequest",
                "Specified HTTP method is not allowed for the request target.",
            ),
        ),
    ],
)
def test_paths_graph_does_not_serve(
    sandbox: Sandbox, method: str, path: str, expected: tuple[int, str, str]
) -> None:
    assert _error(_send(sandbox, method, path)) == expected


def test_a_calendar_in_the_path_must_exist_before_its_events_are_read(sandbox: Sandbox) -> None:
    event = _send(
        sandbox,
        "POST",
        "/me/events",
        {
            "subject": "Routed",
            "start": {"dateTime": "2027-06-01T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2027-06-01T11:00:00", "timeZone": "UTC"},
        },
    ).json()
    event_path = f"/events/{quote(event['id'], safe='')}"
    assert _send(sandbox, "GET", f"/me{event_path}").json()["subject"] == "Routed"
    assert _send(sandbox, "GET", f"/me/calendar{event_path}").json()["id"] == event["id"]
    missing = _send(sandbox, "GET", f"/me/calendars/AAMkAGCmissing{event_path}")
    assert _error(missing)[:2] == (404, "ErrorItemNotFound")


def test_a_calendar_named_within_a_group_must_be_in_that_group(sandbox: Sandbox) -> None:
    default = _send(sandbox, "GET", "/me/calendar").json()
    other = _send(sandbox, "POST", "/me/calendarGroups", {"name": "Elsewhere"}).json()
    inside = f"/me/calendarGroups/{quote(other['id'], safe='')}/calendars"
    assert _send(sandbox, "GET", inside).json()["value"] == []
    answer = _send(sandbox, "GET", f"{inside}/{quote(default['id'], safe='')}")
    assert _error(answer)[:2] == (404, "ErrorItemNotFound")


def test_a_function_segment_reaches_its_handler_with_its_arguments(sandbox: Sandbox) -> None:
    roles = _send(sandbox, "GET", "/me/calendar/allowedCalendarSharingRoles(User='x@fabrikam.com')")
    assert roles.json() == {"value": EXTERNAL_ROLES}
