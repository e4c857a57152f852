"""Fault words: what `--fault`, `create_sandbox(faults=...)` and `X-Sandbox-Fault` accept."""

from __future__ import annotations

import pytest

from mscal.sandbox.http.faults import parse_fault


@pytest.mark.parametrize("text", ["status=abc", "nonsense", "path=(", "times=x"])
def test_invalid_fault_words_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid fault"):
        parse_fault(text)


def test_fault_words_set_their_fields() -> None:
    fault = parse_fault("status=429 retry-after=2 times=3 after=1 method=POST path=/events$")
    assert (fault.status, fault.retry_after, fault.times, fault.after) == (429, "2", 3, 1)
    assert fault.matches("post", "/v1.0/me/events") and not fault.matches("GET", "/v1.0/me/events")
    assert not fault.matches("POST", "/v1.0/me/events/x")
    error = fault.error()
    assert (error.status, error.code, error.headers) == (
        429,
        "TooManyRequests",
        {"Retry-After": "2"},
    )
