"""Canonical JSON is written by orjson where that gives the very bytes of the standard encoder, and by the
standard encoder everywhere else: fingerprints and audit hashes stored long ago must still match."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.domain.canonical import canonical_json, may_spell_non_finite


def standard(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_leaves = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.floats(min_value=-1e-3, max_value=1e-3),  # where the two write floats differently
                    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("\x00\x1f\x7f\u2028\"\\/")))
_values = st.recursive(_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=20)


@settings(max_examples=600, deadline=None)
@given(_values)
def test_finite_values_come_out_byte_for_byte_as_the_standard_encoder_writes_them(value: Any) -> None:
    assert canonical_json(value, finite=True) == standard(value)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.floats() | _leaves, max_size=5))
def test_without_the_finite_promise_even_nan_comes_out_as_before(value: dict[str, Any]) -> None:
    assert canonical_json(value) == standard(value)


def test_the_cases_orjson_writes_differently_are_left_to_the_standard_encoder() -> None:
    for value in (1e-05, -2.5e-07, {"a": [3e-05]}, 2**64, -2**64):
        assert canonical_json(value, finite=True) == standard(value)
    assert canonical_json(1e-05, finite=True) == b"1e-05"
    # text that is not valid Unicode fails as it always did (the ingest refuses such events before)
    with pytest.raises(UnicodeEncodeError):
        canonical_json({"x": "lone \ud800"}, finite=True)
    assert canonical_json({"lat": 34.052165, "n": None}, finite=True) == b'{"lat":34.052165,"n":null}'


def test_only_text_that_spells_nan_or_infinity_can_decode_to_them() -> None:
    for text in ('{"x": NaN}', '[Infinity]', '[-Infinity]'):
        assert may_spell_non_finite(text)
        assert any(isinstance(v, float) and not math.isfinite(v) for v in _floats(json.loads(text)))
    assert not may_spell_non_finite('{"lat": 34.05, "note": "nan"}')


def _floats(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list):
        return [f for v in value for f in _floats(v)]
    return [value]
