"""The spec's `defaults`, typed: one frozen object built once at load, read by the runtime as
`spec.defaults.retry.max_retries` and the like.

Nothing here has a value of its own. Every key the runtime reads is required by the shipped
meta-schema (schemas/connector.schema.json); a spec loaded without the meta-schema check (the
linter's lenient load) still gets a SpecError naming the missing key rather than a fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mscal.call.error_mapping import ErrorHints, hints_from_spec
from mscal.call.limits import Limits
from mscal.call.retry import RetryPolicy
from mscal.errors import SpecError


@dataclass(frozen=True)
class Pagination:
    """Where a page's items and the next page's link are (Graph: `value`, `@odata.nextLink`)."""

    style: str
    items: str
    next_link: str
    captures: Mapping[str, str]
    resume_inputs: tuple[str, ...]


@dataclass(frozen=True)
class ErrorEnvelope:
    """Where an error response carries its code, message, request id and date: body paths
    (`error.code`) or headers (`header:request-id`), the first one present wins."""

    code: tuple[str, ...]
    message: tuple[str, ...]
    request_id: tuple[str, ...]
    date: tuple[str, ...]

    def locations(self) -> dict[str, list[str]]:
        """By what each location is of, as `graph_error` reads them."""
        return {
            "code": list(self.code),
            "message": list(self.message),
            "request_id": list(self.request_id),
            "date": list(self.date),
        }


@dataclass(frozen=True)
class Permissions:
    delegated: tuple[str, ...]
    application: tuple[str, ...]

    def to_dict(self) -> dict[str, list[str]]:
        return {"delegated": list(self.delegated), "application": list(self.application)}


@dataclass(frozen=True)
class SignedInUser:
    """How every worker names the signed-in user's mailbox and the app (see connector.yaml)."""

    claim: str  # the access token's claim holding the user's id
    lookup: str  # else the path (and query) asked once, e.g. /me?$select=id
    id_field: str  # the answer's field holding the id
    user_mailbox: str  # the mailbox written with that id, e.g. users/{id}
    app_claims: tuple[str, ...]  # the token's claims naming the app, first found wins


@dataclass(frozen=True)
class Concurrency:
    """Requests in flight per mailbox, and how a request's path names its mailbox."""

    per_mailbox: int
    mailbox: str  # a regular expression over the path after the base URL
    signed_in_mailbox: str  # the path that means "the signed-in user" (/me)
    signed_in_user: SignedInUser
    window_requests: int  # at most this many requests per mailbox in `window_seconds`
    window_seconds: float


@dataclass(frozen=True)
class Batch:
    """The JSON batch format: where batches go, how many requests one holds, the key that
    chains a request to the one before it, the status of a request not run because the one it
    depends on failed (sent again), and the header that carries the batch's own id (the spec's
    `request_id_header`, one name for every request the runtime sends)."""

    path: str
    max_requests: int
    depends_on: str
    failed_dependency_status: int
    request_id_header: str


@dataclass(frozen=True)
class Defaults:
    headers: Mapping[str, str]
    request_id_header: str
    pagination: Pagination
    errors: ErrorEnvelope
    permissions: Mapping[str, Permissions]
    retry: RetryPolicy
    concurrency: Concurrency
    limits: Limits
    batch: Batch
    error_hints: ErrorHints


