"""Triggers in the spec: loaded like operations, checked at load and by the linter, described
for a builder under `triggers`."""

from __future__ import annotations

from pathlib import Path

import pytest

import mscal
from mscal.lint.core import lint
from mscal.spec.load import load_spec

EVENTS = Path("triggers") / "events.yaml"


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_describe_shows_each_trigger_with_its_inputs_output_and_changes() -> None:
    connector = mscal.load_connector()
    described = {t["name"]: t for t in connector.describe()["triggers"]}
    assert list(described) == [
        "event_created", "event_updated", "event_deleted", "event_cancelled",
        "event_changed", "event_starting_soon",
    ]  # fmt: skip
    assert described["event_changed"]["changes"] == ["created", "updated", "deleted", "cancelled"]
    soon = described["event_starting_soon"]
    assert set(soon["input_schema"]["properties"]) == {
        "user_id", "calendar_id", "window_days", "look_ahead_minutes",
    }  # fmt: skip
    assert soon["input_schema"]["properties"]["look_ahead_minutes"]["default"] == 15
    assert soon["modes"] == ["polling", "webhook"]
    output = described["event_deleted"]["output_schema"]
    assert output["required"] == ["trigger", "change", "event_id", "dedupe_key", "event"]
    assert "$ref" not in str(output)  # resolved for a builder
    assert "event_created" not in connector.spec.operations


def test_a_trigger_source_naming_an_unknown_operation_is_refused_at_load(spec_copy: Path) -> None:
    _replace(spec_copy / EVENTS, "operation: sync_calendar_view", "operation: sync_calendar")
    with pytest.raises(mscal.SpecError) as caught:
        load_spec(spec_copy, fresh=True)
    assert str(caught.value) == (
        f"{spec_copy / EVENTS}: source.delta.operation: unknown operation 'sync_calendar'"
    )


def test_the_linter_checks_trigger_files_and_their_examples(spec_copy: Path) -> None:
    assert lint(spec_copy) == []
    _replace(spec_copy / EVENTS, "input: {look_ahead_minutes: 15}", "input: {look_ahead: 15}")
    _replace(spec_copy / EVENTS, "    title: Event deleted\n", "    titel: Event deleted\n")
    findings = {(f.rule, f.message) for f in lint(spec_copy)}
    assert ("meta-schema", "triggers.2: unknown key 'titel'") in findings
    assert (
        "example-invalid",
        "trigger 'event_starting_soon' example 1: input does not fit its schema",
    ) in findings
