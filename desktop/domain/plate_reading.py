"""Plates read from evidence photos: what counts as a reading, which of a citation's photos wins, and how
a reading is compared with the typed plate.

The reader (``desktop.services.review.plate_ocr``) hands over the text lines it recognised in each plate
region it found, with the recogniser's confidence (0..1). Here they become at most one reading per photo:

* the text is cut down to the plate alphabet (A-Z, 0-9: spaces, dashes, dots, state slogans' punctuation
  dropped), as ``plates.normalize_plate`` does for typed plates;
* a line is a plate only if it has 2 to 8 characters, holds a digit (an all-letter line on a plate is a
  state name, a slogan or a sign; all-letter vanity plates are therefore never read, which only means
  "not readable", never a false warning) and is not a placeholder;
* a camera's date or time stamp (``2026-11-19``, ``20261119``, ``14:05``) is never a plate;
* a line read inside a longer one from an overlapping region is part of it, not a reading of its own;
* two different plates read with confidence in one photo give no reading ("two plates in the photo"):
  the reader cannot know which car was cited.

Compared with the typed plate with the look-alike rules used for search (``plates.plate_search_key``:
O/0, I/1, B/8, S/5, Z/2): the same plate, a look-alike of it (no warning: the photo cannot tell an O
from a 0 better than the officer), or a different plate (the "Plate photo" warning, when the reading's
confidence reaches the agency's threshold, it is a plate format of the state, and it is not just the typed
plate with characters missing, which a dirty or cut-off plate reads as).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from desktop.domain import plates

READER_VERSION = "plates-3"
"""Bumped when region finding or the choice of line changes: readings of an older version are read again."""

_NOT_ALPHABET = re.compile(r"[^A-Z0-9]")
_DIGIT = re.compile(r"\d")
#: A camera's date or time overlay: 2026-11-19, 19/11/2026, 20261119, 14:05 (never a plate).
_STAMP = re.compile(r"(?:19|20)\d\d[-./]?[01]\d[-./]?[0-3]\d|[0-3]?\d[-./][01]?\d[-./](?:19|20)?\d\d|\d:\d\d"
                    # a piece of one (a stamp's outline may be cut by the sky behind it): 2026-11, 11-19 14
                    r"|^(?:19|20)\d\d[-./][01]?\d?$|^\d{1,2}[-./]\d{1,2}(?:\s+\d{1,2})?$")

#: Readings below this confidence are shown but never stored as the photo's plate.
MIN_READ_CONFIDENCE = 0.60
#: A second plate in the same photo counts only when read at least this well.
SECOND_PLATE_CONFIDENCE = 0.85


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
"""The plate alphabet: the only characters the recogniser may read on a plate."""
_LETTERS = 26

#: Plate formats used only to choose between a letter and a digit the recogniser found equally plausible,
#: for plates ``desktop.domain.plates`` has no formats of: Great Britain, current format since September 2001
#: (DVLA, "Vehicle registration numbers and number plates", INF104: two letters, two digits, three letters).
READING_FORMATS: dict[str, tuple[re.Pattern[str], ...]] = {
    "GB": (re.compile(r"^[A-Z]{2}\d{2}[A-Z]{3}$"),),
}
#: An alternative (a digit for a letter or back) is tried only where the recogniser gave it this much.
_ALTERNATIVE_FLOOR = 0.0005
_MAX_AMBIGUOUS = 8


@dataclass(frozen=True)
class CharChoice:
    """One character the recogniser read: the best overall, and the best letter and best digit with their
    probabilities (so a plate format can pick the digit 0 where an O was read in a digits-only place)."""

    char: str
    p: float
    letter: str
    p_letter: float
    digit: str
    p_digit: float

    @classmethod
    def of(cls, probs: Sequence[float]) -> CharChoice:
        """From the probabilities of the 36 characters of ``ALPHABET`` at one step."""
        values = [float(v) for v in probs]
        li = max(range(_LETTERS), key=values.__getitem__)
        di = max(range(_LETTERS, len(ALPHABET)), key=values.__getitem__)
        best = li if values[li] >= values[di] else di
        return cls(ALPHABET[best], values[best], ALPHABET[li], values[li], ALPHABET[di], values[di])


def _formats(jurisdiction: str | None) -> tuple[re.Pattern[str], ...]:
    key = (jurisdiction or "").strip().upper()
    return READING_FORMATS.get(key) or plates.compiled_formats(key)


def best_for_formats(chars: Sequence[CharChoice], jurisdiction: str | None) -> tuple[str, float]:
    """The text and confidence (mean character probability, as the recogniser reports it) of a decoded line:
    as read, unless it matches no plate format of ``jurisdiction`` and swapping look-alike letters and digits
    where the recogniser also saw the other kind makes it match one (the most probable such swap wins)."""
    text = "".join(c.char for c in chars)
    if not chars:
        return "", 0.0
    mean = sum(c.p for c in chars) / len(chars)
    formats = _formats(jurisdiction)
    if not formats or any(f.match(text) for f in formats):
        return text, mean
    ambiguous = [i for i, c in enumerate(chars)
                 if (c.p_digit if c.char.isalpha() else c.p_letter) >= _ALTERNATIVE_FLOOR][:_MAX_AMBIGUOUS]
    best: tuple[float, str, float] | None = None
    for mask in range(1, 1 << len(ambiguous)):
        probs = [c.p for c in chars]
        swapped = [text[i] for i in range(len(chars))]
        for bit, i in enumerate(ambiguous):
            if mask >> bit & 1:
                c = chars[i]
                swapped[i], probs[i] = (c.digit, c.p_digit) if c.char.isalpha() else (c.letter, c.p_letter)
        candidate = "".join(swapped)
        if not any(f.match(candidate) for f in formats):
            continue
        score = sum(math.log(max(p, 1e-9)) for p in probs)
        if best is None or score > best[0]:
            best = (score, candidate, sum(probs) / len(probs))
    if best is None:
        return text, mean
    return best[1], best[2]


def with_separators(raw: str, text: str) -> str:
    """The line as read, its plate characters (``\\x00`` in ``raw``) replaced in order by ``text``'s."""
    chars = iter(text)
    return "".join(next(chars, "") if ch == "\x00" else ch for ch in raw)


