"""jsonschema, which explains what the compiled validator refused: `best_match` picks the one
error that helps. Imported only when something is refused (or by the linter), so a call whose
inputs are valid never loads jsonschema and referencing (about 80 ms of a cold start)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError, best_match

from mscal.call.formats import FORMATS, ecma_pattern

__all__ = ["FORMAT_CHECKER", "SchemaValidator", "best_match"]

FORMAT_CHECKER = FormatChecker(formats=())
for _name, _check in FORMATS.items():
    FORMAT_CHECKER.checks(_name)(_check)


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not re.search(ecma_pattern(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# jsonschema's 2020-12 validator with ECMA-262 `$`: the reference for inputs and for the forms.
SchemaValidator: Any = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _ecma_pattern}
)
