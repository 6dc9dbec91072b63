"""The condition language's parser: precedence, literals, and syntax errors with positions."""

from __future__ import annotations

import pytest
from riskrail.engine.language import nodes as n
from riskrail.engine.language.errors import LanguageError
from riskrail.engine.language.parser import parse, parse_duration, parse_timeofday


def show(node: n.Node) -> str:
    """A fully parenthesised rendering, to assert the shape of a tree in one line."""
    if isinstance(node, n.Literal):
        return repr(node.value) if node.kind == "string" else f"{node.kind}:{node.value}"
    if isinstance(node, n.Name):
        return node.name
    if isinstance(node, n.Attribute):
        return f"{show(node.value)}.{node.attr}"
    if isinstance(node, n.Index):
        return f"{show(node.value)}[{show(node.key)}]"
    if isinstance(node, n.Call):
        return f"{node.function}({', '.join(show(a) for a in node.args)})"
    if isinstance(node, n.Unary):
        return f"(-{show(node.operand)})"
    if isinstance(node, n.Not):
        return f"(not {show(node.operand)})"
    if isinstance(node, n.Binary | n.Compare | n.BoolOp):
        return f"({show(node.left)} {node.op} {show(node.right)})"
    if isinstance(node, n.Conditional):
        return f"({show(node.then)} if {show(node.test)} else {show(node.otherwise)})"
    if isinstance(node, n.ListLiteral):
        return f"[{', '.join(show(i) for i in node.items)}]"
    if isinstance(node, n.Comprehension):
        cond = f" if {show(node.condition)}" if node.condition is not None else ""
        return f"[{show(node.element)} for {node.variable} in {show(node.iterable)}{cond}]"
    raise AssertionError(node)


