"""A nesting limit for JSON, checked before the standard decoder's recursion can run away.

``json.loads`` recurses once per nested array or object: a few hundred thousand ``[`` make it raise
``RecursionError`` (and whatever walks the result afterwards can fail the same way). :func:`check_depth`
measures the nesting without recursion, in a few passes of C-speed string operations, so a file or an
answer nested too deeply is refused with one sentence before it is decoded.
"""

from __future__ import annotations

import re

#: deeper than anything Curbdesk reads (a sync page is about 6 levels, a GeoJSON zone file about 8)
MAX_JSON_DEPTH = 64

_ESCAPE = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*+"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_CLOSERS = str.maketrans("{}", "[]")


class TooDeeplyNested(ValueError):
    """The JSON text nests arrays and objects deeper than the limit (or its brackets do not pair up)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"it nests arrays and objects more than {limit} levels deep")
        self.limit = limit


def json_depth_ok(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``text`` nests at most ``limit`` levels (strings are skipped, escapes understood).

    Linear in the length: escapes are removed first, so every quote left opens or closes a string; the
    strings are removed; of the rest only the brackets are kept, and innermost pairs are removed ``limit``
    times at most; an opener left unpaired (a text cut short) counts as one more level."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "replace")
    if text.count("[") + text.count("{") <= limit:
        return True  # cannot be deeper than its number of openers (the common case for one event)
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text))).translate(_CLOSERS)
    passes = 0
    while brackets:
        shorter = brackets.replace("[]", "")
        if len(shorter) == len(brackets):
            break  # only unpaired brackets left: a text cut short, or not JSON (the decoder says which)
        passes += 1
        if passes > limit:
            return False
        brackets = shorter
    # each opener left unclosed is one more level the decoder would go down before it fails
    return passes + brackets.count("[") <= limit


def check_depth(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`TooDeeplyNested` unless ``text`` nests at most ``limit`` levels."""
    if not json_depth_ok(text, limit):
        raise TooDeeplyNested(limit)
