"""What every command shares: the usage error (exit 2, nothing sent), the parser that raises
it instead of exiting, and JSON printing."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn

from mscal.errors import ConnectorError

# The environment variable `mscal run` reads a bearer token from.
TOKEN_ENV = "MSCAL_ACCESS_TOKEN"


class UsageError(ConnectorError):
    exit_code = 2


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(message)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
