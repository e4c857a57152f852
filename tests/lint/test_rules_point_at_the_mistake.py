"""Each rule reports its mistake at the file, line and column where it was written."""

from __future__ import annotations

from pathlib import Path

import pytest

from mscal.lint.core import lint
from mscal.lint.rules import RULES
from tests.lint.broken_specs import CORPUS, Broken, edit


@pytest.mark.parametrize("case", CORPUS, ids=[c.rule for c in CORPUS])
def test_each_rule_reports_its_mistake_where_it_was_written(spec_copy: Path, case: Broken) -> None:
    path, line, column = edit(spec_copy, case)
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
        edit(spec_copy, case)
    assert picks <= {f.rule for f in lint(spec_copy)}


def test_every_rule_is_documented() -> None:
    documented = (Path(__file__).resolve().parents[2] / "docs" / "linter.md").read_text()
    for rule_id, rule in RULES.items():
        assert f"| `{rule_id}` | {rule.severity} | {rule.hint} |" in documented


def test_oauth_templates_use_only_auth_fields(spec_copy: Path) -> None:
    path, line, column = edit(
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
