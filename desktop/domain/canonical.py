"""Canonical JSON: the text that fingerprints, signatures and the audit chain hash.

Canonical means ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``, byte for
byte: hashes already stored were made that way and must come out the same forever. orjson writes that very
text several times faster, except in cases told apart here, which the standard encoder writes instead:

* a float smaller than 1e-4 (other than zero): Python writes ``1e-05``, orjson ``0.00001`` or ``1e-7``.
  Either form shows in orjson's text as ``e-`` or ``0.0000``; where they show (perhaps only inside a
  string: a false alarm costs just the slower path) the standard encoder writes the value;
* NaN and the infinities: Python writes ``NaN`` and ``Infinity``, orjson ``null``. Only the caller can
  say that a value has none (``finite``): a value decoded from JSON text holds them only where the text
  spells ``NaN`` or ``Infinity``;
* integers wider than 64 bits and text that is not valid Unicode: orjson refuses them.

Values must be what ``json.loads`` gives (dicts with text keys, lists, text, numbers, booleans, None);
other types (datetimes, enums, dataclasses) are encoded differently by the two and must not be given.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_STANDARD = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_SORTED = orjson.OPT_SORT_KEYS


def canonical_json(value: Any, *, finite: bool = False) -> bytes:
    """The canonical JSON of ``value``, UTF-8. ``finite``: the caller knows it holds no NaN or infinity."""
    if finite:
        try:
            text = orjson.dumps(value, option=_SORTED)
        except TypeError:  # orjson.JSONEncodeError: too wide an integer, a lone surrogate, ...
            pass
        else:
            if b"e-" not in text and b"0.0000" not in text:  # no float below 1e-4 (or a false alarm)
                return text
    return _STANDARD.encode(value).encode("utf-8")


def may_spell_non_finite(text: str) -> bool:
    """Whether JSON text could decode to a NaN or an infinity (Python's decoder reads those words)."""
    return "NaN" in text or "Infinity" in text
