"""No module of the runtime grows past ~400 lines: a bigger one holds more than one job."""

from __future__ import annotations

from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "runtime" / "mscal"
MAX_LINES = 400


def test_every_runtime_module_is_at_most_400_lines() -> None:
    sizes = {
        str(path.relative_to(RUNTIME)): len(path.read_text(encoding="utf-8").splitlines())
        for path in RUNTIME.rglob("*.py")
    }
    assert len(sizes) > 50  # the walk found the runtime
    too_big = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert not too_big, f"modules over {MAX_LINES} lines: {too_big}"
