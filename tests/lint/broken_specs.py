"""A corpus of deliberately broken specs: one mistake per rule, and where each must be reported.
The position expected is where `anchor` stands in the edited file."""

# The corpus holds spec fragments verbatim, as they stand in the YAML files.
# ruff: noqa: E501

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

GROUP_GET = "operations/calendar_groups.yaml"
GET_PATH = "path: \"{% include 'mailbox' %}/calendarGroups/{{ calendar_group_id }}\""
GET_FORM = "method: GET\n      " + GET_PATH


@dataclass
class Broken:
    rule: str
    file: str
    old: str
    new: str
    anchor: str  # where the finding must point, in the edited file


CORPUS = [
    Broken(
        "meta-schema",
        GROUP_GET,
        "    request:\n      method: GET\n      path: \"{% include 'mailbox' %}/calendarGroups/{{",
        "    reqest:\n      method: GET\n      path: \"{% include 'mailbox' %}/calendarGroups/{{",
        "reqest:",
    ),
    Broken(
        "spec-load",
        GROUP_GET,
        "  - name: get_calendar_group\n",
        "  - nam: get_calendar_group\n",
        "group: Calendar groups",
    ),
    Broken(
        "name-snake-case",
        GROUP_GET,
        "name: get_calendar_group",
        "name: getCalendarGroup",
        "name: getCalendarGroup",
    ),
    Broken(
        "name-unique",
        GROUP_GET,
        "name: get_calendar_group",
        "name: list_calendar_groups",
        "name: list_calendar_groups\n    title: Get",
    ),
    Broken(
        "trait-unknown",
        GROUP_GET,
        "traits: [mailbox, select]\n    inputs:\n      calendar_group_id",
        "traits: [mailbox, selection]\n    inputs:\n      calendar_group_id",
        "selection",
    ),
    Broken(
        "ref-unresolved",
        "operations/calendars.yaml",
        "output: {$ref: calendar.yaml}\n    examples:\n      - title: The default",
        "output: {$ref: calender.yaml}\n    examples:\n      - title: The default",
        "$ref: calender.yaml",
    ),
    Broken(
        "schema-invalid",
        GROUP_GET,
        "      calendar_group_id: {$ref: common.yaml#/$defs/calendar_group_id}\n    required: [calendar_group_id]\n    request:\n      method: GET",
        "      calendar_group_id: {type: wrong}\n    required: [calendar_group_id]\n    request:\n      method: GET",
        "inputs:\n      calendar_group_id: {type: wrong}",
    ),
    Broken(
        "format-unknown",
        GROUP_GET,
        "      calendar_group_id: {$ref: common.yaml#/$defs/calendar_group_id}\n    required: [calendar_group_id]\n    request:\n      method: GET",
        "      calendar_group_id: {type: string, title: G, format: colour}\n    required: [calendar_group_id]\n    request:\n      method: GET",
        "calendar_group_id: {type: string, title: G, format: colour}",
    ),
    Broken(
        "template-syntax",
        GROUP_GET,
        GET_FORM,
        "method: GET\n      path: \"{% include 'mailbox' %}/calendarGroups/{{ calendar_group_id \"",
        # At the template itself, not at its request: key.
        "\"{% include 'mailbox' %}/calendarGroups/{{ calendar_group_id \"",
    ),
    Broken(
        "schema-accident",
        "operations/raw.yaml",
        "body: {description: 'The response body, parsed as JSON when it is JSON, else text.'}",
        "body: {description: The response body, parsed as JSON when it is JSON, else text.}",
        "parsed as JSON when it is JSON",
    ),
    Broken(
        "template-undeclared",
        GROUP_GET,
        GET_FORM,
        GET_FORM.replace("calendar_group_id", "group_of_calendars"),
        "request:\n      method: GET\n      path: \"{% include 'mailbox' %}/calendarGroups/{{ group_of",
    ),
    Broken(
        "template-in-literal",
        GROUP_GET,
        "title: Get a calendar group",
        "title: Get {{ calendar_group_id }}",
        "title: Get {{",
    ),
    Broken(
        "input-unused",
        GROUP_GET,
        "      calendar_group_id: {$ref: common.yaml#/$defs/calendar_group_id}\n    required: [calendar_group_id]\n    request:\n      method: GET",
        "      calendar_group_id: {$ref: common.yaml#/$defs/calendar_group_id}\n      spare: {type: string, title: Spare}\n    required: [calendar_group_id]\n    request:\n      method: GET",
        "spare:",
    ),
    Broken(
        "method-invalid",
        GROUP_GET,
        "      method: GET\n      " + GET_PATH,
        "      method: FETCH\n      " + GET_PATH,
        "method: FETCH",
    ),
    Broken(
        "path-relative",
        GROUP_GET,
        GET_FORM,
        'method: GET\n      path: "https://graph.example/calendarGroups/{{ calendar_group_id }}"',
        'path: "https://graph.example',
    ),
    Broken(
        "path-param-optional",
        GROUP_GET,
        "    required: [calendar_group_id]\n    request:\n      method: GET\n",
        "    request:\n      method: GET\n",
        GET_PATH,
    ),
    Broken(
        "body-not-allowed",
        GROUP_GET,
        "      method: GET\n      " + GET_PATH,
        '      method: GET\n      body: "{{ calendar_group_id }}"\n      ' + GET_PATH,
        'body: "{{ calendar_group_id }}"',
    ),
    Broken(
        "forbidden-header",
        GROUP_GET,
        "      method: GET\n      " + GET_PATH,
        "      method: GET\n      headers: {Cookie: x}\n      " + GET_PATH,
        "Cookie: x",
    ),
    Broken(
        "auth-secret-unmarked",
        "connector.yaml",
        "      secret: true\n    - key: client_certificate",
        "    - key: client_certificate",
        "key: client_secret",
    ),
    Broken(
        "missing-title",
        GROUP_GET,
        "    title: Get a calendar group\n",
        "    title: ''\n",
        "title: ''",
    ),
    Broken(
        "missing-description",
        GROUP_GET,
        "    description: Get one calendar group.\n",
        "",
        "name: get_calendar_group",
    ),
    Broken(
        "missing-output",
        GROUP_GET,
        "    output: {$ref: calendar_group.yaml}\n    examples:\n      - title: One calendar group",
        "    examples:\n      - title: One calendar group",
        "name: get_calendar_group",
    ),
    Broken(
        "example-invalid",
        GROUP_GET,
        "        input: {calendar_group_id: AAMkG1=}\n        request: {method: GET",
        "        input: {calendar_group_id: 5}\n        request: {method: GET",
        "title: One calendar group",
    ),
    Broken(
        "example-mismatch",
        GROUP_GET,
        "url: https://graph.microsoft.com/v1.0/me/calendarGroups/AAMkG1%3D}",
        "url: https://graph.microsoft.com/v1.0/me/calendarGroup/AAMkG1%3D}",
        "title: One calendar group",
    ),
    Broken(
        "example-output-schema",
        GROUP_GET,
        "        response: {body: {id: AAMkG1=, name: My Calendars}}\n        output: {id: AAMkG1=, name: My Calendars}",
        "        response: {body: {id: AAMkG1=, name: 7}}\n        output: {id: AAMkG1=, name: 7}",
        "output: {id: AAMkG1=, name: 7}",
    ),
    Broken(
        "lookup-operation",
        GROUP_GET,
        "      calendar_group_id: {$ref: common.yaml#/$defs/calendar_group_id}\n    required: [calendar_group_id]\n    request:\n      method: GET",
        "      calendar_group_id: {type: string, title: G, x-lookup: {operation: list_nothing, value: id, label: name}}\n    required: [calendar_group_id]\n    request:\n      method: GET",
        "calendar_group_id: {type: string, title: G, x-lookup",
    ),
    Broken(
        "lookup-path",
        GROUP_GET,
        "      calendar_group_id: {$ref: common.yaml#/$defs/calendar_group_id}\n    required: [calendar_group_id]\n    request:\n      method: GET",
        "      calendar_group_id: {type: string, title: G, x-lookup: {operation: list_calendar_groups, value: id, label: nom}}\n    required: [calendar_group_id]\n    request:\n      method: GET",
        "calendar_group_id: {type: string, title: G, x-lookup",
    ),
    Broken(
        "condition-field",
        "operations/raw.yaml",
        "x-condition: {field: body_type, not_in: [none]}",
        "x-condition: {field: body_kind, not_in: [none]}",
        "body:\n        title: Body",
    ),
]


def position(path: Path, anchor: str) -> tuple[int, int]:
    text = path.read_text()
    offset = text.index(anchor)
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def edit(root: Path, case: Broken) -> tuple[Path, int, int]:
    path = root / case.file
    text = path.read_text()
    assert text.count(case.old) == 1, f"the corpus edit for {case.rule} no longer applies"
    text = text.replace(case.old, case.new)
    path.write_text(text)
    offset = text.index(case.anchor)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return path, line, column
