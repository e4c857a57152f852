"""An operation made ready to call: its validator, request templates, paging and limits built
once, and `prepare`, which turns inputs into a `Call` (validated and rendered) or refuses them
before anything could be sent."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx2

from mscal.call.error_mapping import ErrorHints
from mscal.call.flow import follow_link
from mscal.call.guard import Origin
from mscal.call.limits import Limits
from mscal.call.paging import (
    FOLLOW_ALL,
    MAX_ITEMS,
    Paginator,
    paginator_from_spec,
    split_resume_link,
)
from mscal.call.request import RequestBuilder
from mscal.call.retry import RetryPolicy
from mscal.call.steps import Call, Upload
from mscal.call.validation import InputValidator
from mscal.spec.load import Operation
from mscal.templates.render import Templates, output_cap


@dataclass(frozen=True)
class CallDefaults:
    """What every call of a connector shares, read from the spec's `defaults` once."""

    headers: Mapping[str, str]
    request_id_header: str | None
    retry: RetryPolicy
    error_envelope: Mapping[str, list[str]]
    error_hints: ErrorHints
    limits: Limits


class CompiledOperation:
    """An operation with its validator and templates built once."""

    def __init__(
        self,
        operation: Operation,
        input_validator: InputValidator,
        templates: Templates,
        defaults: CallDefaults,
    ) -> None:
        self.operation = operation
        self.validator = input_validator
        self.defaults = defaults
        self.builder = RequestBuilder(operation, templates)
        self.result = templates.result(operation.result) if operation.result is not None else None
        self.upload = _compile_upload(templates, operation)
        self.paginator: Paginator | None = (
            paginator_from_spec(operation.pagination) if operation.paginated else None
        )
        self.limits = defaults.limits.merged(operation.limits)

    def prepare(
        self,
        inputs: Mapping[str, Any],
        origin: Origin,
        *,
        limits: Limits | None = None,
        slot_of: Callable[[str], Hashable | None] | None = None,
    ) -> Call:
        """Validate and render; raises InputError before anything could be sent."""
        limits = limits or self.limits
        resume = None
        if self.paginator is not None and isinstance(inputs, Mapping):
            resume = next((inputs[k] for k in self.paginator.resume_inputs if inputs.get(k)), None)
        # A link to resume from says the rest (owner, dates, query), so what the operation
        # requires for a first request is not required then.
        values = self.validator.validate(
            inputs, max_depth=limits.input_depth, resuming=resume is not None
        )
        headers = self.defaults.headers
        client_request_id = None
        if self.defaults.request_id_header:
            # One id for the whole operation (every retry and page), set with the defaults so
            # an operation's own headers could still name it.
            client_request_id = str(uuid.uuid4())
            headers = {**headers, self.defaults.request_id_header: client_request_id}
        context = self.builder.context(values)
        skip_first = 0
        with output_cap(limits.template_chars):  # the operation's or the session's cap
            if resume is None:
                request = self.builder.build(
                    values, origin, headers, max_body_bytes=limits.body_bytes, context=context
                )
            else:
                # The link, with the operation's headers (Prefer: time zone, body format...).
                link, skip_first = split_resume_link(str(resume))
                first = httpx2.Request(
                    "GET", origin.join("/"), headers={**headers, **self.builder.headers(context)}
                )
                request = follow_link(first, link, origin)
        follow = False
        max_items = None
        if self.paginator is not None:
            max_items = values.get(MAX_ITEMS)
            follow = bool(values.get(FOLLOW_ALL)) or max_items is not None
        return Call(
            operation=self.operation.name,
            request=request,
            context=context,
            origin=origin,
            client_request_id=client_request_id,
            retry=self.defaults.retry,
            error_envelope=self.defaults.error_envelope,
            paginator=self.paginator,
            follow_pages=follow,
            max_items=max_items,
            skip_first=skip_first,
            result=self.result,
            upload=self.upload,
            idempotent=self.operation.idempotent,
            limits=limits,
            error_hints=self.defaults.error_hints,
            slot_of=slot_of,
        )


def _compile_upload(templates: Templates, operation: Operation) -> Upload | None:
    spec = operation.upload
    if spec is None:
        return None
    # Both read the upload session's answer: a field it lacks is null (and refused as such).
    return Upload(
        url=templates.result(spec["url"]),
        content=templates.result(spec["content"]),
        chunk_size=int(spec["chunk_size"]),
    )
