"""`mscal lint --openapi`: every owner form checked against a description written here."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import mscal
from mscal.lint.core import lint
from mscal.spec.load import default_spec_root
from mscal.spec.owner_forms import owner_forms
from tests.conftest import CliResult

ROOT = default_spec_root()

MINI_OPERATIONS = """
group: Mini
operations:
  - name: list_rooms_mini
    title: Rooms
    description: Rooms.
    traits: [select]
    inputs:
      room_list: {type: string, title: Room list}
    request:
      method: GET
      path: >-
        /places{% if room_list %}/{{ room_list }}/graph.roomList/rooms
        {%- else %}/graph.room{% endif %}
    output: {type: object}
  - name: make_category
    title: Category
    description: Make a category.
    traits: [mailbox]
    inputs:
      category:
        type: object
        title: Category
        properties:
          displayName: {type: string}
          color: {type: string}
          "@odata.type": {type: string}
    required: [category]
    request:
      method: POST
      path: "{% include 'mailbox' %}/outlook/masterCategories"
      body: "{{ category }}"
    output: {type: object}
  - name: respond
    title: Respond
    description: Accept.
    inputs:
      event_id: {type: string, title: Event}
      comment: {type: string, title: Comment}
    required: [event_id]
    request:
      method: POST
      path: "/me/events/{{ event_id }}/accept"
      body: {comment: "{{ comment }}", sendResponse: "{{ comment }}"}
    output: {type: object}
  - name: add_file
    title: File
    description: Attach a file.
    inputs:
      event_id: {type: string, title: Event}
      attachment:
        type: object
        title: Attachment
        properties: {name: {type: string}, contentBytes: {type: string}}
    required: [event_id, attachment]
    request:
      method: POST
      path: "/me/events/{{ event_id }}/attachments"
      body: "{{ attachment }}"
    output: {type: object}
