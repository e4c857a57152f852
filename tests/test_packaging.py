"""The wheel carries the spec, so an installed `mscal` works from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (built,) = out.glob("microsoft_calendar_connector-*.whl")
    return built


def test_wheel_contains_the_spec(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mscal/shipped_spec/connector.yaml" in names
    for folder in ("operations", "schemas"):
        shipped = {p.name for p in (ROOT / folder).iterdir() if p.suffix in {".yaml", ".json"}}
        assert {
            n.rsplit("/", 1)[-1] for n in names if n.startswith(f"mscal/shipped_spec/{folder}/")
        } == shipped
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "mscal = mscal.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_package_runs_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import mscal, mscal.spec.load as s; print(s.default_spec_root()); "
            "from mscal.cli.main import main; raise SystemExit(main(['operations', '--json']))",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    root_line, listing = probe.stdout.split("\n", 1)
    assert Path(root_line) == site / "mscal" / "shipped_spec"
    assert '"name": "raw_http_request"' in listing
