"""Licence plates: normalisation, known formats per state, and look-alike characters.

Plate formats are a plausibility check, never a reason to refuse a citation:
vanity (personalised) plates, dealer, disabled, historic and out-of-series
plates exist in every state. A plate that matches none of its state's known
patterns is therefore a review WARNING. ``plate_format_ok`` returns ``None``
when we know no formats for the state at all.

The patterns were checked against the real plates in the NYC DOF and Baltimore
citation extracts (``/work/shared/data/citations``): standard passenger series
first, then commercial, taxi/for-hire and older series seen there.

Look-alikes: officers and plate readers confuse O/0, I/1, B/8, S/5 and Z/2.
``plate_search_key`` folds each pair to one character so an indexed column
finds "one character off" records; ``confusable_variants`` lists the exact
alternatives when a caller needs them spelled out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_SEPARATORS = re.compile(r"[\s\-\u00a0\u2010-\u2015.·•]+")
_FLOAT_ARTIFACT = re.compile(r"^(?P<plate>.+?)\.0+$")
_VALID_CHARS = re.compile(r"^[A-Z0-9]{1,8}$")
_NORMAL = re.compile(r"[A-Z0-9]+")

NOT_A_PLATE = frozenset({"BLANKPLATE", "NOPLATE", "NONE", "UNKNOWN", "NA", "N/A", "XXXXXX", "PAPER", "TEMP"})
"""Placeholders written where the plate was missing; they never match a format."""


def normalize_plate(raw: str) -> str:
    """Upper case, without spaces, dashes or dots; undoes the ``"LRD 7808.00"`` spreadsheet float artefact."""
    if _NORMAL.fullmatch(raw):  # already upper-case letters and digits only: nothing to change
        return raw
    text = raw.strip().upper()
    match = _FLOAT_ARTIFACT.match(text)
    if match and any(c.isalpha() for c in match.group("plate")):
        text = match.group("plate")
    return _SEPARATORS.sub("", text)


def _compile(patterns: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[re.Pattern[str], ...]]:
    return {state: tuple(re.compile(rf"^(?:{p})$") for p in pats) for state, pats in patterns.items()}


_L = "[A-Z]"
_D = r"\d"

PLATE_PATTERNS: dict[str, tuple[str, ...]] = {
    # California: 1ABC234 passenger (since 1980), 1AB2345 / 12A3456 commercial and trucks, 1A23456 trailers.
    "CA": (rf"{_D}{_L}{{3}}{_D}{{3}}", rf"{_D}{_L}{{2}}{_D}{{4}}", rf"{_D}{{2}}{_L}{_D}{{4}}",
           rf"{_D}{_L}{_D}{{5}}", rf"{_L}{{3}}{_D}{{3}}", rf"{_D}{{3}}{_L}{{3}}"),
    # New York: ABC1234 passenger, 12345AB commercial, T123456C TLC for-hire, 1A23(B) medallion taxi.
    "NY": (rf"{_L}{{3}}{_D}{{4}}", rf"{_D}{{5}}{_L}{{2}}", rf"{_L}{_D}{{6}}{_L}", rf"{_D}{_L}{_D}{{2}}{_L}?",
           rf"{_L}{{3}}{_D}{{3}}", rf"{_D}{{3}}{_L}{{3}}", rf"{_D}{{2}}{_L}{{2}}{_D}{{2}}", rf"{_L}{_D}{{3}}{_L}{{2}}",
           rf"{_D}{{5,6}}", rf"{_D}{{3}}{_L}{{2}}{_D}?", rf"{_L}{{2}}{_D}{{5}}"),
    # New Jersey: A12BCD passenger, ABC12D, AB123C, ABCD12 older and commercial series.
    "NJ": (rf"{_L}{_D}{{2}}{_L}{{3}}", rf"{_L}{{3}}{_D}{{2}}{_L}", rf"{_L}{{2}}{_D}{{3}}{_L}", rf"{_L}{{4}}{_D}{{2}}",
           rf"{_L}{{2}}{_D}{{4}}{_L}", rf"{_L}{{3}}{_D}{{3}}", rf"{_D}{{3}}{_L}{{3}}", rf"{_L}{{2}}{_D}{{4}}",
           rf"{_L}{_D}{{2}}{_L}{_D}{_L}", rf"{_L}{_D}{{4}}{_L}", rf"{_D}{{6}}{_L}", rf"{_L}{_D}{{6}}"),
    # Texas: ABC1234 (2009-), AB1C234 (2017 format), 1AB C23 older, A12BCD.
    "TX": (rf"{_L}{{3}}{_D}{{4}}", rf"{_L}{{2}}{_D}{_L}{_D}{{3}}", rf"{_L}{_D}{{2}}{_L}{{3}}", rf"{_L}{{3}}{_D}{{3}}",
           rf"{_D}{_L}{{3}}{_D}{{2}}", rf"{_L}{_D}{{3}}{_L}{{2}}", rf"{_D}{{6}}{_L}"),
    # Florida: ABCD12, 123ABC, A123BC, 12ABCD, AB123C, 1234AB.
    "FL": (rf"{_L}{{4}}{_D}{{2}}", rf"{_D}{{3}}{_L}{{3}}", rf"{_L}{_D}{{3}}{_L}{{2}}", rf"{_D}{{2}}{_L}{{4}}",
           rf"{_L}{{2}}{_D}{{3}}{_L}", rf"{_D}{{4}}{_L}{{2}}", rf"{_L}{_D}{{4}}{_L}", rf"{_L}{{3}}{_L}?{_D}{{2}}{_D}?", rf"{_L}{{2}}{_D}{{2}}{_L}{{2}}"),
    # Washington: ABC1234 (2011-), 123ABC older, A12345B commercial.
    "WA": (rf"{_L}{{3}}{_D}{{4}}", rf"{_D}{{3}}{_L}{{3}}", rf"{_L}{_D}{{5}}{_L}", rf"{_D}{{5}}{_L}{_D}?"),
    # Oregon: 123ABC, ABC123, 123ABCD? (newer 3 letters + 3 digits).
    "OR": (rf"{_D}{{3}}{_L}{{3}}", rf"{_L}{{3}}{_D}{{3}}", rf"{_D}{{3}}{_L}{{4}}", rf"{_L}{{2}}{_D}{{5}}", rf"{_D}{{5}}"),
    # Arizona: ABC1234 (2008-), ABC123 older.
    "AZ": (rf"{_L}{{3}}{_D}{{4}}", rf"{_L}{{3}}{_D}{{3}}", rf"{_D}{{3}}{_L}{{3}}", rf"{_L}{_D}{{5}}"),
    # Nevada: 123A45, 12A345, 123ABC, ABC123.
    "NV": (rf"{_D}{{3}}{_L}{_D}{{2}}", rf"{_D}{{2}}{_L}{_D}{{3}}", rf"{_D}{{3}}{_L}{{3}}", rf"{_L}{{3}}{_D}{{3}}",
           rf"{_D}{_L}{{2}}{_D}{{3}}"),
    # Illinois: AB 12345 passenger, A12 3456, 1234567 older, 123456 B trucks.
    "IL": (rf"{_L}{{2}}{_D}{{5}}", rf"{_L}{_D}{{6}}", rf"{_D}{{5,7}}", rf"{_D}{{6}}{_L}", rf"{_L}{{3}}{_D}{{3,4}}", rf"{_D}{{4,5}}{_L}{{1,2}}"),
    # Maryland: 1AB2345 passenger, 1ABC23, 12345A6 / 12345AB trucks, 123A456, ABC123, A123456 older and specials.
    "MD": (rf"{_D}{_L}{{2}}{_D}{{4}}", rf"{_D}{_L}{{3}}{_D}{{2}}", rf"{_D}{{5}}{_L}{_D}", rf"{_D}{{5}}{_L}{{1,2}}",
           rf"{_D}{{3}}{_L}{_D}{{3}}", rf"{_L}{{3}}{_D}{{3,4}}", rf"{_L}{_D}{{6}}", rf"{_D}{{2}}{_L}{_D}{{3}}",
           rf"{_L}{{2}}{_D}{{4,5}}", rf"{_D}{{2}}{_L}{_D}{_L}{{2}}", rf"{_D}{{3}}{_L}{{2}}{_D}{{2}}"),
    # Pennsylvania: ABC1234 passenger, AB12345 / AB1234C commercial and trucks.
    "PA": (rf"{_L}{{3}}{_D}{{4}}", rf"{_L}{{2}}{_D}{{4}}{_L}", rf"{_L}{{2}}{_D}{{5}}", rf"{_L}{_D}{{5}}{_L}",
           rf"{_L}{{3}}{_D}{{3}}{_L}", rf"{_D}{_L}{{2}}{_D}{{4}}"),
    # Virginia: ABC1234 passenger, 1234AB, ABC123 older.
    "VA": (rf"{_L}{{3}}{_D}{{4}}", rf"{_D}{{4}}{_L}{{2}}", rf"{_L}{{3}}{_D}{{3}}", rf"{_D}{{3}}{_L}{{3}}",
           rf"{_L}{{2}}{_D}{{4}}", rf"{_D}{_L}{{2}}{_D}{{3}}"),
    # Massachusetts: 1ABC23, 123AB4, 1AB234, 12AB34 and older 123ABC.
    "MA": (rf"{_D}{_L}{{3}}{_D}{{2}}", rf"{_D}{{3}}{_L}{{2}}{_D}", rf"{_D}{_L}{{2}}{_D}{{3}}", rf"{_D}{{2}}{_L}{{2}}{_D}{{2}}",
           rf"{_D}{{3}}{_L}{{3}}", rf"{_D}{{4}}{_L}{{2}}", rf"{_L}{_D}{{5}}", rf"{_L}{{3}}{_D}{{3}}",
           rf"{_D}{_L}{{2}}{_D}{{4}}"),
}

_COMPILED = _compile(PLATE_PATTERNS)
_FALLBACK = re.compile(r"^(?=.*\d|.{2,})[A-Z0-9]{2,8}$")


def compiled_formats(jurisdiction: str) -> tuple[re.Pattern[str], ...]:
    """The state's plate formats (``^…$`` patterns); empty when none are known."""
    return _COMPILED.get(jurisdiction.strip().upper(), ())


