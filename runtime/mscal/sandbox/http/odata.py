"""A useful subset of OData query options: $filter, $orderby, $select, $top and $skip."""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any

from mscal.sandbox.errors import bad_request

Predicate = Callable[[dict[str, Any]], bool]
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?(?![\w:-]))"
    r"|(?P<datetime>\d{4}-\d{2}-\d{2}(?:T[\d:.]+)?(?:Z|[+-]\d{2}:\d{2})?)"
    r"|(?P<punct>[(),])|(?P<word>[A-Za-z_@][\w@./]*))"
)
_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
_ORDERING: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_FUNCTIONS: dict[str, Callable[[Any, Any], bool]] = {
    "startswith": lambda a, b: (
        isinstance(a, str) and isinstance(b, str) and a.lower().startswith(b.lower())
    ),
    "endswith": lambda a, b: (
        isinstance(a, str) and isinstance(b, str) and a.lower().endswith(b.lower())
    ),
    "contains": lambda a, b: isinstance(a, str) and isinstance(b, str) and b.lower() in a.lower(),
}


def get_path(item: dict[str, Any], path: str) -> Any:
    node: Any = item
    for part in path.split("/"):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


@dataclass
class _Tokens:
    items: list[tuple[str, str]]
    position: int = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.position] if self.position < len(self.items) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _invalid("unexpected end of the filter")
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        _kind, text = self.take()
        if text.lower() != value:
            raise _invalid(f"expected '{value}' but found '{text}'")


def _invalid(detail: str) -> Exception:
    return bad_request(f"Invalid filter clause: {detail}.", "BadRequest")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise _invalid(f"syntax error at position {position}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def parse_filter(text: str) -> Predicate:
    tokens = _Tokens(_tokenize(text))
    predicate = _or(tokens)
    if tokens.peek() is not None:
        raise _invalid(f"unexpected '{tokens.peek()[1]}'")  # type: ignore[index]
    return predicate


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda item: a(item) or b(item)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda item: a(item) and b(item)


def _or(tokens: _Tokens) -> Predicate:
    left = _and(tokens)
    while (token := tokens.peek()) and token[1].lower() == "or":
        tokens.take()
        right = _and(tokens)
        left = _either(left, right)
    return left


def _and(tokens: _Tokens) -> Predicate:
    left = _not(tokens)
    while (token := tokens.peek()) and token[1].lower() == "and":
        tokens.take()
        right = _not(tokens)
        left = _both(left, right)
    return left


def _not(tokens: _Tokens) -> Predicate:
    token = tokens.peek()
    if token and token[1].lower() == "not":
        tokens.take()
        inner = _not(tokens)
        return lambda item: not inner(item)
    if token and token[1] == "(":
        tokens.take()
        inner = _or(tokens)
        tokens.expect(")")
        return inner
    return _comparison(tokens)


def _comparison(tokens: _Tokens) -> Predicate:
    left = _operand(tokens)
    token = tokens.peek()
    if token and token[1].lower() in _COMPARISONS:
        operator = tokens.take()[1].lower()
        right = _operand(tokens)
        return lambda item: _compare(left(item), operator, right(item))
    return lambda item: bool(left(item))


def _operand(tokens: _Tokens) -> Callable[[dict[str, Any]], Any]:
    kind, text = tokens.take()
    if kind == "string":
        value = text[1:-1].replace("''", "'")
        return lambda _item: value
    if kind == "number":
        number = float(text) if "." in text else int(text)
        return lambda _item: number
    if kind == "datetime":
        return lambda _item: text
    if kind == "word":
        lowered = text.lower()
        if lowered in {"true", "false"}:
            return lambda _item: lowered == "true"
        if lowered == "null":
            return lambda _item: None
        if lowered in _FUNCTIONS and (nxt := tokens.peek()) and nxt[1] == "(":
            tokens.take()
            first = _operand(tokens)
            tokens.expect(",")
            second = _operand(tokens)
            tokens.expect(")")
            function = _FUNCTIONS[lowered]
            return lambda item: function(first(item), second(item))
        return lambda item: get_path(item, text)
    raise _invalid(f"unexpected '{text}'")


def _comparable(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00")[:26])
        except ValueError:
            return value
        return (
            parsed.replace(tzinfo=None)
            if parsed.tzinfo is None
            else parsed.astimezone(dt.UTC).replace(tzinfo=None)
        )
    if isinstance(value, str):
        return value.lower()
    return value


def _compare(left: Any, op: str, right: Any) -> bool:
    a, b = _comparable(left), _comparable(right)
    if op == "eq":
        return bool(a == b)
    if op == "ne":
        return bool(a != b)
    if a is None or b is None:
        return False
    try:
        return bool(_ORDERING[op](a, b))
    except TypeError:
        return False


def order_by(items: list[dict[str, Any]], clause: str) -> list[dict[str, Any]]:
    keys: list[tuple[str, bool]] = []
    for part in clause.split(","):
        words = part.split()
        if (
            not words
            or len(words) > 2
            or (len(words) == 2 and words[1].lower() not in {"asc", "desc"})
        ):
            raise bad_request(f"Invalid $orderby clause '{clause}'.", "BadRequest")
        keys.append((words[0], len(words) == 2 and words[1].lower() == "desc"))

    def compare(x: dict[str, Any], y: dict[str, Any]) -> int:
        for path, descending in keys:
            a, b = _comparable(get_path(x, path)), _comparable(get_path(y, path))
            if a == b:
                continue
            if a is None or b is None:
                result = -1 if a is None else 1
            else:
                try:
                    result = -1 if a < b else 1
                except TypeError:
                    result = -1 if str(a) < str(b) else 1
            return -result if descending else result
        return 0

    return sorted(items, key=cmp_to_key(compare))


_SEARCHED = ("subject", "bodyPreview", "displayName", "name", "eventSubject")


def search_matches(item: dict[str, Any], expression: str) -> bool:
    """A simple $search: every quoted or bare term appears in the item's text fields."""
    text = " ".join(str(item.get(key, "")) for key in _SEARCHED).lower()
    terms = [
        t.split(":", 1)[-1] for t in re.findall(r'"([^"]*)"|(\S+)', expression) for t in t if t
    ]
    return all(term.lower() in text for term in terms)


ALWAYS_SELECTED = ("id", "@odata.etag", "@odata.type", "@removed")


def select(item: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if not fields:
        return item
    wanted = {f.split("/")[0] for f in fields}
    return {k: v for k, v in item.items() if k in wanted or k in ALWAYS_SELECTED}


def int_option(value: str | None, name: str, *, minimum: int = 0) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < minimum:
        raise bad_request(f"Invalid value '{value}' for query option {name}.", "BadRequest")
    return number


def bool_option(value: str | None, name: str) -> bool:
    """`$count`: true or false (any case); anything else is Graph's 400."""
    if value is None:
        return False
    if value.lower() not in {"true", "false"}:
        raise bad_request(
            f"Invalid value '{value}' for {name} query option found. "
            "Valid values are 'true' or 'false'.",
            "BadRequest",
        )
    return value.lower() == "true"


def check_options(query: dict[str, str]) -> None:
    """Malformed system query options are refused on every path, as Graph's OData layer does
    before any handler runs."""
    bool_option(query.get("$count"), "$count")
    int_option(query.get("$top"), "$top")
    int_option(query.get("$skip"), "$skip")
