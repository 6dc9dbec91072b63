"""Text -> syntax tree, with Lark (LALR) doing the lexing and parsing."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import nodes as n
from .errors import LanguageError
from .limits import (
    MAX_DURATION_SECONDS,
    MAX_EXPRESSION_CHARS,
    MAX_EXPRESSION_DEPTH,
    MAX_EXPRESSION_NODES,
    MAX_NUMBER,
    limit,
)

__all__ = ["parse", "parse_duration", "parse_timeofday"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_DURATION_FULL = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d))+$")
_TIMEOFDAY_FULL = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")

_TOKEN_NAMES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "DURATION": "a duration",
    "TIMEOFDAY": "a time of day",
    "STRING": "a string",
    "COMP_OP": "a comparison",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*', '/' or '%'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "DOT": "'.'",
    "MINUS": "'-'",
    "$END": "end of expression",
}


def parse_duration(text: str) -> float | None:
    """``90s`` -> 90.0, ``1h30m`` -> 5400.0; None if ``text`` is not a duration."""
    value = text.strip()
    if not _DURATION_FULL.match(value):
        return None
    return sum(float(num) * _UNITS[unit] for num, unit in _DURATION_PART.findall(value))


def parse_timeofday(text: str) -> float | None:
    """``15:10`` -> seconds after midnight; None if not HH:MM or out of range."""
    match = _TIMEOFDAY_FULL.match(text.strip())
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return hours * 3600.0 + minutes * 60.0


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = files("riskrail.engine.language").joinpath("grammar.lark").read_text("utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _pos(item: Token | Tree[Any] | n.Node) -> n.Position:
    if isinstance(item, n.Node):
        return item.pos
    if isinstance(item, Token):
        return n.Position(item.line or 1, item.column or 1)
    return n.Position(item.meta.line, item.meta.column)


@v_args(meta=True)
class _ToNodes(Transformer[Token, n.Node]):
    def _at(self, meta: Any) -> n.Position:
        return n.Position(getattr(meta, "line", 1), getattr(meta, "column", 1))

    def number(self, meta: Any, children: list[Token]) -> n.Node:
        text = str(children[0])
        value: float | int
        if any(c in text for c in ".eE") or len(text) > 16:
            value = float(text)  # never int(): a 5,000-digit literal is not a number of ours
        else:
            value = int(text)
        if not abs(value) <= MAX_NUMBER:
            raise LanguageError(f"number {text[:20]}{'...' if len(text) > 20 else ''} is too "
                                f"large {limit('number', MAX_NUMBER)}", _pos(children[0]))
        return n.Literal("number", value, pos=_pos(children[0]))

    def duration(self, meta: Any, children: list[Token]) -> n.Node:
        text = str(children[0])
        seconds = parse_duration(text)
        assert seconds is not None
        if not seconds <= MAX_DURATION_SECONDS:
            raise LanguageError(f"duration {text[:20]}{'...' if len(text) > 20 else ''} is "
                                f"longer than {MAX_DURATION_SECONDS // 86_400}d "
                                f"{limit('duration', MAX_DURATION_SECONDS // 86_400, 'days')}",
                                _pos(children[0]))
        return n.Literal("duration", seconds, pos=_pos(children[0]))

    def timeofday(self, meta: Any, children: list[Token]) -> n.Node:
        token = children[0]
        seconds = parse_timeofday(str(token))
        if seconds is None:
            raise LanguageError(f"invalid time of day {str(token)!r} (use HH:MM, 00:00-23:59)",
                                _pos(token))
        return n.Literal("timeofday", seconds, pos=_pos(token))

    def string(self, meta: Any, children: list[Token]) -> n.Node:
        raw = str(children[0])[1:-1]
        value = re.sub(r"\\(.)", r"\1", raw)
        return n.Literal("string", value, pos=_pos(children[0]))

    def true(self, meta: Any, children: list[Any]) -> n.Node:
        return n.Literal("bool", True, pos=self._at(meta))

    def false(self, meta: Any, children: list[Any]) -> n.Node:
        return n.Literal("bool", False, pos=self._at(meta))

    def none(self, meta: Any, children: list[Any]) -> n.Node:
        return n.Literal("none", None, pos=self._at(meta))

    def name(self, meta: Any, children: list[Token]) -> n.Node:
        return n.Name(str(children[0]), pos=_pos(children[0]))

    def attribute(self, meta: Any, children: list[Any]) -> n.Node:
        value, attr = children
        return n.Attribute(value, str(attr), pos=_pos(attr))

    def index(self, meta: Any, children: list[Any]) -> n.Node:
        value, key = children
        return n.Index(value, key, pos=_pos(value))

    def arguments(self, meta: Any, children: list[n.Node]) -> list[n.Node]:  # type: ignore[override]
        return list(children)

    def call(self, meta: Any, children: list[Any]) -> n.Node:
        function, args = children
        return n.Call(str(function), args or [], pos=_pos(function))

    def list_literal(self, meta: Any, children: list[Any]) -> n.Node:
        (items,) = children
        return n.ListLiteral(items or [], pos=self._at(meta))

    def comprehension(self, meta: Any, children: list[Any]) -> n.Node:
        element, variable, iterable, condition = children
        return n.Comprehension(element, str(variable), iterable, condition, pos=self._at(meta))

    def neg(self, meta: Any, children: list[Any]) -> n.Node:
        (operand,) = children
        if isinstance(operand, n.Literal) and operand.kind in ("number", "duration"):
            return n.Literal(operand.kind, -operand.value, pos=self._at(meta))
        return n.Unary("-", operand, pos=self._at(meta))

    def binary(self, meta: Any, children: list[Any]) -> n.Node:
        left, op, right = children
        return n.Binary(str(op), left, right, pos=_pos(op))

    def compare(self, meta: Any, children: list[Any]) -> n.Node:
        left, op, right = children
        return n.Compare(str(op), left, right, pos=_pos(op))

    def in_(self, meta: Any, children: list[Any]) -> n.Node:
        left, right = children
        return n.Compare("in", left, right, pos=self._at(meta))

    def not_in(self, meta: Any, children: list[Any]) -> n.Node:
        left, right = children
        return n.Compare("not in", left, right, pos=self._at(meta))

    def matches(self, meta: Any, children: list[Any]) -> n.Node:
        left, right = children
        return n.Compare("matches", left, right, pos=self._at(meta))

    def and_(self, meta: Any, children: list[Any]) -> n.Node:
        left, right = children
        return n.BoolOp("and", left, right, pos=self._at(meta))

    def or_(self, meta: Any, children: list[Any]) -> n.Node:
        left, right = children
        return n.BoolOp("or", left, right, pos=self._at(meta))

    def not_(self, meta: Any, children: list[Any]) -> n.Node:
        (operand,) = children
        return n.Not(operand, pos=self._at(meta))

    def conditional(self, meta: Any, children: list[Any]) -> n.Node:
        then, test, otherwise = children
        return n.Conditional(test, then, otherwise, pos=self._at(meta))


#: terminals that can start an operand: when the parser wanted one, say "a value"
_OPERAND_STARTS = {"NAME", "NUMBER", "STRING", "DURATION", "TIMEOFDAY"}
#: terminals that continue an operand with an operator
_OPERATORS = {"COMP_OP", "ADD_OP", "MUL_OP"}
#: characters from other languages, and what to write instead
_CHARACTER_HINTS = {
    "=": "; use == to compare",
    "&": "; use 'and'",
    "|": "; use 'or'",
    "!": "; use 'not' (or != to compare)",
}


def _innermost_bracket(text: str) -> str:
    """The innermost bracket still open at the end of ``text`` ('' if none)."""
    stack: list[str] = []
    quote = ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            stack.append(char)
        elif char in ")]" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def _describe_expected(expected: set[str], before: str = "") -> str:
    # LALR merges states: inside [ ... ] it may also offer ')' (and the reverse)
    bracket = _innermost_bracket(before)
    if bracket == "[":
        expected = expected - {"RPAR"}
    elif bracket == "(":
        expected = expected - {"RSQB"}
    if _OPERAND_STARTS & expected:
        return "a value (a name, number, string, duration, '(' or '[')"
    if _OPERATORS & expected:
        return "an operator" + (" or the end of the expression" if "$END" in expected else "")
    names = sorted({_TOKEN_NAMES.get(e, repr(e.lower()) if e.isupper() else repr(e))
                    for e in expected})
    if len(names) > 6:
        names = [*names[:6], "..."]
    return " or ".join(names)


def _end_position(text: str) -> n.Position:
    """Just after the last non-blank character: where 'end of expression' happens."""
    body = text.rstrip()
    line = body.count("\n") + 1
    return n.Position(line, len(body) - (body.rfind("\n") + 1) + 1)


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "end of expression"
    if token.type == "NAME":
        return f"name {str(token)!r}"
    if token.type in ("NUMBER", "DURATION", "TIMEOFDAY", "STRING"):
        return f"{_TOKEN_NAMES[token.type].removeprefix('a ')} {str(token)!r}"
    return repr(str(token))


def _too_big(tree: Tree[Any]) -> tuple[str, n.Position] | None:
    """An expression's syntax tree deeper or larger than the limits, before anything
    walks it recursively (Lark's parser itself is iterative)."""
    count = 0
    stack: list[tuple[Tree[Any] | Token, int]] = [(tree, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_EXPRESSION_NODES:
            return (f"expression too large: more than {MAX_EXPRESSION_NODES:,} parts "
                    f"{limit('expression size', MAX_EXPRESSION_NODES)}", n.Position(1, 1))
        if not isinstance(item, Tree):
            continue
        if depth > MAX_EXPRESSION_DEPTH:
            return (f"expression nests too deeply: more than {MAX_EXPRESSION_DEPTH} levels "
                    f"{limit('expression depth', MAX_EXPRESSION_DEPTH)}", n.Position(1, 1))
        stack.extend((child, depth + 1) for child in item.children if child is not None)
    return None


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> n.Node:
    if len(text) > MAX_EXPRESSION_CHARS:
        raise LanguageError(f"expression too long: more than {MAX_EXPRESSION_CHARS:,} "
                            f"characters {limit('expression length', MAX_EXPRESSION_CHARS)}",
                            n.Position(1, 1))
    try:
        tree = _lark().parse(text)
    except UnexpectedToken as error:
        token = error.token
        if token.type == "$END":
            position = _end_position(text)
        else:
            position = n.Position(error.line if error.line and error.line > 0 else 1,
                                  error.column if error.column and error.column > 0 else 1)
        before = text if token.type == "$END" else text[:token.start_pos or 0]
        message = (f"unexpected {_describe_token(token)}; expected "
                   f"{_describe_expected(set(error.expected), before)}")
        if token.type == "NAME" and str(token) in _UNITS and before[-1:].isspace() \
                and before.rstrip()[-1:].isdigit():
            message = (f"unexpected name {str(token)!r}: write a duration without a space, "
                       f"e.g. 60{token}")
        raise LanguageError(message, position) from None
    except UnexpectedCharacters as error:
        offset = error.pos_in_stream
        char = text[offset] if offset is not None and 0 <= offset < len(text) else "?"
        if char in "'\"":
            message = "unterminated string"
        else:
            message = f"unexpected character {char!r}{_CHARACTER_HINTS.get(char, '')}"
        raise LanguageError(message, n.Position(error.line, error.column)) from None
    except UnexpectedEOF as error:  # pragma: no cover - LALR reports UnexpectedToken($END)
        raise LanguageError(
            f"unexpected end of expression; expected {_describe_expected(set(error.expected))}",
            _end_position(text),
        ) from None
    except UnexpectedInput as error:  # pragma: no cover - other lark input errors
        raise LanguageError(str(error).splitlines()[0], n.Position(error.line, error.column)) \
            from None
    too_big = _too_big(tree)
    if too_big is not None:
        raise LanguageError(*too_big)
    try:
        node = _ToNodes().transform(tree)
    except Exception as error:  # lark wraps transformer errors
        inner = getattr(error, "orig_exc", None)
        if isinstance(inner, LanguageError):
            raise inner from None
        raise
    if isinstance(node, Token):  # a bare token cannot be the whole tree, but be safe
        raise LanguageError("expected an expression", n.Position(1, 1))
    return node


#: expressions up to this long are cached (a ruleset's are; a long one costs memory)
_CACHED_CHARS = 400


def parse(text: str) -> n.Node:
    """Parse one expression. Raises LanguageError with a position on bad input."""
    if not text.strip():
        raise LanguageError("empty expression", n.Position(1, 1))
    if len(text) > _CACHED_CHARS:
        return _parse_cached.__wrapped__(text)
    return _parse_cached(text)
