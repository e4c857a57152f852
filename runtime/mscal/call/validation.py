"""Input validation: a validator built once per operation, and errors that name field and rule."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import jsonschema_rs

from mscal.call.any_case import AnyCase
from mscal.call.compiled_schema import CompiledSchema
from mscal.call.formats import FORMAT_DESCRIPTIONS
from mscal.errors import InputError
from mscal.spec.views import READ_ONLY

# U+D800..U+DFFF on their own: JSON can spell them, UTF-8 cannot carry them.
_SURROGATE = re.compile("[\ud800-\udfff]")

# Integers whose decimal text would pass CPython's 4,300-digit conversion limit (13,300 bits).
_MAX_INT_BITS = 13_000

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

__all__ = ["InputValidator", "SchemaCheck", "SchemaSource", "check_depth", "describe_error"]


class SchemaSource(Protocol):
    """Where a `$ref` left in a schema (a cycle) resolves: the spec's schema documents."""

    @property
    def schema_registry(self) -> jsonschema_rs.Registry: ...

    @property
    def schema_formats(self) -> frozenset[str]: ...

    @property
    def registry(self) -> Registry[Any]: ...


class SchemaCheck:
    """One schema, checked fast and explained well.

    jsonschema-rs (compiled once) is the accept path; when it refuses, or cannot take the value
    at all (a lone surrogate, an integer past 64 bits), jsonschema decides and picks the error
    that helps (`best_match`), so messages are always jsonschema's. jsonschema is built on the
    first refusal only: a process whose inputs are all valid never imports it.
    """

    def __init__(
        self,
        schema: Mapping[str, Any],
        schemas: SchemaSource | None = None,
        *,
        python_only: bool = False,
    ) -> None:
        self._schema = dict(schema)
        self._schemas = schemas
        self._compiled = (
            None
            if python_only
            else CompiledSchema(
                self._schema,
                schemas.schema_registry if schemas else None,
                schemas.schema_formats if schemas else (),
            )
        )
        self._explainer: Any = None

    @property
    def compiled(self) -> bool:
        """Whether jsonschema-rs gives the quick yes (False: jsonschema decides alone)."""
        return self._compiled is not None

    def first_error(self, instance: Any) -> ValidationError | None:
        """None when `instance` is valid; otherwise the error that best says why not."""
        if self._compiled is not None and self._compiled.accepts(instance):
            return None
        if self._explainer is None:
            # Imported here: jsonschema and referencing load only to explain a refusal.
            from mscal.call.explain import FORMAT_CHECKER, SchemaValidator  # noqa: PLC0415

            options: dict[str, Any] = {"format_checker": FORMAT_CHECKER}
            if self._schemas is not None:
                options["registry"] = self._schemas.registry
            self._explainer = SchemaValidator(self._schema, **options)
        from mscal.call.explain import best_match  # noqa: PLC0415  (loaded just above)

        error: ValidationError | None = best_match(self._explainer.iter_errors(instance))
        return error


class InputValidator:
    """Validates one operation's inputs; built once, reused for every call.

    A test over every operation's inputs checks that the two validators of `SchemaCheck` agree;
    `python_only` keeps an operation on jsonschema alone.
    """

    def __init__(
        self,
        resolved: Mapping[str, Any],
        schemas: SchemaSource | None = None,
        *,
        python_only: bool = False,
    ) -> None:
        # The schema with its $refs already inlined: resolving references on every call would
        # cost more than the validation itself. `schemas` serves any cycle left as a $ref.
        self._check = SchemaCheck(resolved, schemas, python_only=python_only)
        self._resolved, self._schemas, self._python_only = resolved, schemas, python_only
        self._any_case = AnyCase(resolved)
        self._resuming: InputValidator | None = None
        properties = resolved.get("properties") or {}
        self._known = tuple(properties)
        self._defaults = {
            name: prop["default"]
            for name, prop in properties.items()
            if isinstance(prop, dict) and "default" in prop
        }

    @property
    def compiled(self) -> bool:
        return self._check.compiled

    def validate(
        self, inputs: Any, *, max_depth: int = 64, resuming: bool = False
    ) -> dict[str, Any]:
        """Return the inputs with top-level defaults applied, or raise InputError.

        `resuming`: a listing continues from a link, so the inputs the first request requires
        are not required (every other rule still holds)."""
        if resuming and self._resolved.get("required"):
            return self._without_required().validate(inputs, max_depth=max_depth)
        if not isinstance(inputs, Mapping):
            raise InputError("", "type", "inputs must be a JSON object")
        check_depth(inputs, max_depth)
        merged = self._any_case.apply({**self._defaults, **inputs})
        error = self._check.first_error(merged)
        if error is not None:
            raise describe_error(error, self._known)
        return merged

    def _without_required(self) -> InputValidator:
        if self._resuming is None:  # built on the first resumed call only
            relaxed = {k: v for k, v in self._resolved.items() if k != "required"}
            self._resuming = InputValidator(relaxed, self._schemas, python_only=self._python_only)
        return self._resuming


