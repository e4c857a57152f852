"""`mscal lint` as a command: its output formats, its exit status, and files it refuses."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.lint.broken_specs import CORPUS, edit


def test_output_formats(spec_copy: Path, cli: Callable[..., CliResult]) -> None:
    path, line, column = edit(spec_copy, next(c for c in CORPUS if c.rule == "method-invalid"))
    text = cli("lint", str(spec_copy))
    assert text.code == 1
    assert (
        f"{path.resolve()}:{line}:{column}: error method-invalid operation 'get_calendar_group'"
        in text.out
    )
    assert "    hint: use GET, POST, PUT, PATCH or DELETE" in text.out
    as_json = json.loads(cli("lint", str(spec_copy), "--format", "json").out)
    assert {"file", "line", "column", "rule", "message", "severity", "hint"} <= set(as_json[0])
    sarif = json.loads(cli("lint", str(spec_copy), "--format", "sarif").out)
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "method-invalid"]
    assert sarif["version"] == "2.1.0"
    assert result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": line,
        "startColumn": column,
    }
    assert result["level"] == "error"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", "3:1: error yaml-invalid duplicate key 'a'"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{k}: &{k} [{', '.join(['*' + p] * 10)}]\n"
                for p, k in zip("abcdef", "bcdefg", strict=True)
            ),
            "error yaml-invalid more than 100000 values once aliases are expanded",
        ),
        ("x: !!python/object/apply:os.system [ls]\n", "error yaml-invalid not plain data"),
    ],
)
def test_unsafe_yaml_is_refused_quickly_with_a_clear_message(
    spec_copy: Path, cli: Callable[..., CliResult], text: str, message: str
) -> None:
    (spec_copy / "operations" / "raw.yaml").write_text(text)
    result = cli("lint", str(spec_copy))
    assert result.code == 2
    assert message in result.out


def test_an_oversized_file_is_refused(spec_copy: Path, cli: Callable[..., CliResult]) -> None:
    (spec_copy / "operations" / "raw.yaml").write_text("# " + "x" * (3 * 1024 * 1024) + "\n")
    result = cli("lint", str(spec_copy))
    assert result.code == 2 and "the limit is" in result.out


def test_the_shipped_spec_is_clean(cli: Callable[..., CliResult]) -> None:
    result = cli("lint")
    assert (result.code, result.out) == (0, "")
