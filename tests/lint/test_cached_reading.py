"""A lint run over files unchanged since the last one takes them, values and positions, from
the spec cache (no YAML parser is even imported); a file that changed is read again, and what
it reports is where the changed file says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.lint.broken_specs import CORPUS, edit

PROBE = """
import json, sys
from mscal.lint.core import lint
findings = lint(sys.argv[1])
print(json.dumps({"yaml": "yaml" in sys.modules,
                  "findings": [[f.rule, f.line, f.column] for f in findings]}))
"""


def _lint_in_a_fresh_process(spec: Path, cache: Path, **env: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(spec)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "XDG_CACHE_HOME": str(cache), **env},
    )
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def test_unchanged_files_come_from_the_cache_and_changed_ones_are_read_again(
    spec_copy: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = _lint_in_a_fresh_process(spec_copy, cache)
    assert first == {"yaml": True, "findings": []}
    assert (cache / "mscal" / "lint").is_dir()

    again = _lint_in_a_fresh_process(spec_copy, cache)
    assert again == {"yaml": False, "findings": []}

    case = next(c for c in CORPUS if c.rule == "method-invalid")
    _, line, column = edit(spec_copy, case)
    changed = _lint_in_a_fresh_process(spec_copy, cache)
    assert changed["yaml"] is True
    assert ["method-invalid", line, column] in changed["findings"]  # type: ignore[operator]


def test_with_the_cache_off_every_file_is_read(spec_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for _ in range(2):
        answer = _lint_in_a_fresh_process(spec_copy, cache, MSCAL_SPEC_CACHE="off")
        assert answer == {"yaml": True, "findings": []}
    assert not (cache / "mscal").exists()
