"""The operations table in docs/operations.md, generated from the spec so it cannot drift.

python -m tools.operations_table > docs/operations.md
"""

from __future__ import annotations

import sys

from mscal.connector import Connector, load_connector
from mscal.spec.describe import required_permissions
from mscal.spec.owner_forms import owner_forms, placeholder, shaping_inputs

_HEADER = """# Operations

Every operation, the Microsoft Graph endpoints it calls (one per owner form: `/me` or
`/users/{user_id}`, a group's calendar, a calendar by id or inside a calendar group), and the
least Graph permissions it needs. Generated from the spec by `python -m tools.operations_table`;
a test keeps this file identical to that output.

"""


def endpoints(connector: Connector, name: str) -> list[str]:
    operation = connector.spec.operation(name)
    if "raw_path" in str(operation.request.get("path", "")):
        return ["any Graph endpoint (method and path given as inputs)"]
    builder = connector.compiled(name).builder
    shaping = shaping_inputs(connector, operation)
    method = str(operation.request["method"]).upper()
    seen: list[str] = []
    for inputs in owner_forms(connector, operation):
        path = builder._path.render(builder.context(inputs))
        for index, input_name in enumerate(shaping):
            path = path.replace(placeholder(index), "{" + input_name + "}")
        if f"{method} {path}" not in seen:
            seen.append(f"{method} {path}")
    return seen


def render(connector: Connector) -> str:
    lines = [_HEADER.rstrip("\n"), ""]
    group_note = connector.spec.defaults.permissions["group_calendars"].to_dict()
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
