"""A corpus of deliberately broken specs: one mistake per rule, each reported with its exact rule
id, file, line and column. The position expected is where `anchor` stands in the edited file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mscal.lint.core import lint
from mscal.lint.rules import RULES
from mscal.spec.load import default_spec_root
from tests.conftest import CliResult
from tests.test_lint_openapi import DESCRIPTION, MINI_OPERATIONS

ROOT = default_spec_root()
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
        "request:\n      method: GET\n      path: \"{% include 'mailbox' %}/calendarGroups/{{ calendar_group_id \"",
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


def _position(path: Path, anchor: str) -> tuple[int, int]:
    text = path.read_text()
    offset = text.index(anchor)
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _edit(root: Path, case: Broken) -> tuple[Path, int, int]:
    path = root / case.file
    text = path.read_text()
    assert text.count(case.old) == 1, f"the corpus edit for {case.rule} no longer applies"
    text = text.replace(case.old, case.new)
    path.write_text(text)
    offset = text.index(case.anchor)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return path, line, column


@pytest.mark.parametrize("case", CORPUS, ids=[c.rule for c in CORPUS])
def test_each_rule_reports_its_mistake_where_it_was_written(spec_copy: Path, case: Broken) -> None:
    path, line, column = _edit(spec_copy, case)
    found = {(f.rule, f.file, f.line, f.column) for f in lint(spec_copy)}
    assert (case.rule, str(path.resolve()), line, column) in found, sorted(
        f for f in found if f[0] == case.rule
    )


def test_every_rule_has_a_corpus_case_or_its_own_test() -> None:
    covered = {c.rule for c in CORPUS}
    elsewhere = {
        "yaml-invalid",
        "schema-unused",
        "openapi-path",
        "openapi-method",
        "openapi-query",
        "openapi-body",
        "openapi-render",
        "diff-operation-removed",
        "diff-input-required",
        "diff-type-changed",
        "diff-output-removed",
    }
    assert covered | elsewhere == set(RULES)


def test_an_unused_schema_file_is_a_warning(spec_copy: Path) -> None:
    (spec_copy / "schemas" / "orphan.yaml").write_text("type: object\n")
    findings = [f for f in lint(spec_copy) if f.rule == "schema-unused"]
    assert [(Path(f.file).name, f.line, f.column, f.severity) for f in findings] == [
        ("orphan.yaml", 1, 1, "warning")
    ]


def test_several_unrelated_mistakes_are_all_reported_in_one_run(spec_copy: Path) -> None:
    picks = {
        "name-snake-case",
        "auth-secret-unmarked",
        "condition-field",
        "ref-unresolved",
        "method-invalid",
    }
    for picked in (c for c in CORPUS if c.rule in picks):
        case = picked
        if case.rule == "method-invalid":
            case = Broken(
                case.rule,
                "operations/calendar_groups.yaml",
                "      method: DELETE\n",
                "      method: ERASE\n",
                "method: ERASE",
            )
        _edit(spec_copy, case)
    assert picks <= {f.rule for f in lint(spec_copy)}


def test_output_formats(spec_copy: Path, cli: Callable[..., CliResult]) -> None:
    path, line, column = _edit(spec_copy, next(c for c in CORPUS if c.rule == "method-invalid"))
    text = cli("lint", str(spec_copy))
    assert text.code == 1
    assert (
        f"{path.resolve()}:{line}:{column}: error method-invalid operation 'get_calendar_group'"
        in text.out
    )
    assert "    hint: use GET, POST, PUT, PATCH or DELETE" in text.out
    as_json = json.loads(cli("lint", str(spec_copy), "--format", "json").out)
    assert {"file", "line", "column", "rule", "message", "severity", "hint"} <= set(as_json[0])
    sarif = json.loads(cli("lint", str(spec_copy), "--format", "sarif").out)
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "method-invalid"]
    assert sarif["version"] == "2.1.0"
    assert result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": line,
        "startColumn": column,
    }
    assert result["level"] == "error"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", "3:1: error yaml-invalid duplicate key 'a'"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{k}: &{k} [{', '.join(['*' + p] * 10)}]\n"
                for p, k in zip("abcdef", "bcdefg", strict=True)
            ),
            "error yaml-invalid more than 100000 values once aliases are expanded",
        ),
        ("x: !!python/object/apply:os.system [ls]\n", "error yaml-invalid not plain data"),
    ],
)
def test_unsafe_yaml_is_refused_quickly_with_a_clear_message(
    spec_copy: Path, cli: Callable[..., CliResult], text: str, message: str
) -> None:
    (spec_copy / "operations" / "raw.yaml").write_text(text)
    result = cli("lint", str(spec_copy))
    assert result.code == 2
    assert message in result.out


def test_an_oversized_file_is_refused(spec_copy: Path, cli: Callable[..., CliResult]) -> None:
    (spec_copy / "operations" / "raw.yaml").write_text("# " + "x" * (3 * 1024 * 1024) + "\n")
    result = cli("lint", str(spec_copy))
    assert result.code == 2 and "the limit is" in result.out


def test_the_shipped_spec_is_clean(cli: Callable[..., CliResult]) -> None:
    result = cli("lint")
    assert (result.code, result.out) == (0, "")


def test_diff_reports_breaking_changes(
    spec_copy: Path, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    old = tmp_path / "old"
    shutil.copytree(spec_copy, old)
    groups = spec_copy / "operations" / "calendar_groups.yaml"
    text = groups.read_text()
    start = text.index("  - name: get_calendar_group")
    text = text[:start] + text[text.index("  - name: create_calendar_group") :]
    text = text.replace(
        "    traits: [mailbox, select, list_query, paging]\n    request:",
        "    traits: [mailbox, select, list_query, paging]\n    required: [filter]\n    request:",
    )
    text = text.replace(
        "    inputs:\n      calendar_group_id: {$ref: common.yaml#/$defs/calendar_group_id}\n    required: [calendar_group_id]\n    request:\n      method: DELETE",
        "    inputs:\n      calendar_group_id: {type: integer, title: Group}\n    required: [calendar_group_id]\n    request:\n      method: DELETE",
    )
    groups.write_text(text)
    schema = spec_copy / "schemas" / "calendar_group.yaml"
    schema.write_text(schema.read_text().replace("  classId: {type: string, readOnly: true}\n", ""))

    result = cli("lint", str(spec_copy), "--diff", str(old), "--format", "json")
    findings = {
        (f["rule"], f["message"]) for f in json.loads(result.out) if f["rule"].startswith("diff-")
    }
    assert findings == {
        ("diff-operation-removed", "operation 'get_calendar_group' was removed"),
        ("diff-input-required", "operation 'list_calendar_groups': input 'filter' is now required"),
        (
            "diff-type-changed",
            "operation 'delete_calendar_group': input 'calendar_group_id' changed type from string to integer",
        ),
        (
            "diff-output-removed",
            "operation 'create_calendar_group': output property 'classId' was removed",
        ),
        (
            "diff-output-removed",
            "operation 'update_calendar_group': output property 'classId' was removed",
        ),
        (
            "diff-output-removed",
            "operation 'list_calendar_groups': output property 'value[].classId' was removed",
        ),
    }
    assert result.code == 1
    positions = {
        f["rule"]: (Path(f["file"]).name, f["line"], f["column"])
        for f in json.loads(result.out)
        if f["rule"] in {"diff-operation-removed", "diff-input-required", "diff-type-changed"}
    }
    assert positions == {
        "diff-operation-removed": (
            "connector.yaml",
            *_position(spec_copy / "connector.yaml", "operations:\n  - "),
        ),
        "diff-input-required": ("calendar_groups.yaml", *_position(groups, "required: [filter]")),
        "diff-type-changed": (
            "calendar_groups.yaml",
            *_position(groups, "calendar_group_id: {type: integer"),
        ),
    }
    same = cli("lint", str(old), "--diff", str(old))
    assert same.code == 0


def test_every_rule_is_documented() -> None:
    documented = (Path(__file__).resolve().parents[1] / "docs" / "linter.md").read_text()
    for rule_id, rule in RULES.items():
        assert f"| `{rule_id}` | {rule.severity} | {rule.hint} |" in documented


def test_oauth_templates_use_only_auth_fields(spec_copy: Path) -> None:
    path, line, column = _edit(
        spec_copy,
        Broken(
            "template-undeclared",
            "connector.yaml",
            "oauth2/{{ 'v2.0/' if api_version == 'v2.0' else '' }}token",
            "oauth2/{{ 'v2.0/' if api_verison == 'v2.0' else '' }}token",
            "token_url:",
        ),
    )
    found = {(f.rule, f.file, f.line, f.column, f.message) for f in lint(spec_copy)}
    assert (
        "template-undeclared",
        str(path.resolve()),
        line,
        column,
        "oauth2.token_url uses 'api_verison', which is not an authentication field",
    ) in found


def test_openapi_and_diff_findings_point_at_the_operation(spec_copy: Path, tmp_path: Path) -> None:
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
