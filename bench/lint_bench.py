"""How long `mscal lint` takes on the shipped connector: the whole process, as a user runs it
(the figure the target is about), and lint() in-process.

    python bench/lint_bench.py [--rounds N]

Whole process, median of N: `mscal lint` with the spec cache warm (the files unchanged since the
last run, the usual case) and with it off (MSCAL_SPEC_CACHE=off: every file parsed, as after an
edit). In-process: the first lint() (templates and validators built for the first time) and the
median of later ones. Nothing here is asserted (speed is measured, not tested).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from mscal.lint.core import lint
from mscal.spec.load import default_spec_root, load_spec

TARGET_S = 0.8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    rounds = parser.parse_args().rounds
    spec = load_spec(fresh=True)
    root = default_spec_root()
    files = [root / "connector.yaml", *root.glob("operations/*.yaml"), *root.glob("schemas/*.yaml")]
    lines = sum(len(p.read_text().splitlines()) for p in files)
    print(f"spec: {len(spec.operations)} operations, {len(files)} files, {lines} lines of YAML")

    command = [sys.executable, "-m", "mscal.cli.main", "lint"]
    subprocess.run(command, check=True, capture_output=True)  # fills the cache
    warm = [_timed(lambda: _run(command)) for _ in range(rounds)]
    cold = [_timed(lambda: _run(command, MSCAL_SPEC_CACHE="off")) for _ in range(rounds)]
    first = _timed(lint)
    later = [_timed(lint) for _ in range(rounds)]

    median = statistics.median(warm)
    verdict = "within" if median <= TARGET_S else "OVER"
    print(f"mscal lint, whole process, cache warm (median of {rounds}) {median * 1000:6.0f} ms")
    print(f"  {verdict} the {TARGET_S * 1000:.0f} ms target; fastest {min(warm) * 1000:.0f} ms")
    print(
        f"mscal lint, whole process, cache off  (median of {rounds}) "
        f"{statistics.median(cold) * 1000:6.0f} ms"
    )
    print(f"lint() in-process, first run          {first * 1000:6.0f} ms")
    print(f"lint() in-process, median of {rounds:<9} {statistics.median(later) * 1000:6.0f} ms")


def _run(command: list[str], **env: str) -> None:
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, **env})


def _timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


if __name__ == "__main__":
    main()
