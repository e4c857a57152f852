"""The spec's `defaults`, typed: the runtime takes every value from the spec (none from Python),
a missing key is a SpecError naming it, and the Graph facts the spec now holds (the batch
format, token parameters, the AADSTS pattern, the API version path) are the ones used."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpx2 import HTTPXMock

import mscal
from mscal.auth.endpoints import oauth_endpoints, token_errors
from mscal.call.guard import Origin
from mscal.cli.demo import is_sandbox
from mscal.spec.load import load_spec
from tests.conftest import GRAPH

MiB = 1024 * 1024


def _edit(spec_copy: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    path = spec_copy / "connector.yaml"
    manifest = yaml.safe_load(path.read_text())
    change(manifest)
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return spec_copy


def _raw_defaults() -> dict[str, Any]:
    manifest = yaml.safe_load((load_spec().root / "connector.yaml").read_text())
    defaults: dict[str, Any] = manifest["defaults"]
    return defaults


def test_the_typed_defaults_are_the_specs_values(connector: mscal.Connector) -> None:
    raw = _raw_defaults()
    typed = connector.spec.defaults
    assert typed.limits.body_bytes == raw["limits"]["body_bytes"] == 5 * MiB  # not 4 MiB
    assert typed.limits.response_bytes == raw["limits"]["response_bytes"]
    assert typed.limits.deadline_seconds == raw["limits"]["deadline_seconds"]
    assert typed.retry.statuses == frozenset(raw["retry"]["statuses"])
    assert typed.retry.max_retries == raw["retry"]["max_retries"]
    assert typed.retry.wait_budget_seconds == raw["retry"]["wait_budget_seconds"]
    assert typed.concurrency.per_mailbox == raw["concurrency"]["per_mailbox"] == 4
    assert typed.pagination.next_link == raw["pagination"]["next_link"] == "@odata.nextLink"
    assert typed.batch.path == raw["batch"]["path"] == "/$batch"
    assert typed.batch.depends_on == "dependsOn"
    assert typed.batch.failed_dependency_status == 424
    assert typed.batch.request_id_header == typed.request_id_header == "client-request-id"
    assert typed.errors.locations()["request_id"] == raw["errors"]["request_id"]
    assert typed.permissions["read"].to_dict() == raw["permissions"]["read"]
    assert [h.status for h in typed.error_hints] == [h["status"] for h in raw["error_hints"]]
    # What the connector runs with is that same object, not a copy with values of its own.
    assert connector.limits is typed.limits
    assert connector.retry is typed.retry
    assert connector.batch is typed.batch


def test_a_body_up_to_the_specs_5_mib_is_sent(connector: mscal.Connector) -> None:
    compiled = connector.compiled("raw_http_request")
    body = {"text": "x" * (4 * MiB + 512 * 1024)}  # between the old Python 4 MiB and 5 MiB
    call = compiled.prepare(
        {"method": "POST", "endpoint": "/me/events", "body_type": "json", "body": body},
        _origin(),
    )
    assert len(call.request.content) > 4 * MiB
    with pytest.raises(mscal.InputError, match=r"limits\.body_bytes"):
        compiled.prepare(
            {
                "method": "POST",
                "endpoint": "/me/events",
                "body_type": "json",
                "body": {"t": "x" * 5 * MiB},
            },
            _origin(),
        )


def _origin() -> Origin:
    return Origin.from_base_url(GRAPH)


KEYS = [
    ("defaults", "retry", "max_retries"),
    ("defaults", "limits", "body_bytes"),
    ("defaults", "batch", "depends_on"),
    ("defaults", "batch", "failed_dependency_status"),
    ("defaults", "pagination", "resume_inputs"),
    ("defaults", "concurrency", "mailbox"),
    ("defaults", "errors", "request_id"),
    ("defaults", "permissions", "write"),
    ("defaults", "request_id_header"),
    ("defaults", "error_hints"),
]


def _drop(keys: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    def change(manifest: dict[str, Any]) -> None:
        node = manifest
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]

    return change


@pytest.mark.parametrize("keys", KEYS, ids=".".join)
def test_a_missing_default_is_a_spec_error_naming_it(
    spec_copy: Path, keys: tuple[str, ...]
) -> None:
    _edit(spec_copy, _drop(keys))
    where = ".".join(keys)
    # At load, the meta-schema names it with the rule...
    with pytest.raises(mscal.SpecError) as strict:
        load_spec(spec_copy, fresh=True)
    assert (
        str(strict.value)
        == f"{spec_copy / 'connector.yaml'}: {where}: is required (rule: required)"
    )
    # ...and the linter's lenient load, which skips the meta-schema, still gets no fallback.
    with pytest.raises(mscal.SpecError) as lenient:
        load_spec(spec_copy, lenient=True)
    assert str(lenient.value) == f"{spec_copy / 'connector.yaml'}: missing required key '{where}'"


@pytest.mark.parametrize(
    "keys",
    [
        ("authentication", "refresh_leeway_seconds"),
        ("authentication", "advice", "code_pattern"),
        ("authentication", "oauth2", "token_params"),
    ],
    ids=".".join,
)
def test_a_missing_authentication_key_is_a_spec_error_naming_it(
    spec_copy: Path, keys: tuple[str, ...]
) -> None:
    _edit(spec_copy, _drop(keys))
    with pytest.raises(
        mscal.SpecError, match=rf": {'.'.join(keys)}: is required \(rule: required\)$"
    ):
        load_spec(spec_copy, fresh=True)


def test_a_mistyped_default_is_named_in_the_lenient_load_too(spec_copy: Path) -> None:
    _edit(spec_copy, lambda m: m["defaults"]["retry"].update(max_retries=True))
    with pytest.raises(mscal.SpecError, match=r"defaults\.retry\.max_retries: True is not of type"):
        load_spec(spec_copy, fresh=True)
    with pytest.raises(mscal.SpecError, match=r"defaults\.retry\.max_retries: expected int$"):
        load_spec(spec_copy, lenient=True)


def test_session_limits_override_known_names_and_refuse_others(
    connector: mscal.Connector, auth: mscal.Authentication
) -> None:
    with (
        connector.session(auth, limits={"body_bytes": 10}) as session,
        pytest.raises(mscal.InputError, match="at most 10 are sent"),
    ):
        session.prepare("create_calendar", {"calendar": {"name": "A calendar"}})
    with pytest.raises(ValueError, match=r"unknown limits: body_size \(known: body_bytes, "):
        connector.session(auth, limits={"body_size": 10})


def test_phase_timeouts_are_left_alone_until_the_deadline_is_near(
    connector: mscal.Connector,
) -> None:
    limits = connector.limits
    assert limits.timeouts(None) is None
    assert limits.timeouts(120) is None
    assert limits.timeouts(5) == {"connect": 5, "read": 5, "write": 5, "pool": 5}
    assert limits.timeouts(20) == {"connect": 10.0, "read": 20, "write": 20, "pool": 20}


# -- the batch format ------------------------------------------------------------------------


def test_the_batch_format_comes_from_the_spec(httpx2_mock: HTTPXMock, spec_copy: Path) -> None:
    def change(manifest: dict[str, Any]) -> None:
        manifest["defaults"]["batch"].update(
            path="/batches", max_requests=2, depends_on="after", failed_dependency_status=409
        )
        manifest["defaults"]["request_id_header"] = "x-trace-id"

    connector = mscal.load_connector(_edit(spec_copy, change))
    auth = connector.authentication(access_token="t")
    httpx2_mock.add_response(
        url=f"{GRAPH}/batches",
        json={
            "responses": [
                {"id": "0", "status": 500, "body": {"error": {"code": "Boom", "message": "no"}}},
                {"id": "1", "status": 409},  # not run: sent again
            ]
        },
    )
    httpx2_mock.add_response(url=f"{GRAPH}/me/events/e1", method="DELETE", status_code=204)
    inputs = [{"event_id": "e0"}, {"event_id": "e1"}]
    outcomes = list(connector.run_many("delete_event", inputs, auth=auth))
    assert [o.ok for o in outcomes] == [False, True]
    batch, again = httpx2_mock.get_requests()
    inner = json.loads(batch.content)["requests"]
    assert [(r["id"], r.get("after")) for r in inner] == [("0", None), ("1", ["0"])]
    assert all("dependsOn" not in r for r in inner)
    assert batch.headers["x-trace-id"] and "client-request-id" not in batch.headers
    assert again.headers["x-trace-id"] == inner[1]["headers"]["x-trace-id"]


# -- the identity platform -------------------------------------------------------------------


def _values(connector: mscal.Connector, **values: Any) -> dict[str, Any]:
    base = {"client_id": "c", "tenant_id": "contoso.com", "client_secret": "s"}
    return dict(connector.authentication({**base, **values}).values)


def test_token_parameters_are_chosen_by_the_specs_cases(connector: mscal.Connector) -> None:
    def params(**values: Any) -> dict[str, str]:
        return oauth_endpoints(connector.spec, _values(connector, **values)).token_params

    assert params(
        grant_type="client_credentials", scopes=["https://graph.microsoft.com/.default"]
    ) == {"scope": "https://graph.microsoft.com/.default"}
    assert params() == {
        "scope": "https://graph.microsoft.com/Calendars.ReadWrite "
        "https://graph.microsoft.com/User.Read offline_access"
    }
    assert params(api_version="v1.0") == {"resource": "https://graph.microsoft.com"}


def test_token_parameters_follow_an_edited_spec(spec_copy: Path) -> None:
    def change(manifest: dict[str, Any]) -> None:
        manifest["authentication"]["oauth2"]["token_params"] = [
            {"when": {"api_version": "v1.0"}, "params": {"resource": "{{ resource }}/"}},
        ]

    connector = mscal.load_connector(_edit(spec_copy, change))
    values = _values(connector, api_version="v1.0")
    assert oauth_endpoints(connector.spec, values).token_params == {
        "resource": "https://graph.microsoft.com/"
    }
    with pytest.raises(mscal.AuthError, match=r"oauth2\.token_params has no case for"):
        oauth_endpoints(connector.spec, _values(connector))


class _RefusedError(Exception):
    """What authlib raises for a refused token request: an error and its description."""

    def __init__(self, description: str) -> None:
        self.error = "invalid_grant"
        self.description = description


def _refusal(monkeypatch: pytest.MonkeyPatch, advice: Any, description: str) -> str:
    monkeypatch.setattr("authlib.integrations.base_client.OAuthError", _RefusedError)
    with pytest.raises(mscal.AuthError) as caught, token_errors(advice):
        raise _RefusedError(description)
    return str(caught.value)


def test_the_code_that_picks_advice_is_read_with_the_specs_pattern(
    connector: mscal.Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    advice = connector.spec.manifest["authentication"]["advice"]
    assert advice["code_pattern"] == r"AADSTS(\d+)"
    shipped = _refusal(monkeypatch, advice, "AADSTS90002: Tenant not found.")
    assert shipped.endswith("To fix: check the tenant ID or domain; that tenant was not found.")
    other = {"code_pattern": r"E-(\d+)", "codes": {"7": "try seven"}}
    assert _refusal(monkeypatch, other, "E-7: no").endswith("To fix: try seven.")
    assert "To fix" not in _refusal(monkeypatch, other, "AADSTS7: no")


# -- the API version path -----------------------------------------------------------------------


def test_the_demo_probes_the_specs_base_path(httpx2_mock: HTTPXMock, spec_copy: Path) -> None:
    refused = {"error": {"code": "InvalidAuthenticationToken", "message": "no token"}}
    httpx2_mock.add_response(url="http://127.0.0.1:9/v1.0/me", status_code=401, json=refused)
    assert is_sandbox("http://127.0.0.1:9", load_spec())
    beta = _edit(spec_copy, lambda m: m.update(base_url="https://graph.microsoft.com/beta"))
    assert load_spec(beta).base_path == "/beta"
    httpx2_mock.add_response(url="http://127.0.0.1:9/beta/me", status_code=401, json=refused)
    assert is_sandbox("http://127.0.0.1:9", load_spec(beta))
    urls = [str(r.url) for r in httpx2_mock.get_requests()]
    assert urls == ["http://127.0.0.1:9/v1.0/me", "http://127.0.0.1:9/beta/me"]
