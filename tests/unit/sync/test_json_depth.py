"""The JSON nesting limit (issue 14, finding 8): measured without recursion, exactly, whatever the strings hold."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.domain.jsonlimits import MAX_JSON_DEPTH, check_depth, json_depth_ok

# strings full of what could fool a scanner: brackets, quotes, backslashes
TRICKY = st.text(alphabet=st.sampled_from(list('[]{}"\\ ,:ab\u00e9\n')), max_size=12)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TRICKY,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TRICKY, inner, max_size=4),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=400, deadline=None)
@given(VALUES, st.integers(min_value=0, max_value=8), st.booleans())
def test_the_measure_is_the_true_depth(value: Any, limit: int, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert json_depth_ok(text, limit) == (depth(value) <= limit)
    assert json_depth_ok(text.encode("utf-8"), limit) == (depth(value) <= limit)


@settings(max_examples=100, deadline=None)
@given(VALUES, st.integers(min_value=1, max_value=60))
def test_a_value_wrapped_deeper_than_the_limit_is_refused(value: Any, extra: int) -> None:
    for _ in range(MAX_JSON_DEPTH + extra):
        value = [value]
    assert not json_depth_ok(json.dumps(value))


@settings(max_examples=200, deadline=None)
@given(VALUES, st.integers(min_value=1, max_value=200))
def test_a_text_cut_short_never_passes_deeper_than_the_limit(value: Any, cut: int) -> None:
    """A page cut off in transit: whatever passes, the decoder goes at most ``limit`` levels down."""
    text = json.dumps([[value]])
    text = text[: max(0, len(text) - cut)]
    if json_depth_ok(text, 6):
        try:
            json.loads(text)
        except ValueError:
            pass  # an ordinary decoding error, never a RecursionError


def test_hostile_nesting_is_refused_quickly() -> None:
    for text in ("[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
        assert not json_depth_ok(text)
    try:
        check_depth("[" * 65 + "]" * 65)
    except ValueError as exc:
        assert "more than 64 levels deep" in str(exc)
    else:
        raise AssertionError("not refused")
    assert json_depth_ok('["' + "[" * 1000 + '"]')  # brackets inside a string are text
    assert json_depth_ok('["\\"' + "[" * 1000 + '"]')  # ...also after an escaped quote
