"""Issue 14: a server that echoes credentials back (a token endpoint, Graph, a redirect, an
upload host) never gets them shown: canaries are planted in every answer shape the attack
used, and none may reach an exception, its dict, a log record or the CLI's output."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import mscal
from mscal.secret import MASK, Secret, scrub
from tests.conftest import CliResult
from tests.hostile.server import Answer, Hostile, Seen, hostile_server

SECRET = "canary-client-secret-9a8b7c6d"
TOKEN = "canary-access-token-2b4d6f8h"
REFRESH = "canary-refresh-token-1f2e3d4c"
UPLOAD_KEY = "canary-upload-key-77aa88bb"
CANARIES = (SECRET, TOKEN, REFRESH, UPLOAD_KEY)

ECHO = f"you sent {SECRET} and Authorization: Bearer {TOKEN}, refresh_token={REFRESH}"


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    with hostile_server() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("MSCAL_SHARED_AUTHENTICATIONS", raising=False)
    return tmp_path / "config"


def _form(url: str) -> dict[str, Any]:
    return {
        "client_id": "app-1",
        "tenant_id": "contoso.onmicrosoft.com",
        "grant_type": "client_credentials",
        "scopes": ["https://graph.microsoft.com/.default"],
        "authority_host": url,
        "base_url": f"{url}/v1.0",
    }


def _assert_clean(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text, f"{canary} leaked in: {text[:300]}"


def _json(status: int, body: Any, **headers: str) -> Answer:
    return Answer(status, json.dumps(body), {"content-type": "application/json", **headers})


TOKEN_ANSWERS = {
    "error_description echoes the secret": _json(
        401,
        {"error": "invalid_client", "error_description": f"AADSTS7000215: bad secret. {ECHO}"},
    ),
    "error echoes the secret": _json(400, {"error": ECHO}),
    "an HTML page": Answer(
        200, f"<html><body>Sign in {ECHO}</body></html>", {"content-type": "text/html"}
    ),
    "non-numeric expires_in": _json(
        200, {"access_token": "fresh-token-abcdefgh", "token_type": "Bearer", "expires_in": ECHO}
    ),
    "a JSON array": _json(200, [ECHO]),
    "a plain-text 500": Answer(500, ECHO, {"content-type": "text/plain"}),
}


@pytest.mark.parametrize("shape", TOKEN_ANSWERS)
def test_a_token_endpoint_echo_is_scrubbed(
    shape: str,
    hostile: Hostile,
    connector: mscal.Connector,
    config: Path,
    cli: Callable[..., CliResult],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hostile.answer(lambda _: TOKEN_ANSWERS[shape])
    caplog.set_level(logging.DEBUG)
    Secret(TOKEN), Secret(REFRESH)  # the process holds them (a stored authentication's tokens)
    auth = connector.authentication({**_form(hostile.url), "client_secret": SECRET})
    with pytest.raises(mscal.AuthError) as caught:
        connector.run("list_calendars", {"user_id": "adele@contoso.onmicrosoft.com"}, auth=auth)
    error = caught.value
    # The CLI: a saved authentication whose token endpoint is the hostile server.
    monkeypatch.setenv("APP_SECRET", SECRET)
    args = [
        f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in _form(hostile.url).items()
    ]
    added = cli(
        "auth",
        "add",
        "Hostile",
        *[x for a in args for x in ("--set", a)],
        "--secret-env",
        "APP_SECRET",
    )
    assert added.code == 0, added.err
    ran = cli("run", "list_calendars", "--auth", "Hostile", "--set", "user_id=a@b.c")
    assert ran.code == 1
    assert len(ran.err.strip().splitlines()) == 1 and "Traceback" not in ran.err
    _assert_clean(
        str(error), repr(error), json.dumps(error.to_dict()), caplog.text, ran.out, ran.err
    )


GRAPH_ANSWERS = {
    "error.message echoes the header": _json(
        400, {"error": {"code": "BadRequest", "message": ECHO}}
    ),
    "error.code echoes the token": _json(403, {"error": {"code": TOKEN, "message": "no"}}),
    "a plain-text body": Answer(500, ECHO, {"content-type": "text/plain"}),
    "an HTML body": Answer(502, f"<h1>{ECHO}</h1>", {"content-type": "text/html"}),
    "request ids echo the token": _json(
        404,
        {"error": {"code": "x", "message": "y", "innerError": {"request-id": TOKEN}}},
        **{"request-id": TOKEN},
    ),
    "Retry-After echoes the token": _json(
        429, {"error": {"code": "TooManyRequests", "message": ECHO}}, **{"Retry-After": TOKEN}
    ),
    "a redirect to a URL with the token": Answer(
        302, "", {"location": f"https://elsewhere.example/x?access_token={TOKEN}&code={SECRET}"}
    ),
    "a next link off the origin": _json(
        200, {"value": [1], "@odata.nextLink": f"https://evil.example/{TOKEN}?sig={SECRET}"}
    ),
}


@pytest.mark.parametrize("shape", GRAPH_ANSWERS)
def test_a_graph_echo_is_scrubbed(
    shape: str,
    hostile: Hostile,
    connector: mscal.Connector,
    cli: Callable[..., CliResult],
    caplog: pytest.LogCaptureFixture,
    no_sleep: list[float],
) -> None:
    hostile.answer(lambda _: GRAPH_ANSWERS[shape])
    caplog.set_level(logging.DEBUG)
    Secret(SECRET)  # the process knows it (a client secret it holds)
    auth = connector.authentication({"base_url": f"{hostile.url}/v1.0"}, access_token=TOKEN)
    with pytest.raises(mscal.ConnectorError) as caught:
        connector.run("list_events", {"all_pages": True}, auth=auth)
    error = caught.value
    ran = cli(
        "run",
        "list_events",
        "--set",
        "all_pages=true",
        "--token",
        TOKEN,
        "--base-url",
        f"{hostile.url}/v1.0",
    )
    assert ran.code in (1, 2) and "Traceback" not in ran.err
    assert len(ran.err.strip().splitlines()) == 1
    _assert_clean(
        str(error), repr(error), json.dumps(error.to_dict()), caplog.text, ran.out, ran.err
    )


def test_a_batch_answer_echo_is_scrubbed(hostile: Hostile, connector: mscal.Connector) -> None:
    def batch(seen: Seen) -> Answer:
        requests = json.loads(seen.body)["requests"]
        return _json(
            200,
            {
                "responses": [
                    {
                        "id": r["id"],
                        "status": 400,
                        "body": {"error": {"code": "x", "message": ECHO}},
                    }
                    for r in requests
                ]
            },
        )

    hostile.answer(batch)
    auth = connector.authentication({"base_url": f"{hostile.url}/v1.0"}, access_token=TOKEN)
    outcomes = list(
        connector.run_many("delete_event", [{"event_id": "a"}, {"event_id": "b"}], auth=auth)
    )
    assert [o.ok for o in outcomes] == [False, False]
    _assert_clean(*(json.dumps(o.to_dict()) + str(o.error) for o in outcomes))


def test_an_upload_urls_credentials_are_never_logged(
    hostile: Hostile, connector: mscal.Connector, caplog: pytest.LogCaptureFixture
) -> None:
    upload = f"{hostile.url}/upload/session-1?authtoken={UPLOAD_KEY}&part=1"

    def answer(seen: Seen) -> Answer:
        if seen.method == "POST":
            return _json(200, {"uploadUrl": upload, "expirationDateTime": "2030-01-01T00:00:00Z"})
        return Answer(201, "", {"location": f"{hostile.url}/v1.0/me/events/e/attachments/a"})

    hostile.answer(answer)
    caplog.set_level(logging.INFO)
    auth = connector.authentication({"base_url": f"{hostile.url}/v1.0"}, access_token=TOKEN)
    connector.run(
        "upload_event_attachment",
        {"event_id": "e", "name": "a.bin", "content_bytes": "aGVsbG8="},
        auth=auth,
    )
    puts = [s for s in hostile.seen if s.method == "PUT"]
    assert puts and UPLOAD_KEY in puts[-1].path  # the upload host got its key
    assert "authorization" not in {k.lower() for k in puts[-1].headers}
    assert "HTTP Request: PUT" in caplog.text  # httpx2 logged it, without the key
    assert f"authtoken={MASK}" in caplog.text
    _assert_clean(caplog.text)


def test_scrub_masks_known_values_and_credential_parameters() -> None:
    Secret("p@ss word+1/2")
    assert scrub("form: client_secret=p%40ss+word%2B1%2F2") == f"form: client_secret={MASK}"
    assert scrub("x p@ss word+1/2 y") == f"x {MASK} y"
    # Paging state is not a credential: a resume link keeps it.
    link = "https://graph.microsoft.com/v1.0/me/events?$skiptoken=abc&sig=zz"
    assert scrub(link) == f"https://graph.microsoft.com/v1.0/me/events?$skiptoken=abc&sig={MASK}"
    assert scrub("short") == "short"
