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
]


@dataclass(frozen=True, slots=True)
class Position:
    line: int
    column: int


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
