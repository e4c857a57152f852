"""connector.yaml and every operation file are checked against the shipped meta-schemas when the
spec is loaded: a file that fails is a SpecError naming the file, the key path and the rule. The
linter's lenient load still reads such a spec (it reports the same problems as findings)."""

from __future__ import annotations

from pathlib import Path

import pytest

import mscal
from mscal.lint.core import lint
from mscal.spec.load import load_spec, shipped_meta_schemas

GROUPS = Path("operations") / "calendar_groups.yaml"


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_the_shipped_spec_matches_its_meta_schemas() -> None:
    spec = load_spec(fresh=True)
    meta = shipped_meta_schemas()
    assert meta.best_error("connector.schema.json", spec.manifest) is None
    assert {"connector.schema.json", "operations.schema.json", "triggers.schema.json"} == set(
        meta.contents
    )


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            GROUPS,
            "    request:\n      method: GET\n",
            "    reqest:\n      method: GET\n",
            "operations.0.request: is required (rule: required)",
        ),
        (
            GROUPS,
            "    title: Get a calendar group\n",
            "    title: Get a calendar group\n    paged: true\n",
            "operations.1.paged: is not a known key (rule: additionalProperties)",
        ),
        (
            Path("connector.yaml"),
            "    max_retries: 3\n",
            "    max_retries: -1\n",
            "defaults.retry.max_retries: -1 is less than the minimum of 0 (rule: minimum)",
        ),
        (
            Path("connector.yaml"),
            "    depends_on: dependsOn\n",
            "    depends_on: [dependsOn]\n",
            "defaults.batch.depends_on: ['dependsOn'] is not of type 'string' (rule: type)",
        ),
        (
            Path("triggers") / "events.yaml",
            "    changes: [deleted]\n",
            "    changes: [removed]\n",
            "triggers.2.changes.0: 'removed' is not one of ['created', 'updated', 'deleted', "
            "'cancelled', 'starting_soon'] (rule: enum)",
        ),
        (
            Path("triggers") / "events.yaml",
            "    max_minutes: 10080\n",
            "    max_minutes: 10080\n    max_minute: 10080\n",
            "source.subscription.max_minute: is not a known key (rule: additionalProperties)",
        ),
    ],
    ids=["missing", "unknown", "minimum", "type", "trigger-change", "trigger-unknown"],
)
def test_a_file_that_fails_its_meta_schema_is_a_spec_error_naming_key_and_rule(
    spec_copy: Path, file: Path, old: str, new: str, message: str
) -> None:
    _replace(spec_copy / file, old, new)
    with pytest.raises(mscal.SpecError) as caught:
        load_spec(spec_copy, fresh=True)
    assert str(caught.value) == f"{spec_copy / file}: {message}"
    with pytest.raises(mscal.SpecError):
        mscal.load_connector(spec_copy)  # the builder's entry point refuses it too


def test_the_lenient_load_reads_a_spec_the_meta_schema_refuses(spec_copy: Path) -> None:
    _replace(
        spec_copy / GROUPS,
        "    title: Get a calendar group\n",
        "    title: Get a calendar group\n    paged: true\n",
    )
    spec = load_spec(spec_copy, lenient=True)
    assert "get_calendar_group" in spec.operations
    findings = [f for f in lint(spec_copy) if f.rule == "meta-schema"]
    assert [f.message for f in findings] == ["operations.1: unknown key 'paged'"]
