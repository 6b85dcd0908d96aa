"""The JSON shape check that runs before parsing (api/limits.py), against json itself: it must find
exactly the nesting the decoder would recurse into, with strings (and their escapes) not counting."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cityledger.api.limits import json_shape_problem

ANY_LIMIT = 10**9
leaves = st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}",:\\ab\u00e9', max_size=8)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=4), inner, max_size=4)
    ),
    max_leaves=40,
)


def depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=400, deadline=None)
@given(values, st.integers(min_value=0, max_value=8))
def test_depth_is_the_decoders_depth(value, limit):
    body = json.dumps(value).encode()
    refused = json_shape_problem(body, limit, ANY_LIMIT) is not None
    assert refused == (depth(value) > limit), (body, depth(value), limit)


def test_unclosed_brackets_count_and_strings_do_not():
    assert json_shape_problem(b"[" * 33, 32, ANY_LIMIT)  # the decoder recurses before it finds no end
    assert json_shape_problem(json.dumps(["[" * 100, '\\"[[[[' * 50]).encode(), 32, ANY_LIMIT) is None
    assert json_shape_problem(b'{"a": "\\\\"}' + b"]" * 100, 32, ANY_LIMIT) is None


def test_values_are_counted():
    assert json_shape_problem(json.dumps(list(range(1024))).encode(), 32, 1024) is None
    assert json_shape_problem(json.dumps(list(range(1025))).encode(), 32, 1024)
    assert json_shape_problem(json.dumps({"k": "," * 5000}).encode(), 32, 1024) is None  # commas in a string
