"""An authentication: the form's values checked against the spec's fields and rules, with
secrets and tokens held as `Secret`s so no repr or message shows them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mscal.call.validation import SchemaCheck, describe_error
from mscal.errors import InputError
from mscal.secret import Secret
from mscal.spec.load import Spec

# A token goes into a header: a line break would split it into two headers (and httpx2's
# refusal would quote the token); any control character is refused the same way.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_token_text(field: str, token: str | None) -> None:
    """Refuse a token with a control character (CR, LF, NUL...) inside it, naming the field
    (the spaces and line breaks around a pasted token are taken off first)."""
    if token is not None and _CONTROL.search(bare_token(token)):
        raise InputError(
            field,
            "format",
            "contains a line break or another control character; a token is one line of "
            "printable characters",
        )


@dataclass(frozen=True, repr=False)
class Authentication:
    """The authentication form's values, with secrets and tokens held as `Secret`s."""

    values: Mapping[str, Any]
    secrets: Mapping[str, Secret] = field(default_factory=dict)
    access_token: Secret | None = None
    refresh_token: Secret | None = None
    expires_at: float | None = None

    @classmethod
    def from_form(
        cls,
        spec: Spec,
        values: Mapping[str, Any] | None = None,
        *,
        access_token: str | None = None,
        refresh_token: str | None = None,
        expires_at: float | None = None,
    ) -> Authentication:
        """Validate form values (defaults applied); secret fields are wrapped as Secrets."""
        for name, token in (("access_token", access_token), ("refresh_token", refresh_token)):
            check_token_text(name, token)
        given = dict(values or {})
        schema = {
            "type": "object",
            "properties": {f.key: f.schema for f in spec.auth_fields},
            "additionalProperties": False,
            "allOf": list(spec.manifest["authentication"].get("rules") or []),
        }
        error = SchemaCheck(schema).first_error(
            {k: v.reveal() if isinstance(v, Secret) else v for k, v in given.items()}
        )
        if error is not None:
            problem = describe_error(error)
            # Never echo a rejected value of a secret field back.
            secret_values = [
                str(given[f.key]) for f in spec.auth_fields if f.secret and given.get(f.key)
            ]
            if any(value in problem.message for value in secret_values):
                problem = InputError(problem.field, problem.rule, f"is not valid ({problem.rule})")
            raise problem
        plain: dict[str, Any] = {}
        secrets: dict[str, Secret] = {}
        for auth_field in spec.auth_fields:
            value = given.get(auth_field.key, auth_field.default)
            if value is None:
                continue
            if auth_field.secret:
                secrets[auth_field.key] = value if isinstance(value, Secret) else Secret(str(value))
            else:
                plain[auth_field.key] = value
        return cls(
            values=plain,
            secrets=secrets,
            access_token=Secret(bare_token(access_token)) if access_token else None,
            refresh_token=Secret(refresh_token) if refresh_token else None,
            expires_at=expires_at,
        )

    @property
    def base_url(self) -> str:
        return str(self.values["base_url"])

    def __repr__(self) -> str:
        shown = {**self.values, **{k: str(v) for k, v in self.secrets.items()}}
        tokens = [name for name in ("access_token", "refresh_token") if getattr(self, name)]
        return f"Authentication({shown!r}, tokens={tokens})"


def bare_token(token: str) -> str:
    """A token as pasted from a header or a tool: without a `Bearer ` prefix or the spaces and
    quotes around it (the runtime adds the scheme itself)."""
    text = token.strip().strip('"').strip()
    scheme, _, rest = text.partition(" ")
    if scheme.lower() == "bearer" and rest.strip():
        return rest.strip()
    return text
