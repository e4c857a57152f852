"""The Graph types the local service reads bodies by are those of Microsoft's description
(regenerate with `python -m tools.sandbox_types` when it changes)."""

from __future__ import annotations

import pytest
import yaml
from tools.graph_fuzz import DESCRIPTION
from tools.sandbox_types import build

from mscal.sandbox.http.bodies import TYPES_FILE, Kind, facts


@pytest.mark.skipif(
    not DESCRIPTION.is_file(),
    reason=f"Graph's description is not beside the checkout: {DESCRIPTION}",
)
def test_the_shipped_types_are_the_descriptions() -> None:
    description = yaml.safe_load(DESCRIPTION.read_text(encoding="utf-8"))
    assert build(description) == yaml.safe_load(TYPES_FILE.read_text(encoding="utf-8"))


def test_every_named_type_is_known() -> None:
    known = set(facts()["types"]) | set(facts()["enums"])
    primitives = {"string", "boolean", "int32", "int64", "double", "dateTimeOffset", "date"}
    primitives |= {"timeOfDay", "duration", "guid", "binary"}
    notations = [n for t in facts()["types"].values() for n in t.values()]
    notations += [n for a in facts()["actions"].values() for n in a.values()]
    assert {Kind.parse(n).name for n in notations} - known - primitives == set()
    assert facts()["types"]["event"]["id"] == "readonly string"
    assert Kind.parse(facts()["types"]["event"]["webLink"]).readonly
