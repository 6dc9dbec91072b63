"""The syntax tree of a condition expression.

Every node carries its position (1-based line and column) inside the
expression's text; the ruleset loader maps that onto the YAML file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Attribute",
    "Binary",
    "BoolOp",
    "Call",
    "Compare",
    "Comprehension",
    "Conditional",
    "Index",
    "ListLiteral",
    "Literal",
    "Name",
    "Node",
    "Not",
    "Position",
    "Unary",
    "position_at",
    "text_offset",
]


@dataclass(frozen=True, slots=True)
class Position:
    line: int
    column: int


def text_offset(text: str, pos: Position) -> int:
    """0-based offset in ``text`` of a 1-based (line, column) position."""
    lines = text.split("\n")
    line = min(max(pos.line, 1), len(lines))
    return sum(len(lines[i]) + 1 for i in range(line - 1)) + max(pos.column, 1) - 1


def position_at(text: str, offset: int) -> Position:
    """The 1-based (line, column) of 0-based ``offset`` in ``text``."""
    before = text[:offset]
    return Position(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


@dataclass(eq=False, slots=True)
class Node:
    pos: Position = field(kw_only=True)

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(eq=False, slots=True)
class Literal(Node):
    #: "number", "string", "bool", "none", "duration" (seconds),
    #: "timeofday" (seconds after midnight)
    kind: str
    value: Any


@dataclass(eq=False, slots=True)
class Name(Node):
    name: str


@dataclass(eq=False, slots=True)
class Attribute(Node):
    value: Node
    attr: str

    def children(self) -> tuple[Node, ...]:
        return (self.value,)


@dataclass(eq=False, slots=True)
class Index(Node):
    value: Node
    key: Node

    def children(self) -> tuple[Node, ...]:
        return (self.value, self.key)


@dataclass(eq=False, slots=True)
class Call(Node):
    function: str
    args: list[Node]

    def children(self) -> tuple[Node, ...]:
        return tuple(self.args)


@dataclass(eq=False, slots=True)
class Unary(Node):
    op: str  # "-"
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(eq=False, slots=True)
class Binary(Node):
    op: str  # + - * / %
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(eq=False, slots=True)
class Compare(Node):
    op: str  # == != < <= > >= in "not in" matches
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(eq=False, slots=True)
class BoolOp(Node):
    op: str  # "and" | "or"
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(eq=False, slots=True)
class Not(Node):
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(eq=False, slots=True)
class Conditional(Node):
    test: Node
    then: Node
    otherwise: Node

    def children(self) -> tuple[Node, ...]:
        return (self.test, self.then, self.otherwise)


@dataclass(eq=False, slots=True)
class ListLiteral(Node):
    items: list[Node]

    def children(self) -> tuple[Node, ...]:
        return tuple(self.items)


@dataclass(eq=False, slots=True)
class Comprehension(Node):
    element: Node
    variable: str
    iterable: Node
    condition: Node | None

    def children(self) -> tuple[Node, ...]:
        extra = (self.condition,) if self.condition is not None else ()
        return (self.element, self.iterable, *extra)
