"""The shipped spec is complete and self-consistent; the linter catches planted mistakes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from tools.operations_table import render as render_table

import mscal
from mscal.lint.core import lint
from mscal.lint.examples import example_problems
from mscal.spec.load import default_spec_root, read_yaml
from tests.conftest import CliResult

ROOT = default_spec_root()


def test_identity_and_base_url(connector: mscal.Connector) -> None:
    manifest = connector.spec.manifest
    assert manifest["name"] == "microsoft-calendar"
    assert manifest["base_url"] == "https://graph.microsoft.com/v1.0"
    assert manifest["version"].count(".") == 2
    assert manifest["title"] and manifest["description"] and manifest["icon"]


def test_auth_form_has_help_and_defaults(connector: mscal.Connector) -> None:
    fields = {f["key"]: f for f in connector.auth_form}
    assert all(f["title"] and len(f["help"]) > 30 for f in fields.values())
    assert fields["api_version"]["schema"]["default"] == "v2.0"
    assert fields["api_version"]["schema"]["enum"] == ["v2.0", "v1.0"]
    assert fields["grant_type"]["schema"]["enum"] == ["authorization_code", "client_credentials"]
    assert fields["authority_host"]["schema"]["default"] == "https://login.microsoftonline.com"
    assert fields["offline_access"]["schema"]["type"] == "boolean"
    assert [k for k, f in fields.items() if f["secret"]] == ["client_secret", "client_certificate"]
    assert {k for k, f in fields.items() if f["advanced"]} == {
        "client_certificate",
        "grant_type",
        "authority_host",
        "base_url",
    }


def test_every_schema_file_is_valid_draft_2020_12() -> None:
    for path in sorted((ROOT / "schemas").glob("*.yaml")):
        Draft202012Validator.check_schema(read_yaml(path))


def test_every_operation_has_titles_and_resolvable_schemas(connector: mscal.Connector) -> None:
    for operation in connector.operations:
        assert operation["title"] and operation["description"], operation["name"]
        Draft202012Validator.check_schema(operation["input_schema"])
        Draft202012Validator.check_schema(operation["output_schema"])
        for name, prop in operation["input_schema"]["properties"].items():
            assert prop.get("title") or prop.get("description"), (operation["name"], name)


def test_graph_resources_do_not_require_odata_type(connector: mscal.Connector) -> None:
    event = connector.describe("create_event")["input_schema"]["properties"]["event"]
    assert "@odata.type" not in event.get("required", [])


@pytest.mark.parametrize(
    ("operation", "index"),
    [
        (op.name, i)
        for op in mscal.load_connector().spec.operations.values()
        for i in range(len(op.examples))
    ],
)
def test_examples_render_to_their_stated_request(
    connector: mscal.Connector, operation: str, index: int
) -> None:
    example = connector.spec.operations[operation].examples[index]
    assert example_problems(connector, operation, example) == []


def test_a_wrong_example_is_reported(connector: mscal.Connector) -> None:
    example = {"input": {"top": 2}, "request": {"method": "POST", "url": "https://x/"}}
    assert example_problems(connector, "list_calendars", example) == [
        "method is GET, the example says POST",
        "URL is https://graph.microsoft.com/v1.0/me/calendars?%24top=2, the example says https://x/",
    ]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_lint_reports_several_planted_mistakes(spec_copy: Path) -> None:
    calendars = spec_copy / "operations" / "calendars.yaml"
    _edit(calendars, "- name: get_calendar", "- name: getCalendar")
    _edit(
        calendars,
        "url: https://graph.microsoft.com/v1.0/me/calendar}",
        "url: https://graph.microsoft.com/v1.0/me/calendarz}",
    )
    list_path = "path: \"{% include 'calendars' %}\"\n"
    _edit(calendars, list_path, list_path + "      headers: {Authorization: x}\n")
    _edit(spec_copy / "connector.yaml", "      secret: true\n", "")
    rules = {(Path(f.file).name, f.rule) for f in lint(spec_copy)}
    assert rules == {
        ("calendars.yaml", "name-snake-case"),
        ("calendars.yaml", "example-mismatch"),
        ("calendars.yaml", "forbidden-header"),
        ("calendars.yaml", "example-invalid"),  # the example cannot render with that header
        ("connector.yaml", "auth-secret-unmarked"),
    }


def test_lint_cli_exit_codes(spec_copy: Path, cli: Callable[..., CliResult]) -> None:
    assert cli("lint", str(spec_copy)).code == 0
    assert cli("lint", str(spec_copy / "connector.yaml")).code == 0
    _edit(spec_copy / "operations" / "events.yaml", "    title: Get an event\n", "    title: ''\n")
    result = cli("lint", str(spec_copy))
    assert result.code == 1
    assert "error missing-title operation 'get_event' has no title" in result.out


def test_a_yaml_error_is_reported_with_its_position(
    spec_copy: Path, cli: Callable[..., CliResult]
) -> None:
    _edit(spec_copy / "connector.yaml", "name: microsoft-calendar", "name: [unclosed")
    result = cli("lint", str(spec_copy))
    assert result.code == 2
    text = (spec_copy / "connector.yaml").read_text()
    line = text[: text.index("name: [unclosed")].count("\n") + 1
    assert result.out.startswith(
        f"{spec_copy / 'connector.yaml'}:{line}:7: error yaml-invalid invalid YAML"
    )
    assert "the linter could not read every file (the others were checked)" in result.err


@pytest.mark.parametrize(
    ("file", "old", "new", "rule"),
    [
        (
            "operations/events.yaml",
            "traits: [mailbox, group, calendar, select, preferences]",
            "traits: [mailbox, nonsense]",
            "trait-unknown",
        ),
        ("operations/raw.yaml", "- name: raw_http_request", "- name: list_events", "name-unique"),
    ],
)
def test_structural_mistakes_are_findings_not_a_stop(
    spec_copy: Path, cli: Callable[..., CliResult], file: str, old: str, new: str, rule: str
) -> None:
    _edit(spec_copy / file, old, new)
    result = cli("lint", str(spec_copy))
    assert result.code == 1
    assert f" error {rule} " in result.out


def test_a_template_using_an_undeclared_input_is_reported(spec_copy: Path) -> None:
    _edit(
        spec_copy / "operations" / "calendar_groups.yaml",
        '/calendarGroups/{{ calendar_group_id }}"',
        '/calendarGroups/{{ calender_group_id }}"',
    )
    _edit(spec_copy / "connector.yaml", "{% if user_id %}", "{% if usr_id %}")
    findings = [(f.rule, f.message) for f in lint(spec_copy)]
    assert (
        "template-undeclared",
        "operation 'get_calendar_group' uses 'calender_group_id', which is not one of its inputs",
    ) in findings
    # A fragment's typo shows up in every operation that includes it.
    undeclared = [m for rule, m in findings if rule == "template-undeclared" and "'usr_id'" in m]
    # Every operation includes the 'mailbox' fragment but the raw request, the two
    # organization-wide place lookups and the subscriptions (an app's, under /subscriptions).
    operations = mscal.load_connector(spec_copy).spec.operations.values()
    assert len(undeclared) == len([o for o in operations if o.group != "Subscriptions"]) - 3


def test_running_an_undeclared_variable_is_a_spec_error_not_a_request(spec_copy: Path) -> None:
    _edit(
        spec_copy / "operations" / "calendar_groups.yaml",
        '/calendarGroups/{{ calendar_group_id }}"',
        '/calendarGroups/{{ calender_group_id }}"',
    )
    connector = mscal.load_connector(spec_copy)
    auth = connector.authentication(access_token="t")
    with pytest.raises(mscal.SpecError, match="calender_group_id"):
        connector.run("get_calendar_group", {"calendar_group_id": "g"}, auth=auth)


def test_the_operations_table_in_docs_is_generated_from_the_spec(
    connector: mscal.Connector,
) -> None:
    documented = (Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text()
    assert documented == render_table(connector), (
        "run: python -m tools.operations_table > docs/operations.md"
    )


def test_permissions_are_described(connector: mscal.Connector) -> None:
    assert connector.describe("list_events")["permissions"] == {
        "delegated": ["Calendars.Read"],
        "application": ["Calendars.Read"],
    }
    assert connector.describe("create_event")["permissions"]["delegated"] == ["Calendars.ReadWrite"]
    assert connector.describe("list_rooms")["permissions"]["delegated"] == ["Place.Read.All"]


def test_every_operation_documents_a_request_and_a_response(connector: mscal.Connector) -> None:
    for name, operation in connector.spec.operations.items():
        assert any(
            "request" in e and ({"response", "responses"} & set(e)) and "output" in e
            for e in operation.examples
        ), f"{name} needs an example with request, response and output"


def _variants(inputs: dict[str, Any]) -> list[Any]:
    """An example input and ways to break it: each key dropped, retyped, or an extra key."""
    variants: list[Any] = [inputs, {**inputs, "unexpected": 1}]
    for key, value in inputs.items():
        variants.append({k: v for k, v in inputs.items() if k != key})
        variants.append({**inputs, key: 12345 if isinstance(value, str) else "text"})
        if isinstance(value, dict):
            for inner in value:
                variants.append({**inputs, key: {**value, inner: ["wrong"]}})
                variants.append({**inputs, key: {**value, inner: None}})
    return variants


def test_the_inlined_schema_means_what_the_original_means(connector: mscal.Connector) -> None:
    for name, operation in connector.spec.operations.items():
        original = Draft202012Validator(operation.input_schema, registry=connector.spec.registry)
        inlined = Draft202012Validator(connector.describe(name)["input_schema"])
        for example in operation.examples:
            for candidate in _variants(dict(example.get("input") or {})):
                assert original.is_valid(candidate) == inlined.is_valid(candidate), (
                    name,
                    candidate,
                )
