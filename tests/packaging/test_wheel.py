"""The wheel carries the spec, so an installed `mscal` works from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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


def _requirements(wheel: Path) -> list[str]:
    archive = zipfile.ZipFile(wheel)
    metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    return [
        line.split(":", 1)[1].strip()
        for line in archive.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]


def test_the_runtime_alone_installs_no_web_server_or_progress_bar(wheel: Path) -> None:
    required = {
        r.split(";")[0].split(">")[0].split("<")[0].split("=")[0].strip().lower()
        for r in _requirements(wheel)
        if "extra ==" not in r
    }
    assert required.isdisjoint(
        {"starlette", "uvicorn", "tqdm", "python-dateutil", "tzdata", "tzlocal"}
    ), required
    # Many workers are a choice: Redis, Celery and Temporal come with their extras only.
    assert required.isdisjoint({"redis", "celery", "temporalio"}), required
    assert {"httpx2", "jsonschema", "jinja2", "authlib"} <= required
    extras = {r for r in _requirements(wheel) if "extra ==" in r}
    assert any(r.startswith("starlette") and "sandbox" in r for r in extras), extras
    assert any(r.startswith("tqdm") and "progress" in r for r in extras), extras
    for package, extra in (("redis", "redis"), ("celery", "celery"), ("temporalio", "temporal")):
        assert any(r.startswith(package) and f"extra == '{extra}'" in r for r in extras), extras


@pytest.mark.parametrize("command", [["sandbox", "--port", "0"], ["demo"]])
def test_the_local_service_without_its_extra_says_what_to_install(command: list[str]) -> None:
    # As if starlette were not installed: an entry of None in sys.modules makes its import fail.
    script = (
        "import sys; sys.modules['starlette'] = None; "
        f"from mscal.cli.main import main; raise SystemExit(main({command!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "pip install 'microsoft-calendar-connector[sandbox]'" in done.stderr
    assert done.stdout == ""
