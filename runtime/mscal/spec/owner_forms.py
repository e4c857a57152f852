"""An operation's owner forms: each combination of the optional inputs that shape its path
(user, group, calendar, calendar group, ...) that its input schema accepts. Used by the OpenAPI
check and by the operations table, so both see exactly the same forms."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from jsonschema import Draft202012Validator

from mscal.templates.analysis import Analysis

if TYPE_CHECKING:
    from mscal.connector import Connector
    from mscal.spec.load import Operation

# Input errors about values (a placeholder is not a real value, another input is not given),
# not about the form: only rules such as "not both" and "this needs that" rule a form out.
_VALUE_RULES = frozenset(
    {"format", "pattern", "type", "enum", "minLength", "maxLength", "const", "required"}
)


def placeholder(index: int) -> str:
    """A value that survives percent-encoding unchanged, so it can be found in a rendered path."""
    return f"ZZP{index}ZZ"


def owner_forms(
    connector: Connector, operation: Operation, analysis: Analysis | None = None
) -> Iterator[dict[str, str]]:
    """The inputs of each form, path-shaping inputs set to placeholder(i) for their index in
    `shaping_inputs`. Nothing for the raw request, whose path is an input. `analysis`: the
    spec's templates, when the caller has them parsed already."""
    if "raw_path" in str(operation.request.get("path", "")):
        return
    shaping = shaping_inputs(connector, operation, analysis)
    schema = connector.describe(operation.name)["input_schema"]
    required = set(schema.get("required") or [])
    optional = [name for name in shaping if name not in required]
    validator = Draft202012Validator(schema)
    numbering = {name: placeholder(i) for i, name in enumerate(shaping)}
    for size in range(len(optional) + 1):
        for chosen in itertools.combinations(optional, size):
            inputs = {name: numbering[name] for name in [*sorted(required & set(shaping)), *chosen]}
            if not [e for e in validator.iter_errors(inputs) if e.validator not in _VALUE_RULES]:
                yield inputs


def shaping_inputs(
    connector: Connector, operation: Operation, analysis: Analysis | None = None
) -> list[str]:
    """The inputs the path template reads, in a stable order (placeholder indexes refer to it)."""
    analysis = analysis or Analysis(connector.spec.fragments)
    source = str(operation.request.get("path", ""))
    return sorted(analysis.names_used(source) & set(operation.input_names))
