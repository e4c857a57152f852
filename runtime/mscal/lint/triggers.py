"""Trigger files: each trigger's examples are checked against its input and output schemas
(the meta-schema check of the files is `structure.check_meta`'s)."""

from __future__ import annotations

from jsonschema import Draft202012Validator

from mscal.connector import Connector
from mscal.errors import ConnectorError
from mscal.lint.report import Report, list_at
from mscal.spec.positions import Located


def check_trigger_examples(report: Report, connector: Connector, files: list[Located]) -> None:
    for document in files:
        for index, raw in enumerate(list_at(document.data, "triggers")):
            name = raw.get("name") if isinstance(raw, dict) else None
            if name not in connector.spec.triggers:
                continue
            try:
                described = connector.describe_trigger(str(name))
            except ConnectorError:
                continue  # an unresolvable $ref, reported where it is written
            roles = (("input", "input_schema", "example-invalid"),
                     ("output", "output_schema", "example-output-schema"))  # fmt: skip
            for number, example in enumerate(list_at(raw, "examples")):
                for key, schema, rule in roles:
                    value = example.get(key) if isinstance(example, dict) else None
                    validator = Draft202012Validator(described[schema])
                    if value is not None and not validator.is_valid(value):
                        report.at(
                            document,
                            ("triggers", index, "examples", number, key),
                            rule,
                            f"trigger {name!r} example {number + 1}: {key} does not fit its schema",
                        )
