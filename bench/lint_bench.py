"""How long `mscal lint` takes on the shipped connector: in-process medians and whole process.

    python bench/lint_bench.py [--rounds N]

Prints the spec's size and the timings; nothing here is asserted (speed is measured, not tested).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from mscal.lint.core import lint
from mscal.spec.load import default_spec_root, load_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    spec = load_spec(fresh=True)
    root = default_spec_root()
    lines = sum(
        len(p.read_text().splitlines())
        for p in [
            root / "connector.yaml",
            *root.glob("operations/*.yaml"),
            *root.glob("schemas/*.yaml"),
        ]
    )
    print(f"spec: {len(spec.operations)} operations, {lines} lines of YAML")

    first = _timed(lint)  # includes compiling templates and validators for the first time
    warm = [_timed(lint) for _ in range(rounds)]
    process = [
        _timed(
            lambda: subprocess.run(
                [sys.executable, "-m", "mscal.cli.main", "lint"], check=True, capture_output=True
            )
        )
        for _ in range(max(3, rounds // 2))
    ]
    print(f"lint() first run       {first * 1000:7.0f} ms")
    print(f"lint() median of {rounds:<3}   {statistics.median(warm) * 1000:7.0f} ms")
    print(f"mscal lint, whole process (median) {statistics.median(process) * 1000:7.0f} ms")


def _timed(work: object) -> float:
    began = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - began


if __name__ == "__main__":
    main()
