"""Every snippet in README.md and docs/*.md runs as written.

Fenced blocks are found in README.md and every docs/*.md (so a page or snippet someone adds is
run too) and executed, each file's blocks in order, against a fresh local Graph service:

- ```python blocks run in one namespace per file (a later block may use an earlier one's names),
  in-process, with GRAPH_CLIENT_SECRET set (the local service accepts any secret);
- ```sh / ```bash / ```shell blocks run with `bash -e` (every command must succeed);
- ```console blocks: each `$ ` line (with its `\\` continuation lines) is a command; it must
  succeed, unless the lines printed under it start with `mscal: error:`, which it must then
  print (on stderr), exiting 2.

Snippets address the local service as `mscal sandbox` serves it, at http://127.0.0.1:8765: the
test rewrites that address to its own service's. Shell snippets run in an empty directory with
a configuration directory of their own, `mscal` on the PATH and `$TOKEN` holding a token of the
local service's default user.

A block that cannot run (it installs packages, starts a service that never ends, needs a
Microsoft Entra app registration or a browser, or is a synopsis with placeholders) is marked on
the line just before its opening fence, with the reason:

    <!-- not runnable: needs a Microsoft Entra app registration and a browser -->

Blocks in other languages (yaml, json, text, none) are data or output and are not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mscal.sandbox.server import BackgroundServer
from mscal.sandbox.service import Sandbox, create_sandbox

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = "http://127.0.0.1:8765"
RUN = {"python", "sh", "bash", "shell", "console"}
MARK = re.compile(r"<!--\s*not runnable:\s*(?P<reason>.*?)\s*-->")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)")
TIMEOUT = 120


@dataclass(frozen=True)
class Snippet:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    skipped: str | None  # the reason given, when marked not runnable

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def snippets(path: Path) -> list[Snippet]:
    found: list[Snippet] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        close = re.compile(
            rf"^ {{0,3}}{re.escape(opening['fence'][0])}{{{len(opening['fence'])},}}\s*$"
        )
        end = index + 1
        while end < len(lines) and not close.match(lines[end]):
            end += 1
        previous = lines[index - 1] if index > 0 else ""
        marked = MARK.search(previous)
        found.append(
            Snippet(
                path,
                index + 1,
                opening["lang"].lower(),
                "\n".join(lines[index + 1 : end]) + "\n",
                marked["reason"] if marked else None,
            )
        )
        index = end + 1
    return found


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.fixture(scope="module")
def local() -> Iterator[tuple[Sandbox, str]]:
    sandbox = create_sandbox(":memory:", seed=True)
    with BackgroundServer(sandbox.app) as url:
        yield sandbox, url


def test_marks_give_a_reason() -> None:
    for path in documents():
        for snippet in snippets(path):
            if snippet.skipped is not None:
                assert snippet.skipped, f"{snippet.where}: say why it cannot run"


def test_the_finder_reads_fences_and_marks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n```python\nx = 1\n```\n<!-- not runnable: needs a browser -->\n```sh\nopen\n```\n"
        "```yaml\na: 1\n```\n````console\n$ echo ```\n````\n"
    )
    found = [(s.line, s.lang, s.code, s.skipped) for s in snippets(page)]
    assert found == [
        (2, "python", "x = 1\n", None),
        (6, "sh", "open\n", "needs a browser"),
        (9, "yaml", "a: 1\n", None),
        (12, "console", "$ echo ```\n", None),
    ]


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
def test_every_snippet_runs(
    path: Path,
    local: tuple[Sandbox, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox, url = local
    runnable = [s for s in snippets(path) if s.lang in RUN and s.skipped is None]
    if not runnable:
        return
    env = _shell_environment(sandbox, tmp_path)
    monkeypatch.setenv("GRAPH_CLIENT_SECRET", "any-secret-works-locally")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"snippets_of_{path.stem}"}
    for snippet in runnable:
        code = snippet.code.replace(DOCUMENTED, url)
        if snippet.lang == "python":
            try:
                exec(compile(code, snippet.where, "exec"), namespace)
            except Exception as exc:
                pytest.fail(
                    f"{snippet.where}: the python snippet fails: {type(exc).__name__}: {exc}"
                )
            capsys.readouterr()
        elif snippet.lang == "console":
            _run_console(snippet, code, env, tmp_path)
        else:
            _run_shell(snippet, code, env, tmp_path)


def _shell_environment(sandbox: Sandbox, home: Path) -> dict[str, str]:
    user = sandbox.calendars.find_user(sandbox.identity.config.default_user)
    assert user is not None
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "TOKEN": sandbox.identity.issue_for(user["userPrincipalName"]),
        "GRAPH_CLIENT_SECRET": "any-secret-works-locally",
    }


def _run_shell(snippet: Snippet, code: str, env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{snippet.where}: the shell snippet fails:\n{done.stderr}"
    assert "Traceback" not in done.stderr, f"{snippet.where}: {done.stderr}"


def _run_console(snippet: Snippet, code: str, env: dict[str, str], cwd: Path) -> None:
    for command, printed in _console_commands(code):
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        errors = [line for line in printed if line.startswith("mscal: error:")]
        where = f"{snippet.where}: $ {command}"
        if errors:
            assert done.returncode == 2, f"{where}: exit {done.returncode}, {done.stderr}"
            for line in errors:
                assert line in done.stderr, f"{where}: printed {done.stderr!r}, not {line!r}"
        else:
            assert done.returncode == 0, f"{where}: exit {done.returncode}:\n{done.stderr}"
        assert "Traceback" not in done.stderr, f"{where}: {done.stderr}"


def _console_commands(code: str) -> list[tuple[str, list[str]]]:
    commands: list[tuple[str, list[str]]] = []
    lines = code.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.startswith("$ "):
            if commands:
                commands[-1][1].append(line)
            continue
        command = line[2:]
        while command.endswith("\\") and index < len(lines):
            command = command + "\n" + lines[index]  # bash reads the backslash-newline
            index += 1
        commands.append((command, []))
    return commands
