"""The operations table in docs/operations.md, generated from the spec so it cannot drift.

python -m mscal.operations_table > docs/operations.md
"""

from __future__ import annotations

import itertools
import re
import sys
from typing import Any

from mscal.api import Connector, load_connector
from mscal.describe import required_permissions
from mscal.lint import names_used

_HEADER = """# Operations

Every operation, the Microsoft Graph endpoints it calls (one per owner form: `/me` or
`/users/{user_id}`, a group's calendar, a calendar by id or inside a calendar group), and the
least Graph permissions it needs. Generated from the spec by `python -m mscal.operations_table`;
a test keeps this file identical to that output.

"""


def endpoints(connector: Connector, name: str) -> list[str]:
    operation = connector.spec.operation(name)
    source = str(operation.request.get("path", ""))
    if "raw_path" in source:
        return ["any Graph endpoint (method and path given as inputs)"]
    compiled = connector.compiled(name)
    schema = connector.describe(name)["input_schema"]
    required = set(schema.get("required") or [])
    shaping = sorted(names_used(source, connector.spec.fragments) & set(operation.input_names))
    optional = [n for n in shaping if n not in required]
    seen: list[str] = []
    for size in range(len(optional) + 1):
        for chosen in itertools.combinations(optional, size):
            inputs = {n: "{" + n + "}" for n in [*sorted(required & set(shaping)), *chosen]}
            if _excluded(schema, inputs):
                continue
            path = compiled.builder._path.render(compiled.builder.context(inputs))
            path = re.sub(r"%7B(\w+)%7D", r"{\1}", path)
            line = f"{str(operation.request['method']).upper()} {path}"
            if line not in seen:
                seen.append(line)
    return seen


def _excluded(schema: dict[str, Any], inputs: dict[str, str]) -> bool:
    for rule in schema.get("allOf") or []:
        pair = (rule.get("not") or {}).get("required")
        if pair and all(name in inputs for name in pair):
            return True
    for name, needs in (schema.get("dependentRequired") or {}).items():
        if name in inputs and not all(n in inputs for n in needs):
            return True
    return False


def render(connector: Connector) -> str:
    lines = [_HEADER.rstrip("\n"), ""]
    group_note = connector.spec.defaults.get("permissions", {}).get("group_calendars", {})
    by_group: dict[str, list[str]] = {}
    for name, operation in connector.spec.operations.items():
        by_group.setdefault(operation.group, []).append(name)
    for group, names in by_group.items():
        lines += [
            f"## {group}",
            "",
            "| operation | Graph endpoints | delegated | application |",
            "|---|---|---|---|",
        ]
        for name in names:
            title = connector.spec.operation(name).title
            paths = "<br>".join(f"`{e}`" for e in endpoints(connector, name))
            needed = required_permissions(connector.spec, connector.spec.operation(name))
            delegated = ", ".join(needed.get("delegated") or []) or "as the endpoint needs"
            application = ", ".join(needed.get("application") or []) or "not supported"
            if name == "raw_http_request":
                application = "as the endpoint needs"
            lines.append(f"| `{name}`<br>{title} | {paths} | {delegated} | {application} |")
        lines.append("")
    lines += [
        "Forms with `/groups/{group_id}` need "
        + ", ".join(group_note.get("delegated") or [])
        + " (delegated only: Graph has no application access to group calendars).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(render(load_connector()))
