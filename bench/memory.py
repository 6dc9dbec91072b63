"""Working-memory size by a ``sys.getsizeof`` walk.

The walk follows dicts, lists, tuples, sets and the slots / ``__dict__`` of
objects reachable from the network's per-account state, counting each object
once. Objects shared by all accounts are not charged to any: everything
reachable from the compiled ruleset (rules, closures, instruments, calendars),
classes, functions, modules, and the interpreter's shared singletons (None,
booleans, small ints). Cheap and deterministic; it does not see allocator
overhead (pymalloc rounding, dict/set slack is included by getsizeof).
"""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Iterable
from typing import Any

__all__ = ["deep_size", "reachable_ids"]

_OPAQUE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
           types.MethodType, types.CodeType)


def reachable_ids(root: Any) -> set[int]:
    """Ids of everything reachable from ``root`` (by the garbage collector's referents)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, types.ModuleType):
            continue
        seen.add(id(obj))
        stack.extend(gc.get_referents(obj))
    return seen


def _slots(cls: type) -> Iterable[str]:
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        yield from (slots,) if isinstance(slots, str) else slots


def deep_size(roots: Iterable[Any], exclude: set[int]) -> int:
    seen = set(exclude)
    for singleton in (None, True, False, *range(-5, 257)):
        seen.add(id(singleton))
    stack = list(roots)
    total = 0
    while stack:
        obj = stack.pop()
        key = id(obj)
        if key in seen:
            continue
        seen.add(key)
        if isinstance(obj, _OPAQUE):
            continue
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif isinstance(obj, str | bytes | int | float | complex):
            continue
        else:
            for name in _slots(type(obj)):
                value = getattr(obj, name, None)
                if value is not None:
                    stack.append(value)
            instance_dict = getattr(obj, "__dict__", None)
            if instance_dict is not None:
                stack.append(instance_dict)
    return total