def parse_defaults(raw: Any, source: Path) -> Defaults:
    """The manifest's `defaults` as one typed object; a missing or mistyped key is a SpecError
    naming it (`source: defaults.retry.max_retries: ...`)."""
    read = _Reader(source)
    section = read.mapping(raw, "defaults")
    pagination = read.mapping(section.get("pagination"), "defaults.pagination")
    errors = read.mapping(section.get("errors"), "defaults.errors")
    retry = read.mapping(section.get("retry"), "defaults.retry")
    concurrency = read.mapping(section.get("concurrency"), "defaults.concurrency")
    batch = read.mapping(section.get("batch"), "defaults.batch")
    permissions = read.mapping(section.get("permissions"), "defaults.permissions")
    for kind in ("read", "write"):  # what an operation without its own permissions falls to
        read.mapping(permissions.get(kind), f"defaults.permissions.{kind}")
    limits = read.mapping(section.get("limits"), "defaults.limits")
    try:
        Limits.check_names(limits)
        hints = hints_from_spec(read.value(section, "error_hints", "defaults", list))
    except KeyError as exc:
        raise SpecError(f"{source}: defaults.error_hints: missing required key {exc}") from None
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{source}: defaults: {exc}") from None
    request_id_header = read.value(section, "request_id_header", "defaults", str)
    return Defaults(
        headers={
            str(k): str(v)
            for k, v in read.mapping(section.get("headers"), "defaults.headers").items()
        },
        request_id_header=request_id_header,
        pagination=Pagination(
            style=read.value(pagination, "style", "defaults.pagination", str),
            items=read.value(pagination, "items", "defaults.pagination", str),
            next_link=read.value(pagination, "next_link", "defaults.pagination", str),
            captures=dict(read.value(pagination, "captures", "defaults.pagination", dict)),
            resume_inputs=tuple(
                read.value(pagination, "resume_inputs", "defaults.pagination", list)
            ),
        ),
        errors=ErrorEnvelope(
            **{
                key: tuple(read.value(errors, key, "defaults.errors", list))
                for key in ("code", "message", "request_id", "date")
            }
        ),
        permissions={
            str(kind): Permissions(
                delegated=tuple(
                    read.value(entry, "delegated", f"defaults.permissions.{kind}", list)
                ),
                application=tuple(
                    read.value(entry, "application", f"defaults.permissions.{kind}", list)
                ),
            )
            for kind, entry in permissions.items()
        },
        retry=RetryPolicy(
            statuses=frozenset(
                int(s) for s in read.value(retry, "statuses", "defaults.retry", list)
            ),
            max_retries=read.value(retry, "max_retries", "defaults.retry", int),
            backoff_base_seconds=read.number(retry, "backoff_base_seconds", "defaults.retry"),
            max_wait_seconds=read.number(retry, "max_wait_seconds", "defaults.retry"),
            wait_budget_seconds=read.number(retry, "wait_budget_seconds", "defaults.retry"),
        ),
        concurrency=Concurrency(
            per_mailbox=read.value(concurrency, "per_mailbox", "defaults.concurrency", int),
            mailbox=read.value(concurrency, "mailbox", "defaults.concurrency", str),
            signed_in_mailbox=read.value(
                concurrency, "signed_in_mailbox", "defaults.concurrency", str
            ),
            signed_in_user=_signed_in_user(
                read.value(concurrency, "signed_in_user", "defaults.concurrency", dict), read
            ),
            window_requests=read.value(concurrency, "window_requests", "defaults.concurrency", int),
            window_seconds=read.number(concurrency, "window_seconds", "defaults.concurrency"),
        ),
        limits=Limits(
            deadline_seconds=read.number(limits, "deadline_seconds", "defaults.limits"),
            response_bytes=read.value(limits, "response_bytes", "defaults.limits", int),
            body_bytes=read.value(limits, "body_bytes", "defaults.limits", int),
            input_depth=read.value(limits, "input_depth", "defaults.limits", int),
            template_chars=read.value(limits, "template_chars", "defaults.limits", int),
        ),
        batch=Batch(
            path=read.value(batch, "path", "defaults.batch", str),
            max_requests=read.value(batch, "max_requests", "defaults.batch", int),
            depends_on=read.value(batch, "depends_on", "defaults.batch", str),
            failed_dependency_status=read.value(
                batch, "failed_dependency_status", "defaults.batch", int
            ),
            request_id_header=request_id_header,
        ),
        error_hints=hints,
    )


def _signed_in_user(section: Mapping[str, Any], read: _Reader) -> SignedInUser:
    where = "defaults.concurrency.signed_in_user"
    claims = read.value(section, "app_claims", where, list)
    return SignedInUser(
        claim=read.value(section, "claim", where, str),
        lookup=read.value(section, "lookup", where, str),
        id_field=read.value(section, "id_field", where, str),
        user_mailbox=read.value(section, "user_mailbox", where, str),
        app_claims=tuple(str(claim) for claim in claims),
    )


class _Reader:
    """Required keys of a given type, or a SpecError that says which key and what is wrong."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if value is None:
            raise SpecError(f"{self.source}: missing required key {where!r}")
        if not isinstance(value, Mapping):
            raise SpecError(f"{self.source}: {where}: expected a mapping")
        return value

    def value(self, section: Mapping[str, Any], key: str, where: str, kind: type[Any]) -> Any:
        if key not in section:
            raise SpecError(f"{self.source}: missing required key '{where}.{key}'")
        value = section[key]
        # bool is an int to Python, never to the spec.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise SpecError(f"{self.source}: {where}.{key}: expected {kind.__name__}")
        return value

    def number(self, section: Mapping[str, Any], key: str, where: str) -> float:
        value = self.value(section, key, where, object)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpecError(f"{self.source}: {where}.{key}: expected a number")
        return float(value)
