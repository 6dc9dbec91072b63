"""A line is read by orjson where it reads as the standard json module does, and by json
where it would not (NaN, 1e400, an integer past 64 bits, a lone surrogate): the values,
and the errors, are json's either way."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from riskrail.engine.events import _loads

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                    st.integers(-(2**70), 2**70), st.text(),
                    st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**30, 1e300, -0.0]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=20)


def same(a: Any, b: Any) -> bool:
    """Equal, type for type (1 is not 1.0), NaN equal to NaN, -0.0 not 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a)
                                                     == math.copysign(1, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


@settings(max_examples=300, deadline=None)
@given(values)
@example({"size": 10**30, "id": 2**64})
@example(["\ud800", float("nan"), float("inf")])
def test_read_as_json_reads(value: Any) -> None:
    text = json.dumps(value)
    assert same(_loads(text), json.loads(text))


def test_json_errors_are_json_s() -> None:
    for text in ('{"a": 1', "[1,]", '{"a": ' * 3000 + "1" + "}" * 3000, "9" * 5000):
        try:
            json.loads(text)
        except (ValueError, RecursionError) as expected:
            error: type[BaseException] = type(expected)
        else:
            raise AssertionError(text)
        try:
            _loads(text)
        except (ValueError, RecursionError) as raised:
            assert type(raised) is error
        else:
            raise AssertionError(text)
