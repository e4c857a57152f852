"""Schemas are accepted by jsonschema-rs and explained by jsonschema: whatever the fast path
says, the findings are those jsonschema gives (its message, its path), and data jsonschema-rs
cannot take (a YAML date, an integer key) is judged by jsonschema alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from mscal.lint.core import lint
from mscal.lint.validators import json_schema_meta, spec_meta_schemas
from mscal.spec.load import default_spec_root

META = Draft202012Validator(Draft202012Validator.META_SCHEMA)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "minLength": 1},
        {"type": "wrong"},
        {"minLength": -1},
        {"properties": {"a": {"type": ["string", "nope"]}}},
        {"required": "a"},
        {"$defs": {"x": {"enum": []}}, "items": {"$ref": "#/$defs/x"}},
        {"default": dt.date(2026, 1, 1), "type": "string"},  # YAML reads a date as a date
        {"properties": {1: {"type": "wrong"}}},  # an integer key
    ],
)
def test_the_meta_schema_check_gives_what_jsonschema_gives(schema: dict[Any, Any]) -> None:
    expected = best_match(META.iter_errors(schema))
    found = json_schema_meta().best_error(schema)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (found.message, list(found.absolute_path)) == (
            expected.message,
            list(expected.absolute_path),
        )


def test_the_spec_meta_schemas_refer_to_each_other() -> None:
    metas = spec_meta_schemas(default_spec_root() / "schemas")
    operations = metas["operations.schema.json"]
    assert operations.errors({"group": "G", "operations": []}) == []
    errors = operations.errors({"group": "G", "operations": [{"name": 5}]})
    assert errors and all(e.absolute_path[0] == "operations" for e in errors)


def test_an_invalid_schema_is_reported_with_jsonschemas_message(spec_copy: Path) -> None:
    groups = spec_copy / "operations" / "calendar_groups.yaml"
    text = groups.read_text()
    old = "      calendar_group_id: {$ref: common.yaml#/$defs/calendar_group_id}\n    required:"
    assert text.count(old) >= 1
    groups.write_text(text.replace(old, "      calendar_group_id: {type: wrong}\n    required:", 1))
    messages = {f.message for f in lint(spec_copy) if f.rule == "schema-invalid"}
    assert messages == {
        "operation 'get_calendar_group': 'wrong' is not valid under any of the given schemas"
    }
