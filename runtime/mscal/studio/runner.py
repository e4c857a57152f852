"""Running an operation as the Operations tab does: the inputs checked by the runtime itself
(its message at the field), the call made through the same session, guard and token as any
builder's, and what went over the wire recorded for the page. Lookups (`x-lookup`) are runs of
the named operation whose items become a dropdown's choices."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx2

from mscal.connector import Connector
from mscal.errors import ConnectorError, InputError
from mscal.studio.connections import Connections
from mscal.studio.forms import ADVANCED
from mscal.studio.recording import RecordingTransport

# A lookup lists at most this many choices (one page of Graph's largest).
LOOKUP_ITEMS = 200


def unfolded(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values as the operation takes them: the "Advanced" fold opened."""
    values = {k: v for k, v in inputs.items() if k != ADVANCED}
    values.update(inputs.get(ADVANCED) or {})
    return values


def error_view(error: ConnectorError) -> dict[str, Any]:
    """An error as the page shows it: the runtime's message, and the field when it names one."""
    shown: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, InputError):
        shown.update(field=error.field, rule=error.rule, message=error.message)
    return shown


def check(connector: Connector, operation: str, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The runtime's refusal of these inputs (nothing is sent), or None when they pass."""
    # A token that is never sent, the spec's own base URL: only `prepare` runs.
    unused = connector.session(lambda _force: "unused", transport=httpx2.MockTransport(_never))
    with unused as session:
        try:
            session.prepare(operation, unfolded(inputs))
        except ConnectorError as exc:
            return error_view(exc)
    return None


def run(
    connector: Connector,
    connections: Connections,
    operation: str,
    inputs: Mapping[str, Any],
    auth: str | None,
) -> dict[str, Any]:
    """Run once; the result or the error, every exchange, and the time it all took."""
    recorder = RecordingTransport(connections.transport)
    began = time.perf_counter()
    answer: dict[str, Any] = {"operation": operation}
    try:
        if not auth:
            raise InputError("auth", "required", "choose an authentication to run with")
        with connections.session(connector, auth, recorder) as session:
            answer["result"] = session.run(operation, unfolded(inputs))
    except ConnectorError as exc:
        answer["error"] = error_view(exc)
    answer["exchanges"] = recorder.exchanges
    answer["ms"] = round((time.perf_counter() - began) * 1000, 1)
    return answer


def lookup_hint(connector: Connector, operation: str, field: str) -> Mapping[str, Any]:
    """The `x-lookup` of an operation's or a trigger's input, as the spec says (the page names
    only the input)."""
    described = (
        connector.describe(operation)
        if operation in connector.spec.operations
        else connector.describe_trigger(operation)
    )
    properties = described["input_schema"].get("properties") or {}
    hint = (properties.get(field) or {}).get("x-lookup")
    if not isinstance(hint, dict):
        raise InputError(field, "lookup", f"input {field!r} of {operation} has no x-lookup")
    return hint


def lookup(
    connector: Connector, connections: Connections, operation: str, field: str, auth: str
) -> list[dict[str, str]]:
    """The choices of an input's `x-lookup`: its operation's items as value and label."""
    hint = lookup_hint(connector, operation, field)
    with connections.session(connector, auth) as session:
        result = session.run(str(hint["operation"]), {})
    items = result.get("value", []) if isinstance(result, dict) else result
    choices = []
    for item in list(items or [])[:LOOKUP_ITEMS]:
        value = _dig(item, str(hint.get("value", "id")))
        if value is None:
            continue
        label = _dig(item, str(hint.get("label", hint.get("value", "id"))))
        choices.append({"value": str(value), "label": str(label if label is not None else value)})
    return choices


def _dig(item: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        item = item.get(part) if isinstance(item, dict) else None
    return item


def _never(request: httpx2.Request) -> httpx2.Response:
    raise AssertionError("checking inputs sends nothing")  # pragma: no cover
