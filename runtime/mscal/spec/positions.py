"""Reading YAML safely for the linter: values plus the line and column of every key and value.

Refused, with a position: files over a size limit, duplicate keys, alias expansion beyond a
bound (a "billion laughs" document), and syntax errors.

A file read once is kept, values and positions, in the spec cache (spec/cache.py) until it
changes, so a lint run over unchanged files does not even import a YAML parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mscal.spec.cache import ParsedFiles

if TYPE_CHECKING:
    import yaml

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 100_000  # values built, aliases counted each time they are expanded

Key = tuple[str | int, ...]
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


class YamlError(Exception):
    """The file cannot be read as the linter needs it; carries where."""

    def __init__(self, path: Path, line: int, column: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}")
        self.path, self.line, self.column, self.message = path, line, column, message


@dataclass
class Located:
    """A document and where each of its parts was written (1-based line and column)."""

    path: Path
    data: Any
    positions: dict[Key, tuple[int, int]] = field(default_factory=dict)

    def where(self, *keys: str | int) -> tuple[int, int]:
        """The position of the deepest part of `keys` that exists (the document start if none)."""
        for end in range(len(keys), -1, -1):
            found = self.positions.get(tuple(keys[:end]))
            if found is not None:
                return found
        return (1, 1)


def load_located(path: Path, cache: ParsedFiles | None = None) -> Located:
    """Read `path` with positions, from `cache` when it holds the file as it is now."""
    if cache is None:
        return _read(path)
    data, positions = cache.get(path, _read_plain)
    return Located(path, data, positions)


def _read_plain(path: Path) -> tuple[Any, dict[Key, tuple[int, int]]]:
    """What the cache keeps of a file: plain data only (marshal holds nothing else)."""
    located = _read(path)
    return located.data, located.positions


def _read(path: Path) -> Located:
    # Imported here: a lint run whose files all come from the cache never needs a YAML parser.
    import yaml  # noqa: PLC0415

    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise YamlError(path, 1, 1, f"file is {size} bytes; the limit is {MAX_BYTES}")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlError(path, 1, 1, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise YamlError(path, 1, 1, f"not UTF-8 text: {exc.reason}") from None
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        # The context (e.g. where an unclosed "[" opened) says more than where parsing gave up.
        mark = exc.context_mark or exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlError(path, line, column, f"invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlError(path, 1, 1, f"invalid YAML: {exc}") from None
    located = Located(path, None)
    if node is not None:
        located.data = _Builder(yaml, path, located.positions).build(node, ())
    return located


class _Builder:
    """Builds plain values from a composed YAML tree, noting where each key and value starts.
    Holds the `yaml` module it was given (imported only when a file is parsed)."""

    def __init__(self, yaml_module: Any, path: Path, positions: dict[Key, tuple[int, int]]):
        self.yaml = yaml_module
        self.path = path
        self.positions = positions
        self.count = 0
        self.constructor = yaml_module.SafeLoader("")

    def build(self, node: yaml.Node, key: Key) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            mark = node.start_mark
            raise YamlError(
                self.path,
                mark.line + 1,
                mark.column + 1,
                f"more than {MAX_NODES} values once aliases are expanded (an alias bomb?)",
            )
        self.positions.setdefault(key, (node.start_mark.line + 1, node.start_mark.column + 1))
        if (
            isinstance(node, (self.yaml.MappingNode, self.yaml.SequenceNode))
            and node.tag not in _PLAIN_TAGS
        ):
            mark = node.start_mark
            raise YamlError(
                self.path, mark.line + 1, mark.column + 1, f"not plain data: tag {node.tag}"
            )
        if isinstance(node, self.yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    merged = self.build(value_node, key)
                    for merged_key, merged_value in (
                        merged.items() if isinstance(merged, dict) else []
                    ):
                        result.setdefault(merged_key, merged_value)
                    continue
                name = self.build(key_node, (*key, "\x00key"))
                if name in result:
                    mark = key_node.start_mark
                    raise YamlError(
                        self.path, mark.line + 1, mark.column + 1, f"duplicate key {name!r}"
                    )
                self.positions[(*key, name)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                result[name] = self.build(value_node, (*key, name))
            return result
        if isinstance(node, self.yaml.SequenceNode):
            return [self.build(item, (*key, index)) for index, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node)
        except self.yaml.constructor.ConstructorError as exc:
            mark = node.start_mark
            raise YamlError(
                self.path, mark.line + 1, mark.column + 1, f"not plain data: {exc.problem}"
            ) from None
