"""`mscal auth` and `mscal run` read and write the store MSCAL_STORE names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mscal.state.redis_store import RedisStore
from tests.conftest import CliResult
from tests.state.test_celery_workers import save_app_authentication

SECRET = "any-secret-works-here"


def test_auth_list_show_and_run_use_the_redis_store(
    store_url: str,
    service: str,
    cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    save_app_authentication(store_url, service, name="Shared App")
    monkeypatch.setenv("MSCAL_STORE", store_url)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no personal files to fall back on
    listed = cli("auth", "list")
    assert listed.code == 0 and "Shared App" in listed.out and "shared" in listed.out
    shown = cli("auth", "show", "Shared App")
    token = RedisStore(store_url).authentications.load("Shared App").tokens["access_token"]
    assert shown.code == 0 and SECRET not in shown.out and token not in shown.out
    ran = cli(
        "run", "list_calendars", "--auth", "Shared App",
        "--input", '{"user_id": "alex@contoso.onmicrosoft.com", "select": ["id"]}',
    )  # fmt: skip
    assert ran.code == 0, ran.err
    assert '"value"' in ran.out and token not in ran.out + ran.err


def test_an_unknown_store_scheme_is_refused_with_the_rule(
    cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MSCAL_STORE", "memcached://127.0.0.1:11211")
    refused = cli("auth", "list")
    assert refused.code == 2
    assert "MSCAL_STORE" in refused.err and "redis://" in refused.err
    assert "Traceback" not in refused.err
