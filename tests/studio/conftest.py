"""The studio over real loopback sockets: a local Graph service with its identity platform, a
studio on a private authentication store, and Debian's chromium driven by chromium-driver.

Browser tests are skipped only when chromium or chromium-driver is not installed (.ci/run
installs both); everything else about them is real: the page, its API, sign-in redirects
through the local identity platform and Graph calls to the local service.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mscal.auth.store import AuthStore
from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox, create_sandbox
from mscal.studio.app import Studio

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# Screenshots of each browser test (git-ignored), for a person to look at.
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return create_sandbox(":memory:", seed=True)


@pytest.fixture(scope="module")
def service(sandbox: Sandbox) -> Iterator[str]:
    with BackgroundServer(sandbox.app) as url:
        yield url


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> AuthStore:
    root = tmp_path_factory.mktemp("auth")
    return AuthStore(personal=root / "personal", shared=root / "shared")


@pytest.fixture(scope="module")
def studio(store: AuthStore) -> Iterator[tuple[Studio, str]]:
    """A studio of the shipped spec and the URL it prints (with its token)."""
    app = Studio(None, store)
    server = BackgroundServer(app.app)
    url = app.bound(server.url)
    with server:
        yield app, url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed (see .ci/run)")
    from selenium import webdriver  # noqa: PLC0415 - only browser tests need selenium
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    profile = tempfile.mkdtemp(prefix="mscal-studio-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    SHOTS.mkdir(exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
