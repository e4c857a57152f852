"""The linter's rules: a stable id, a severity and a one-line hint each."""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Rule:
    severity: str
    hint: str


RULES: dict[str, Rule] = {
    "yaml-invalid": Rule(
        ERROR,
        "fix the YAML at this position; this file (and what needs the whole spec loaded) was "
        "not checked further",
    ),
    "meta-schema": Rule(
        ERROR, "see schemas/connector.schema.json and schemas/operations.schema.json"
    ),
    "spec-load": Rule(ERROR, "the runtime could not load the spec; fix this first"),
    "name-snake-case": Rule(ERROR, "operation names are lower_snake_case, e.g. list_events"),
    "name-unique": Rule(ERROR, "rename one of the operations; names are the contract builders use"),
    "trait-unknown": Rule(ERROR, "use a trait declared under traits: in connector.yaml"),
    "ref-unresolved": Rule(ERROR, "point $ref at a file in schemas/ (and a #/$defs/... inside it)"),
    "schema-unused": Rule(WARNING, "reference the schema from an operation, or delete the file"),
    "schema-invalid": Rule(ERROR, "make it a valid JSON Schema (draft 2020-12)"),
    "schema-accident": Rule(
        ERROR,
        "quote a text holding a comma or a colon (description: 'a, b'), or give the key a "
        "schema ({} accepts anything)",
    ),
    "format-unknown": Rule(
        ERROR, "use a format the validator checks: date-time, local-date-time, date or uri"
    ),
    "template-syntax": Rule(ERROR, "fix the Jinja syntax"),
    "template-undeclared": Rule(
        ERROR, "declare the input (or the trait that has it), or fix the name"
    ),
    "template-in-literal": Rule(
        ERROR, "this value is not rendered; write it without {{ }} or {% %}"
    ),
    "input-unused": Rule(WARNING, "use the input in the request, or remove it"),
    "method-invalid": Rule(ERROR, "use GET, POST, PUT, PATCH or DELETE"),
    "path-relative": Rule(
        ERROR, "write the path after the base URL, starting with /, with no scheme or host"
    ),
    "path-param-optional": Rule(
        ERROR, "list the input under required:, or print it only inside {% if %}"
    ),
    "body-not-allowed": Rule(
        ERROR, "remove the body, or use a method that takes one (POST, PUT, PATCH)"
    ),
    "forbidden-header": Rule(
        ERROR, "remove it: the runtime sets credentials and framing headers itself"
    ),
    "auth-secret-unmarked": Rule(
        ERROR, "add secret: true so builders mask it and never echo it back"
    ),
    "missing-title": Rule(ERROR, "give the operation a title a person can read in a builder"),
    "missing-description": Rule(ERROR, "give the operation a one-sentence description"),
    "missing-output": Rule(ERROR, "declare an output schema describing what Graph returns"),
    "example-invalid": Rule(
        ERROR, "make the example's input valid for the operation's input schema"
    ),
    "example-mismatch": Rule(
        ERROR, "update the example's request or output to what the operation does"
    ),
    "example-output-schema": Rule(
        ERROR, "make the canned response fit the output schema, or fix the schema"
    ),
    "lookup-operation": Rule(ERROR, "name an existing operation in x-lookup.operation"),
    "lookup-path": Rule(ERROR, "name a property of the lookup operation's output items"),
    "condition-field": Rule(ERROR, "name an input of the same operation in x-condition.field"),
    "openapi-path": Rule(ERROR, "fix the path template, or check the owner forms it can render"),
    "openapi-method": Rule(ERROR, "use a method the description lists for this path"),
    "openapi-query": Rule(ERROR, "send only query options the description accepts here"),
    "openapi-body": Rule(ERROR, "send only properties of the request body's schema"),
    "openapi-render": Rule(ERROR, "the path template fails to render for an owner form"),
    "diff-operation-removed": Rule(
        ERROR, "keep the operation (deprecate it) or release a new major version"
    ),
    "diff-input-required": Rule(
        ERROR, "give the new required input a default, or make it optional"
    ),
    "diff-type-changed": Rule(ERROR, "keep the type, or release a new major version"),
    "diff-output-removed": Rule(ERROR, "keep the output property, or release a new major version"),
}


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int
    column: int
    rule: str
    message: str
    severity: str = field(default="", compare=False)
    hint: str = field(default="", compare=False)

    @classmethod
    def make(cls, file: str, line: int, column: int, rule: str, message: str) -> Finding:
        known = RULES[rule]
        return cls(file, line, column, rule, message, known.severity, known.hint)

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}:{self.column}: {self.severity} {self.rule} {self.message}"
            f"\n    hint: {self.hint}"
        )