def known_jurisdictions() -> frozenset[str]:
    return frozenset(_COMPILED)


def plate_is_plausible(plate: str) -> bool:
    """The permissive fallback for any state: 1-8 letters/digits (vanity plates included), not a placeholder."""
    p = normalize_plate(plate)
    return bool(_VALID_CHARS.match(p)) and p not in NOT_A_PLATE


def plate_format_ok(plate: str, jurisdiction: str) -> bool | None:
    """True if the plate matches a known format of the state, False if not, None if we know no formats.

    A False is a warning for review, not an error: vanity plates exist.
    """
    patterns = _COMPILED.get(jurisdiction.strip().upper())
    if patterns is None:
        return None
    p = normalize_plate(plate)
    if p in NOT_A_PLATE or not _VALID_CHARS.match(p):
        return False
    return any(rx.match(p) for rx in patterns)


CONFUSABLE_PAIRS: tuple[tuple[str, str], ...] = (("O", "0"), ("I", "1"), ("B", "8"), ("S", "5"), ("Z", "2"))
_PARTNER: dict[str, str] = {a: b for a, b in CONFUSABLE_PAIRS} | {b: a for a, b in CONFUSABLE_PAIRS}
_SEARCH_FOLD = str.maketrans({a: b for a, b in CONFUSABLE_PAIRS})


def plate_search_key(plate: str) -> str:
    """Normalised plate with each look-alike folded to one character (O->0, I->1, B->8, S->5, Z->2).

    Two plates one look-alike apart get the same key, so an index on it finds them.
    """
    return normalize_plate(plate).translate(_SEARCH_FOLD)


def confusable_variants(plate: str, limit: int = 16) -> list[str]:
    """The plates one look-alike character away from ``plate`` (normalised), at most ``limit`` of them."""
    p = normalize_plate(plate)
    out: list[str] = []
    for index, char in enumerate(p):
        partner = _PARTNER.get(char)
        if partner is None:
            continue
        out.append(p[:index] + partner + p[index + 1 :])
        if len(out) >= limit:
            break
    return out
