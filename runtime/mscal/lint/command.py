"""`mscal lint`: the findings printed (text, JSON or SARIF), a summary on stderr, and an exit
status: 0 clean (warnings allowed), 1 errors found, 2 the linter could not run."""

from __future__ import annotations

import sys

from mscal.errors import ConnectorError
from mscal.lint.core import lint
from mscal.lint.diff import breaking_changes
from mscal.lint.output import render
from mscal.lint.report import LintAbortError


def lint_command(
    path: str | None, openapi: str | None = None, output: str = "text", diff: str | None = None
) -> int:
    try:
        findings = lint(path, openapi)
        if diff is not None:
            findings = sorted(set(findings) | set(breaking_changes(diff, path)))
    except LintAbortError as exc:
        sys.stdout.write(render([exc.finding], output))
        print("the linter could not run", file=sys.stderr)
        return 2
    except ConnectorError as exc:
        print(f"mscal lint: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(findings, output, root=path))
    errors = sum(1 for f in findings if f.severity == "error")
    print(f"{len(findings)} finding(s), {errors} error(s)", file=sys.stderr)
    if any(f.rule == "yaml-invalid" for f in findings):
        print("the linter could not read every file (the others were checked)", file=sys.stderr)
        return 2
    return 1 if errors else 0
