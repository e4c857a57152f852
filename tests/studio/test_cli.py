"""`mscal studio` as a person starts it: it prints a URL with its token and serves the page on
loopback; a bad spec stops it with the loader's message and exit 2, as any command does."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx2

from mscal.studio.access import TOKEN_HEADER


def test_mscal_studio_prints_its_url_and_serves_the_page() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mscal.cli", "studio", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=([\w-]+)", line)
        assert found, line
        origin, token = found.groups()
        page = httpx2.get(origin + "/")
        assert page.status_code == 200 and "Connector studio" in page.text
        overview = httpx2.get(f"{origin}/api/overview", headers={TOKEN_HEADER: token})
        assert overview.json()["title"] == "Microsoft Calendar"
        assert httpx2.get(f"{origin}/api/overview").status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert process.returncode == 130
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")


def test_a_broken_spec_stops_the_studio_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "connector.yaml").write_text("name: [", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mscal.cli", "studio", "--no-browser", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("mscal: error: ")
    assert "connector.yaml" in done.stderr and "Traceback" not in done.stderr
