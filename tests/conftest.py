"""Shared fixtures: the shipped connector, a canary token, and an in-process CLI runner."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import mscal
from mscal.cli.main import main
from mscal.spec.load import default_spec_root

GRAPH = "https://graph.microsoft.com/v1.0"
# A token that must never show up anywhere but the Authorization header.
CANARY_TOKEN = "canary-access-token-7f3c9e1d5b"


@pytest.fixture(scope="session")
def connector() -> mscal.Connector:
    return mscal.load_connector()


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    """A copy of the shipped spec to break on purpose."""
    root = default_spec_root()
    target = tmp_path / "connector"
    target.mkdir()
    shutil.copy(root / "connector.yaml", target)
    for folder in ("operations", "schemas", "triggers"):
        shutil.copytree(root / folder, target / folder)
    return target


@pytest.fixture
def auth(connector: mscal.Connector) -> mscal.Authentication:
    return connector.authentication(access_token=CANARY_TOKEN)


@pytest.fixture
def run(connector: mscal.Connector, auth: mscal.Authentication) -> Callable[..., Any]:
    def _run(operation: str, inputs: dict[str, Any] | None = None) -> Any:
        return connector.run(operation, inputs or {}, auth=auth)

    return _run


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    def _cli(*argv: str) -> CliResult:
        code = main(list(argv))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _cli


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits are recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr("mscal.io.drivers.time.sleep", slept.append)
    return slept
