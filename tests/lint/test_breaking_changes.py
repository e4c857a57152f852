"""`mscal lint --diff OLD`: the changes that would break builders using the older spec."""

# Spec fragments and messages verbatim, as they stand in the YAML files and the report.
# ruff: noqa: E501

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult
from tests.lint.broken_specs import position


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
            *position(spec_copy / "connector.yaml", "operations:\n  - "),
        ),
        "diff-input-required": ("calendar_groups.yaml", *position(groups, "required: [filter]")),
        "diff-type-changed": (
            "calendar_groups.yaml",
            *position(groups, "calendar_group_id: {type: integer"),
        ),
    }
    same = cli("lint", str(old), "--diff", str(old))
    assert same.code == 0