def check_depth(inputs: Mapping[str, Any], max_depth: int) -> None:
    """Refuse input nested deeper than `max_depth` levels, before anything recursive (the
    schema validator, the JSON encoder) meets it and fails with a RecursionError; and text
    with a lone surrogate (valid in JSON's escapes, never encodable as UTF-8), before a path,
    a query or a body fails to encode."""
    for name, value in inputs.items():
        if not isinstance(value, (dict, list)):
            _check_scalar(str(name), value)
            continue
        stack: list[tuple[Any, int]] = [(value, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > max_depth:
                raise InputError(str(name), "depth", f"is nested more than {max_depth} levels deep")
            children = list(node.values()) if isinstance(node, dict) else node
            if isinstance(node, dict):
                children.extend(node)  # the keys are text too
            for child in children:
                if isinstance(child, (dict, list)):
                    stack.append((child, depth + 1))
                else:
                    _check_scalar(str(name), child)


def _check_scalar(name: str, value: Any) -> None:
    if isinstance(value, str):
        if value.isascii() or not _SURROGATE.search(value):
            return
        raise InputError(
            name,
            "encoding",
            "contains a lone surrogate (such as \\ud800), which is not a character; "
            "expected text that can be sent as UTF-8",
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(name, "type", f"is {value}, which JSON cannot carry; expected a number")
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        raise InputError(name, "size", "holds an integer of more than 4,000 digits")


def describe_error(error: ValidationError, known: Iterable[str] = ()) -> InputError:
    """Turn jsonschema's error into one sentence naming the field and the rule it broke."""
    path = _field_path(error.absolute_path)
    rule = str(error.validator)
    custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if isinstance(custom, str):
        # The spec says what to tell the person, and which field a rule across fields is about
        # (for a list, the list rather than one of its items).
        named = error.schema.get("x-field") if isinstance(error.schema, dict) else None
        field = (
            str(named)
            if named
            else _field_path([p for p in error.absolute_path if not isinstance(p, int)])
        )
        return InputError(field, rule, " ".join(custom.split()))
    value: Any = error.validator_value
    instance: Any = error.instance
    if rule == "required":
        missing = next((name for name in value if name not in instance), value[0])
        return InputError(_join(path, missing), "required", "is required")
    if rule == "additionalProperties":
        schema: Any = error.schema
        allowed = set((schema.get("properties") if isinstance(schema, dict) else None) or known)
        unexpected = sorted(name for name in instance if name not in allowed)
        field = _join(path, unexpected[0]) if unexpected else path
        if (
            unexpected
            and isinstance(schema, dict)
            and unexpected[0] in (schema.get(READ_ONLY) or ())
        ):
            # Graph's resource schemas leave read-only properties out of what may be sent.
            return InputError(
                field, "readOnly", "is read-only: Graph sets it, so it cannot be sent"
            )
        hint = ""
        if allowed and unexpected:
            # Imported here: only a mistyped name needs the fuzzy matcher.
            from mscal.spelling import closest, either  # noqa: PLC0415

            near = closest(unexpected[0], allowed)
            if near:
                hint = f"; did you mean {either(near)}?"
            elif not path:
                hint = f" (known inputs: {', '.join(sorted(allowed))})"
        what = "input" if not path else "property"
        return InputError(field, "unknown", f"is not a known {what}{hint}")
    if rule == "not" and isinstance(value, dict) and "required" in value:
        first, *others = value["required"]
        return InputError(
            _join(path, first), "exclusive", f"cannot be combined with {', '.join(others)}"
        )
    if rule == "dependentRequired":
        present = next((name for name in value if name in instance), "")
        missing = next((n for n in value.get(present, []) if n not in instance), "")
        return InputError(_join(path, missing), "required", f"is required with {present}")
    if rule == "type":
        types = value if isinstance(value, list) else [value]
        return InputError(path, "type", f"must be {' or '.join(types)}, got {_type_name(instance)}")
    if rule == "format":
        wanted = FORMAT_DESCRIPTIONS.get(str(value), f"in {value} format")
        return InputError(path, "format", f"must be {wanted}, got {_shown(instance)}")
    if rule == "enum":
        return InputError(
            path, "enum", f"must be one of {', '.join(map(str, value))}, got {_shown(instance)}"
        )
    if rule == "pattern":
        # A raw regular expression tells a person little: say it is not in the expected form
        # and show the schema's own example when it has one (every shipped pattern does).
        example = _example(error.schema)
        return InputError(
            path,
            "pattern",
            f"{_shown(instance)} is not in the expected form"
            + (f", e.g. {example}" if example else f" (the pattern {value})"),
        )
    if rule in {"maxLength", "minLength"} and isinstance(instance, str):
        bound = "at most" if rule == "maxLength" else "at least"
        unit = "character" if value == 1 else "characters"
        return InputError(path, rule, f"must be {bound} {value} {unit} long, got {len(instance)}")
    if rule == "minProperties":
        return InputError(
            path, rule, f"needs at least {value} propert{'y' if value == 1 else 'ies'}"
        )
    return InputError(path, rule, error.message)


def _example(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return str(examples[0])
    return None


def _shown(value: Any) -> str:
    """A value as quoted in an error, cut short: an input may be megabytes long."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _field_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_name(value: Any) -> str:
    names = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)
