"""One lint run reports every file's findings, even when one file is not YAML or breaks its
meta-schema; template errors point into the template; SARIF names files relative to the spec."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from mscal.lint.core import lint
from tests.conftest import CliResult
from tests.lint.broken_specs import CORPUS, GET_FORM, Broken, edit


def _case(rule: str) -> Broken:
    return next(c for c in CORPUS if c.rule == rule)


def test_a_file_that_is_not_yaml_hides_no_other_file(
    spec_copy: Path, cli: Callable[..., CliResult]
) -> None:
    path, line, column = edit(spec_copy, _case("method-invalid"))
    (spec_copy / "operations" / "places.yaml").write_text("operations:\n  - name: [unclosed\n")
    result = cli("lint", str(spec_copy))
    assert result.code == 2
    assert "places.yaml:2:11: error yaml-invalid invalid YAML" in result.out
    assert f"{path.resolve()}:{line}:{column}: error method-invalid" in result.out
    assert "the linter could not read every file (the others were checked)" in result.err


def test_a_meta_schema_error_hides_no_other_file(spec_copy: Path) -> None:
    """A key the meta-schema does not know, in one file; a format only the loaded spec can
    check, in another: both in one run."""
    meta = Broken(
        "meta-schema",
        "operations/sharing.yaml",
        "    description: Who the calendar is shared with, and with which role.\n",
        "    description: Who the calendar is shared with, and with which role.\n    colour: red\n",
        "colour: red",
    )
    meta_path, meta_line, meta_column = edit(spec_copy, meta)
    other_path, other_line, other_column = edit(spec_copy, _case("format-unknown"))
    found = {(f.rule, Path(f.file).name, f.line, f.column) for f in lint(spec_copy)}
    assert ("meta-schema", meta_path.name, meta_line, meta_column) in found
    assert ("format-unknown", other_path.name, other_line, other_column) in found, sorted(found)


def test_a_template_error_on_a_later_line_of_a_block_is_reported_there(spec_copy: Path) -> None:
    broken = Broken(
        "template-syntax",
        "operations/calendar_groups.yaml",
        GET_FORM,
        "method: GET\n      path: |-\n        {% include 'mailbox' %}/calendarGroups/\n"
        "        {{ calendar_group_id }{% endif %}",
        "{{ calendar_group_id }{% endif %}",
    )
    path, line, column = edit(spec_copy, broken)
    found = [f for f in lint(spec_copy) if f.rule == "template-syntax"]
    assert [(Path(f.file).name, f.line, f.column) for f in found] == [(path.name, line, column)]


def test_sarif_names_files_relative_to_the_spec(
    spec_copy: Path, cli: Callable[..., CliResult]
) -> None:
    edit(spec_copy, _case("method-invalid"))
    sarif = json.loads(cli("lint", str(spec_copy), "--format", "sarif").out)
    run = sarif["runs"][0]
    assert run["originalUriBaseIds"] == {"SPECROOT": {"uri": spec_copy.resolve().as_uri() + "/"}}
    (result,) = [r for r in run["results"] if r["ruleId"] == "method-invalid"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "operations/calendar_groups.yaml",
        "uriBaseId": "SPECROOT",
    }
    driver = run["tool"]["driver"]
    assert driver["name"] == "mscal lint" and driver["version"] == "0.1.0"
    # Where to read about the tool: the package's declared URL, never a made-up one.
    assert driver.get("informationUri", "https://").startswith("https://")
    assert driver.get("informationUri") != "https://github.com/"