@pytest.mark.parametrize(("text", "tree"), [
    # boolean precedence: not > and > or
    ("a or b and not c", "(a or (b and (not c)))"),
    ("not a and b", "((not a) and b)"),
    ("a and b or c and d", "((a and b) or (c and d))"),
    ("not not a", "(not (not a))"),
    # arithmetic precedence and associativity
    ("1 + 2 * 3", "(number:1 + (number:2 * number:3))"),
    ("1 - 2 - 3", "((number:1 - number:2) - number:3)"),
    ("8 / 4 / 2", "((number:8 / number:4) / number:2)"),
    ("(1 + 2) * 3", "((number:1 + number:2) * number:3)"),
    ("a % 2 + 1", "((a % number:2) + number:1)"),
    # unary minus binds tighter than * and folds into literals
    ("-2 * a", "(number:-2 * a)"),
    ("-a * b", "((-a) * b)"),
    ("-a.b", "(-a.b)"),
    ("- - 3", "number:3"),
    ("a - -4", "(a - number:-4)"),
    ("-90s", "duration:-90.0"),
    # comparisons bind looser than arithmetic, tighter than not/and
    ("a + 1 > b * 2", "((a + number:1) > (b * number:2))"),
    ("not a < b", "(not (a < b))"),
    ("a <= b and c != d", "((a <= b) and (c != d))"),
    ("a == b or c >= d", "((a == b) or (c >= d))"),
    # membership and globs
    ("x in [1, 2]", "(x in [number:1, number:2])"),
    ("x not in y", "(x not in y)"),
    ("not x in y", "(not (x in y))"),
    ("s matches 'MN*'", "(s matches 'MN*')"),
    ("a.names matches params.symbols and b", "((a.names matches params.symbols) and b)"),
    # conditional expressions: lowest precedence, right-associative in the else
    ("x if c else y", "(x if c else y)"),
    ("a + 1 if c or d else b", "((a + number:1) if (c or d) else b)"),
    ("x if a else y if b else z", "(x if a else (y if b else z))"),
    # access, calls, lists, comprehensions
    ("a.b.c[0]", "a.b.c[number:0]"),
    ("params.tiers[0].loss", "params.tiers[number:0].loss"),
    ("max(a, b)", "max(a, b)"),
    ("trades_in(60s) > 3", "(trades_in(duration:60.0) > number:3)"),
    ("f()", "f()"),
    ("[]", "[]"),
    ("[t.cooldown for t in params.tiers if trade.pnl <= t.loss]",
     "[t.cooldown for t in params.tiers if (trade.pnl <= t.loss)]"),
    ("[x * 2 for x in xs]", "[(x * number:2) for x in xs]"),
    # literals
    ("true", "bool:True"),
    ("false", "bool:False"),
    ("none", "none:None"),
    ("1e3", "number:1000.0"),
    ("2.5", "number:2.5"),
    ("'single'", "'single'"),
    ('"double"', "'double'"),
    (r'"say \"hi\""', "'say \"hi\"'"),
    # names may contain keywords
    ("android or nothing", "(android or nothing)"),
    # whitespace and newlines (folded YAML) do not matter
    ("a\n  and b", "(a and b)"),
])
def test_shapes(text: str, tree: str) -> None:
    assert show(parse(text)) == tree


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90.0), ("15m", 900.0), ("1h", 3600.0), ("1h30m", 5400.0), ("500ms", 0.5),
    ("2d", 172800.0), ("1.5s", 1.5), ("0s", 0.0), ("1m30s", 90.0),
])
def test_durations(text: str, seconds: float) -> None:
    node = parse(text)
    assert isinstance(node, n.Literal) and node.kind == "duration"
    assert node.value == seconds
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["90", "s", "1x", "", "1h 30m", "-5s"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(("text", "seconds"), [
    ("15:10", 15 * 3600 + 600), ("08:30", 8 * 3600 + 1800), ("8:30", 8 * 3600 + 1800),
    ("00:00", 0), ("23:59", 23 * 3600 + 59 * 60),
])
def test_times_of_day(text: str, seconds: int) -> None:
    node = parse(text)
    assert isinstance(node, n.Literal) and node.kind == "timeofday"
    assert node.value == seconds
    assert parse_timeofday(text) == seconds


@pytest.mark.parametrize(("text", "message"), [
    ("25:00", "1:1: invalid time of day '25:00' (use HH:MM, 00:00-23:59)"),
    ("24:00", "1:1: invalid time of day '24:00' (use HH:MM, 00:00-23:59)"),
    ("now > 12:60", "1:7: invalid time of day '12:60' (use HH:MM, 00:00-23:59)"),
])
def test_invalid_times(text: str, message: str) -> None:
    with pytest.raises(LanguageError) as caught:
        parse(text)
    assert str(caught.value) == message
    assert parse_timeofday(text.split()[-1]) is None


VALUE = "a value (a name, number, string, duration, '(' or '[')"


@pytest.mark.parametrize(("text", "message"), [
    ("", "1:1: empty expression"),
    ("   ", "1:1: empty expression"),
    ("a +", f"1:4: unexpected end of expression; expected {VALUE}"),
    ("a ==", f"1:5: unexpected end of expression; expected {VALUE}"),
    ("a +   ", f"1:4: unexpected end of expression; expected {VALUE}"),
    ("not", f"1:4: unexpected end of expression; expected {VALUE}"),
    ("(a", "1:3: unexpected end of expression; expected ')'"),
    ("[1, 2", "1:6: unexpected end of expression; expected ',' or ']'"),
    ("x if y", "1:7: unexpected end of expression; expected 'else' or 'or'"),
    ("a b", "1:3: unexpected name 'b'; expected an operator"),
    ("5 5", "1:3: unexpected number '5'; expected an operator"),
    ("15:10 15:10", "1:7: unexpected time of day '15:10'; expected an operator"),
    ("1 < 2 < 3", "1:7: unexpected '<'; expected an operator or the end of the expression"),
    ("2 ** 3", f"1:4: unexpected '*'; expected {VALUE}"),
    ("a and or b", f"1:7: unexpected 'or'; expected {VALUE}"),
    ("f(1,)", f"1:5: unexpected ')'; expected {VALUE}"),
    ("[1, 2,]", f"1:7: unexpected ']'; expected {VALUE}"),
    ("position.age >= 60 s",
     "1:20: unexpected name 's': write a duration without a space, e.g. 60s"),
    ("a $ b", "1:3: unexpected character '$'"),
    ("a = b", "1:3: unexpected character '='; use == to compare"),
    ("a && b", "1:3: unexpected character '&'; use 'and'"),
    ("a || b", "1:3: unexpected character '|'; use 'or'"),
    ("!a", "1:1: unexpected character '!'; use 'not' (or != to compare)"),
    ('"abc', "1:1: unterminated string"),
    ("x == 'abc", "1:6: unterminated string"),
    # positions on later lines (literal block scalars keep their newlines)
    ("a and\n  b +", f"2:6: unexpected end of expression; expected {VALUE}"),
    ("a and\nb c", "2:3: unexpected name 'c'; expected an operator"),
    ("a\n  and\n  25:00 > b", "3:3: invalid time of day '25:00' (use HH:MM, 00:00-23:59)"),
])
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(LanguageError) as caught:
        parse(text)
    assert str(caught.value) == message


def test_node_positions() -> None:
    tree = parse("account.balance > 10\n  and position.age >= 60s")
    assert isinstance(tree, n.BoolOp)
    compare = tree.right
    assert isinstance(compare, n.Compare)
    assert compare.pos == n.Position(2, 20)  # the operator
    assert isinstance(compare.left, n.Attribute)
    assert compare.left.pos == n.Position(2, 16)  # the field name
    assert compare.right.pos == n.Position(2, 23)


def test_parse_is_cached_but_trees_are_not_shared_by_mistake() -> None:
    assert parse("a + 1") is parse("a + 1")


def test_text_offsets_round_trip() -> None:
    text = "ab\ncde\n\nf"
    for offset in range(len(text) + 1):
        assert n.text_offset(text, n.position_at(text, offset)) == offset