"""


def _path(
    params: list[str] | None = None, body: dict[str, object] | None = None, method: str = "get"
) -> dict[str, object]:
    operation: dict[str, object] = {
        "parameters": [{"name": p, "in": "query"} for p in params or []]
    }
    if body is not None:
        operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return {method: operation}


DESCRIPTION: dict[str, Any] = {
    "openapi": "3.0.4",
    "paths": {
        "/places/graph.room": _path(["$select", "$expand"]),
        "/places/{place-id}/graph.roomList/rooms": {
            "parameters": [{"name": "place-id", "in": "path"}],
            "get": {
                "parameters": [
                    {"$ref": "#/components/parameters/select"},
                    {"name": "$expand", "in": "query"},
                ]
            },
        },
        "/me/outlook/masterCategories": _path(
            body={"$ref": "#/components/schemas/category"}, method="post"
        ),
        "/users/{user-id}/outlook/masterCategories": _path(
            body={"$ref": "#/components/schemas/category"}, method="post"
        ),
        "/me/events/{event-id}/accept": _path(
            body={
                "type": "object",
                "properties": {"Comment": {"type": "string"}, "SendResponse": {"type": "boolean"}},
            },
            method="post",
        ),
        "/me/events/{event-id}/attachments": _path(
            body={"$ref": "#/components/schemas/attachment"}, method="post"
        ),
    },
    "components": {
        "parameters": {"select": {"name": "$select", "in": "query"}},
        "schemas": {
            "category": {"type": "object", "properties": {"displayName": {}, "color": {}}},
            "attachment": {"type": "object", "properties": {"name": {}, "size": {}}},
            "fileAttachment": {
                "allOf": [
                    {"$ref": "#/components/schemas/attachment"},
                    {"type": "object", "properties": {"contentBytes": {}}},
                ]
            },
        },
    },
}


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    target = tmp_path / "mini"
    (target / "operations").mkdir(parents=True)
    shutil.copytree(ROOT / "schemas", target / "schemas")
    manifest = yaml.safe_load((ROOT / "connector.yaml").read_text())
    manifest["operations"] = ["operations/mini.yaml"]
    manifest.pop("triggers", None)  # they need the delta operation mini has not
    (target / "connector.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (target / "operations" / "mini.yaml").write_text(MINI_OPERATIONS)
    return target


def _write(tmp_path: Path, description: dict[str, Any]) -> Path:
    path = tmp_path / "graph.yaml"
    path.write_text(yaml.safe_dump(description))
    return path


def _rules(
    mini: Path, tmp_path: Path, description: dict[str, Any] = DESCRIPTION
) -> list[tuple[str, str]]:
    found = lint(mini, _write(tmp_path, description))
    return [(f.rule, f.message) for f in found if f.rule.startswith("openapi-")]


def test_a_matching_description_gives_no_findings(mini: Path, tmp_path: Path) -> None:
    # Every owner form is found, PascalCase action parameters match, @odata.type is ignored,
    # and a derived type's property (contentBytes of a fileAttachment) is accepted.
    assert _rules(mini, tmp_path) == []


def test_planted_mistakes_are_reported(mini: Path, tmp_path: Path) -> None:
    text = (mini / "operations" / "mini.yaml").read_text()
    text = text.replace(
        'path: "/me/events/{{ event_id }}/accept"', 'path: "/me/events/{{ event_id }}/acept"'
    )
    text = text.replace(
        "      method: POST\n      path: \"{% include 'mailbox' %}",
        "      method: PUT\n      path: \"{% include 'mailbox' %}",
    )
    text = text.replace(
        "properties: {name: {type: string}, contentBytes: {type: string}}",
        "properties: {name: {type: string}, contentBytes: {type: string}, colour: {type: string}}",
    )
    text = text.replace("    traits: [select]\n", "    traits: [select, list_query]\n")
    (mini / "operations" / "mini.yaml").write_text(text)
    rules = _rules(mini, tmp_path)
    assert (
        "openapi-path",
        "operation 'respond': POST /me/events/{…}/acept is not in the description",
    ) in rules
    assert (
        "openapi-method",
        "operation 'make_category': /me/outlook/masterCategories has no PUT (it has POST)",
    ) in rules
    assert (
        "openapi-method",
        "operation 'make_category': /users/{user-id}/outlook/masterCategories has no PUT "
        "(it has POST)",
    ) in rules
    assert (
        "openapi-body",
        "operation 'add_file': 'colour' is not a property of the request body of POST "
        "/me/events/{event-id}/attachments",
    ) in rules
    assert (
        "openapi-query",
        "operation 'list_rooms_mini': GET /places/{place-id}/graph.roomList/rooms "
        "does not accept $filter",
    ) in rules
    assert {rule for rule, _ in rules} == {
        "openapi-path",
        "openapi-method",
        "openapi-body",
        "openapi-query",
    }


def test_an_owner_form_missing_from_the_description_is_reported(mini: Path, tmp_path: Path) -> None:
    description = {**DESCRIPTION, "paths": dict(DESCRIPTION["paths"])}
    del description["paths"]["/users/{user-id}/outlook/masterCategories"]
    assert _rules(mini, tmp_path, description) == [
        (
            "openapi-path",
            "operation 'make_category': POST /users/{…}/outlook/masterCategories "
            "is not in the description",
        )
    ]


def test_lint_cli_with_openapi(mini: Path, tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    assert cli("lint", str(mini), "--openapi", str(_write(tmp_path, DESCRIPTION))).code == 0
    missing = cli("lint", str(mini), "--openapi", str(tmp_path / "nope.yaml"))
    assert missing.code == 2 and "cannot read" in missing.err
    (tmp_path / "bad.yaml").write_text("just: text\n")
    assert cli("lint", str(mini), "--openapi", str(tmp_path / "bad.yaml")).code == 2


def test_every_operation_but_the_raw_request_has_owner_forms() -> None:
    # A form the schema wrongly rules out would be silently skipped by the OpenAPI check.
    connector = mscal.load_connector()
    without = [
        name
        for name, operation in connector.spec.operations.items()
        if not list(owner_forms(connector, operation))
    ]
    assert without == ["raw_http_request"]
    sync = connector.spec.operation("sync_calendar_view")
    assert (
        len(list(owner_forms(connector, sync))) == 7
    )  # me, users, group; default, calendar, in a group


def test_openapi_findings_point_at_the_operation(spec_copy: Path, tmp_path: Path) -> None:
    description = tmp_path / "graph.yaml"
    description.write_text(json.dumps(DESCRIPTION))
    (spec_copy / "operations" / "mini.yaml").write_text(
        MINI_OPERATIONS.replace(
            'path: "/me/events/{{ event_id }}/accept"', 'path: "/me/events/{{ event_id }}/acept"'
        )
    )
    manifest = spec_copy / "connector.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "  - operations/calendars.yaml\n", "  - operations/mini.yaml\n"
        )
    )
    text = (spec_copy / "operations" / "mini.yaml").read_text()
    offset = text.index('path: "/me/events/{{ event_id }}/acept"')
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    found = [
        (f.line, f.column)
        for f in lint(spec_copy, description)
        if f.rule == "openapi-path" and "'respond'" in f.message
    ]
    assert found == [(line, column)]
