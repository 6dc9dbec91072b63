"""The types of the condition language.

At run time numbers, durations (seconds), instants (POSIX seconds) and times of
day (seconds after midnight) are all Python floats; the types exist so that a
risk officer who compares a duration with a dollar amount hears about it at
validation time, with a position, instead of at 09:31 on a trading day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "ANY",
    "BOOL",
    "DATE",
    "DURATION",
    "INSTANT",
    "NONE",
    "NUMBER",
    "SESSION",
    "STRING",
    "TIMEOFDAY",
    "ListType",
    "MapType",
    "RecordType",
    "Type",
    "compatible",
    "unify",
]


@dataclass(frozen=True, slots=True)
class Type:
    name: str

    def __str__(self) -> str:
        return self.name


NUMBER = Type("number")
STRING = Type("string")
BOOL = Type("bool")
DURATION = Type("duration")
TIMEOFDAY = Type("time of day")
INSTANT = Type("time")
DATE = Type("date")
NONE = Type("none")
ANY = Type("any")
SESSION = Type("session")


@dataclass(frozen=True, slots=True)
class ListType(Type):
    item: Type = ANY

    def __str__(self) -> str:
        return f"list of {self.item}"


@dataclass(frozen=True, slots=True)
class MapType(Type):
    """A YAML mapping: known keys with their types, and the type of any value."""

    fields: Mapping[str, Type] = field(default_factory=dict)
    value: Type = ANY

    def __str__(self) -> str:
        return "map" if self.value in (ANY, NONE) else f"map of {self.value}"

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.fields)), self.value))


@dataclass(frozen=True, slots=True)
class RecordType(Type):
    """A fact of the working memory (account, position, ...); fields live in the vocabulary."""

    def __str__(self) -> str:
        return self.name


def compatible(a: Type, b: Type) -> bool:
    """Can a value of type ``a`` stand where ``b`` is expected (and vice versa)?"""
    if a == b or ANY in (a, b) or NONE in (a, b):
        return True
    if isinstance(a, ListType) and isinstance(b, ListType):
        return compatible(a.item, b.item)
    if isinstance(a, MapType) and isinstance(b, MapType):
        return compatible(a.value, b.value)
    return False


def unify(types: list[Type]) -> Type:
    """The common type of list items or map values (ANY when they disagree)."""
    concrete = [t for t in types if t != NONE]
    if not concrete:
        return NONE
    first = concrete[0]
    if all(t == first for t in concrete):
        return first
    if all(isinstance(t, MapType) for t in concrete):
        merged: dict[str, Type] = {}
        for t in concrete:
            assert isinstance(t, MapType)
            for key, value in t.fields.items():
                merged[key] = value if key not in merged else unify([merged[key], value])
        return MapType("map", merged, unify([t.value for t in concrete if isinstance(t, MapType)]))
    if all(isinstance(t, ListType) for t in concrete):
        return ListType("list", unify([t.item for t in concrete if isinstance(t, ListType)]))
    return ANY
