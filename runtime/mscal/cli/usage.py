"""What every command shares: the usage error (exit 2, nothing sent), the parser that raises
it instead of exiting, and JSON printing."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, NoReturn

from mscal.errors import ConnectorError

EXIT_CODES = """exit status:
  0  success
  2  invalid input or usage: nothing was sent (stderr names the field and the rule)
  1  any other failure (stderr names the cause: Graph's status, code and request ids, ...)"""

# The environment variable `mscal run` reads a bearer token from.
TOKEN_ENV = "MSCAL_ACCESS_TOKEN"


class UsageError(ConnectorError):
    exit_code = 2


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Epilogs hold examples and exit codes, laid out by hand.
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(message)


class HelpRequested(Exception):  # noqa: N818 - a signal, not an error
    """`--help` on a page whose text needs the spec (an operation's inputs, the form's
    fields): the parser stops here and `main` prints the page with the spec loaded, so the
    spec is read only when such a page is asked for."""

    def __init__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace) -> None:
        super().__init__("help")
        self.parser = parser
        self.namespace = namespace


class SpecHelp(argparse.Action):
    """`-h/--help` that hands over to `main` (see HelpRequested)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show this help (with what the spec says) and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        raise HelpRequested(parser, namespace)


class VersionAction(argparse.Action):
    """`--version`: the package's version and the spec's, read only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        # Imported here: only --version reads the installed package's metadata.
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            installed = version("microsoft-calendar-connector")
        except PackageNotFoundError:
            installed = "(not installed)"
        print(f"mscal {installed} (Python {sys.version.split()[0]})")
        parser.exit(0)


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON as people read it (non-ASCII as is), unless a server sent a lone surrogate
    (`"\\ud800"` is valid JSON but no UTF-8): then every non-ASCII character is escaped."""
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, indent=indent, ensure_ascii=True)
    return text


def print_json(value: Any) -> None:
    sys.stdout.write(dumps(value, indent=2) + "\n")


def name_in_advice(message: str, name: str | None) -> str:
    """The spec's advice says `mscal auth login NAME`: name the authentication in use."""
    if not name:
        return message
    return re.sub(r"(mscal auth \w+) NAME\b", lambda m: f"{m.group(1)} {name}", message)
