"""The linter's report as text (one finding a line, with its hint), JSON, or SARIF 2.1.0."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from mscal.lint.rules import RULES, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(findings: list[Finding], output: str) -> str:
    if output == "json":
        return json.dumps([asdict(f) for f in findings], indent=2) + "\n"
    if output == "sarif":
        return json.dumps(sarif(findings), indent=2) + "\n"
    return "".join(f"{finding}\n" for finding in findings)


def sarif(findings: list[Finding]) -> dict[str, Any]:
    used = sorted({f.rule for f in findings})
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mscal lint",
                        "informationUri": "https://github.com/",
                        "rules": [
                            {
                                "id": rule,
                                "shortDescription": {"text": rule.replace("-", " ")},
                                "help": {"text": RULES[rule].hint},
                                "defaultConfiguration": {"level": RULES[rule].severity},
                            }
                            for rule in used
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": f.rule,
                        "level": f.severity,
                        "message": {"text": f"{f.message} (hint: {f.hint})"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": f.file},
                                    "region": {"startLine": f.line, "startColumn": f.column},
                                }
                            }
                        ],
                    }
                    for f in findings
                ],
            }
        ],
    }