class ReadStatus(StrEnum):
    READ = "read"
    NOT_READABLE = "not_readable"
    """No plate found, two plates, a plate too small or too blurred: no reading, never a warning."""
    SKIPPED = "skipped"
    """The photo could not be read at all (missing, corrupt, failed its integrity check): the reason says why."""


class Agreement(StrEnum):
    SAME = "same"
    LOOKALIKE = "lookalike"
    DIFFERS = "differs"


@dataclass(frozen=True)
class TextLine:
    """One recognised line in a plate region: raw text, confidence 0..1, and the region (x0, y0, x1, y1)."""

    text: str
    confidence: float
    box: tuple[int, int, int, int]
    height_px: int = 0


@dataclass(frozen=True)
class PhotoReading:
    status: ReadStatus
    plate: str | None = None
    confidence: float | None = None
    box: tuple[int, int, int, int] | None = None
    reason: str = ""


def clean(raw: str) -> str:
    """The recognised text in the plate alphabet: upper case, letters and digits only."""
    return _NOT_ALPHABET.sub("", plates.normalize_plate(raw).upper())


def looks_like_plate(text: str) -> bool:
    """2-8 plate characters with at least one digit, not a placeholder."""
    return 2 <= len(text) <= 8 and bool(_DIGIT.search(text)) and text not in plates.NOT_A_PLATE


def choose(lines: Iterable[TextLine], *, min_height_px: int = 10) -> PhotoReading:
    """One photo's reading from the lines recognised in its plate regions (best first by confidence)."""
    candidates: list[tuple[str, TextLine]] = []
    too_small = False
    blurred = False
    for line in lines:
        text = clean(line.text)
        if not looks_like_plate(text) or _STAMP.search(line.text.upper()):
            continue
        if line.height_px and line.height_px < min_height_px:
            too_small = True
            continue
        if line.confidence < MIN_READ_CONFIDENCE:
            blurred = True
            continue
        candidates.append((text, line))
    if not candidates:
        if too_small:
            return PhotoReading(ReadStatus.NOT_READABLE, reason="the plate is too small to read")
        if blurred:
            return PhotoReading(ReadStatus.NOT_READABLE, reason="the plate is too blurred to read")
        return PhotoReading(ReadStatus.NOT_READABLE, reason="no plate found in the photo")
    # a region cut inside the plate reads part of it ("204" of "4SMX204"), often more confidently: the
    # whole line wins over any part of it read from an overlapping region
    candidates = [(text, line) for text, line in candidates
                  if not any(text != other and text in other and _overlap(line.box, o.box)
                             for other, o in candidates)]
    candidates.sort(key=lambda pair: -pair[1].confidence)
    best_text, best = candidates[0]
    for text, line in candidates[1:]:
        if (plates.plate_search_key(text) != plates.plate_search_key(best_text)
                and line.confidence >= SECOND_PLATE_CONFIDENCE and not _overlap(line.box, best.box)
                and len(text) >= 5 and len(best_text) >= 5):
            return PhotoReading(ReadStatus.NOT_READABLE,
                                reason=f"two plates in the photo ({best_text} and {text})")
    return PhotoReading(ReadStatus.READ, best_text, round(best.confidence, 4), best.box)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def is_part_of(read: str, typed: str) -> bool:
    """The reading is the typed plate with characters left out (a dirty or cut-off character, not a typing
    slip the photo proves): "NUP25" of "NXUP25"."""
    if len(read) >= len(typed):
        return False
    rest = iter(typed)
    return all(ch in rest for ch in read)


def percent(confidence: float | None) -> str:
    """A confidence as a clerk reads it: rounded down, so 0.995 is "99%" (never a certain-looking "100%")."""
    return f"{math.floor((confidence or 0.0) * 100)}%"


def agreement(typed: str, read: str) -> Agreement:
    """The typed plate against the photo's, with the look-alike characters of plate search folded."""
    t, r = plates.normalize_plate(typed), plates.normalize_plate(read)
    if t == r:
        return Agreement.SAME
    if plates.plate_search_key(t) == plates.plate_search_key(r):
        return Agreement.LOOKALIKE
    return Agreement.DIFFERS


@dataclass(frozen=True)
class StoredReading:
    """A photo's stored reading, as the review check and the screens see it."""

    photo_digest: str
    position: int
    status: str
    plate: str | None
    confidence: float | None
    box: tuple[int, int, int, int] | None
    reason: str
    engine: str


def best_reading(readings: Sequence[StoredReading]) -> StoredReading | None:
    """A citation's reading: its photos' readings with a plate, most confident first; else the first
    photo's reason (so "not readable: …" is shown); None when no photo has been read."""
    read = [r for r in readings if r.status == ReadStatus.READ.value and r.plate]
    if read:
        return max(read, key=lambda r: (r.confidence or 0.0, -r.position))
    return min(readings, key=lambda r: r.position) if readings else None


__all__ = ["ALPHABET", "CharChoice", "best_for_formats", "READING_FORMATS", "is_part_of", "percent", "READER_VERSION", "ReadStatus", "Agreement", "TextLine", "PhotoReading", "StoredReading", "clean",
           "looks_like_plate", "choose", "agreement", "best_reading"]
