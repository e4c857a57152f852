"""Every Python snippet in docs/deployment.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_page_has_its_snippets() -> None:
    assert len(SNIPPETS) == 4


@pytest.mark.parametrize("number", range(len(SNIPPETS)))
def test_a_snippet_runs(number: int) -> None:
    exec(compile(SNIPPETS[number], f"deployment.md snippet {number + 1}", "exec"), {})
