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

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
#: every byte but the brackets and the quote (deleted in one pass by ``bytes.translate``)
_NOISE = bytes(b for b in range(256) if b not in b'[]{}"')
_CLOSERS = bytes.maketrans(b"{}", b"[]")
_STRING = re.compile(rb'"[^"]*+"')


class TooDeeplyNested(ValueError):
    """The JSON text nests arrays and objects deeper than the limit (or its brackets do not pair up)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"it nests arrays and objects more than {limit} levels deep")
        self.limit = limit


def json_depth_ok(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``text`` nests at most ``limit`` levels (strings are skipped, escapes understood).

    Linear in the length, in C-speed passes over the bytes: escapes are removed first, so every quote left
    opens or closes a string; of the rest only quotes and brackets are kept, the strings are dropped, and
    innermost pairs are removed ``limit`` times at most; an opener left unpaired
    (a text cut short) counts as one more level."""
    data = bytes(text) if isinstance(text, bytes | bytearray) else text.encode("utf-8", "surrogatepass")
    if data.count(b"[") + data.count(b"{") <= limit:
        return True  # cannot be deeper than its number of openers (the common case for one event)
    if b"\\" in data:
        data = _ESCAPE.sub(b"", data)  # every quote left now opens or closes a string
    # only quotes and brackets left; two quotes side by side are an empty string, or the end of one and the
    # start of the next with no bracket between (joining the two strings changes nothing): gone at C speed
    marks = data.translate(_CLOSERS, _NOISE).replace(b'""', b"")
    brackets = _STRING.sub(b"", marks)  # the few strings left are those holding brackets
    if b'"' in brackets:
        brackets = brackets[: brackets.index(b'"')]  # a string cut short: the rest is inside it
    passes = 0
    while brackets:
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break  # only unpaired brackets left: a text cut short, or not JSON (the decoder says which)
        passes += 1
        if passes > limit:
            return False
        brackets = shorter
    # each opener left unclosed is one more level the decoder would go down before it fails
    return passes + brackets.count(b"[") <= limit


def check_depth(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`TooDeeplyNested` unless ``text`` nests at most ``limit`` levels."""
    if not json_depth_ok(text, limit):
        raise TooDeeplyNested(limit)
