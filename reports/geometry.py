"""Mailing geometry: every position and size that the post office or a barcode standard dictates.

All figures live here, each with its source, so nothing else in `reports` hard-codes a mailing
dimension. Units are PDF points (1/72 inch); rectangles are in ReportLab page coordinates (origin at the
bottom-left corner of the sheet, y upwards) unless a name says "envelope".

Sources named below:
- USPS DMM 601.6.3 (window envelopes, a mailability rule): every character of the delivery address,
  barcode included, must be completely visible through the window throughout the full range of movement
  of the insert, with a clear space of at least 1/8 inch between the address block and the top, bottom,
  left and right edges of the window when the insert is moved to its full limits in each direction
  (also USPS Publication 25 "Designing Letter and Reply Mail", window envelopes; the "tap test" of
  business mail acceptance checks exactly this).
- USPS DMM 708.4.4 and specification USPS-B-3200 (Intelligent Mail barcode 4-State): 65 bars, 20 to 24 bars
  per inch, bar width 0.015-0.025 in, full-bar height 0.125-0.165 in, overall length 2.667-3.225 in;
  clear zone 0.125 in left and right and 0.028 in above and below; inside an address block the IMb sits
  above the recipient name line or below the last line.
- #10 window envelope (ANSI/ASC X9 and the envelope makers' standard "#10 window"): 9 1/2 x 4 1/8 in,
  window 4 1/2 x 1 1/8 in, 7/8 in from the left edge and 1/2 in from the bottom edge. How far a folded
  letter moves in it was measured (issue 15): see `FoldedInsert` for what that means for the fold.
- Double-window #10: the upper (return) window varies by converter; ours is a configurable default
  (3 1/2 x 1 in, 5/8 in from the left, 3/4 in from the top), to be checked against the stock bought.
- DL window envelope (ISO 269, 110 x 220 mm; common UK window 90 x 35 mm, 20 mm from the left and 15 mm
  from the bottom) for A4 letters folded in three (Royal Mail addressing guidance).
- Code 128 (ISO/IEC 15417): X dimension at least 7.5 mil (0.0075 in) for office printers; we use 10 mil,
  quiet zone 10 X on each side.
- QR code (ISO/IEC 18004): quiet zone 4 modules; 0.8 in square keeps modules above 20 mil for a short URL.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

INCH = 72.0
MM = 72.0 / 25.4

LETTER = (8.5 * INCH, 11.0 * INCH)
A4 = (210.0 * MM, 297.0 * MM)

# USPS-B-3200 / DMM 708.4.4 IMb limits (inches).
IMB_MIN_HEIGHT_IN = 0.125
IMB_MAX_HEIGHT_IN = 0.165
IMB_MIN_LENGTH_IN = 2.667
IMB_MAX_LENGTH_IN = 3.225
IMB_CLEAR_ZONE_X_IN = 0.125
IMB_CLEAR_ZONE_Y_IN = 0.028
# ReportLab's USPS_4State sizing knobs: 0 = minimum, 1 = maximum of each range above. A quarter keeps the
# pitch at about 23 bars per inch (2.81 in of bars) and the full bar 0.135 in tall: a #10 window with its
# half-inch sideways play leaves 3.25 in for the block, and every point of height counts (see FoldedInsert).
IMB_WIDTH_SIZE = 0.25
IMB_HEIGHT_SIZE = 0.25

# DMM 601.6.3: clear space between the address block (barcode included) and every window edge, at the
# insert's full limits. The IMb's own clear zones (DMM 708.4.4) are blank space that must show through the
# window too: they lie inside this clearance.
WINDOW_CLEARANCE = 0.125 * INCH
# The upper window shows the agency's return address; no postal rule sets its clearance, 1/16 in keeps
# every letter of it clear of the window's edge at the insert's limits.
RETURN_CLEARANCE = INCH / 16
# Pub. 25: address type of 8 point or more (10-12 point recommended).
ADDRESS_FONT_MAX = 10.0
ADDRESS_FONT_MIN = 8.0
# Baseline to baseline: at least 1.05 em (capitals are 0.73 em: a 0.32 em gap), and more where an accent
# over a capital would come within 0.06 em of the line above's comma or descender.
ADDRESS_LEADING = 1.05
ADDRESS_LINE_GAP = 0.06

# Code 128 (ISO/IEC 15417) and QR (ISO/IEC 18004) sizes as printed.
CODE128_BAR_WIDTH = 0.010 * INCH
CODE128_BAR_HEIGHT = 0.30 * INCH
CODE128_QUIET_ZONE = 10 * CODE128_BAR_WIDTH
QR_SIZE = 0.8 * INCH


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in points."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def top(self) -> float:
        return self.y + self.height

    def inset(self, dx: float, dy: float | None = None) -> Rect:
        dy = dx if dy is None else dy
        return Rect(self.x + dx, self.y + dy, self.width - 2 * dx, self.height - 2 * dy)

    def contains(self, other: Rect, tolerance: float = 1e-6) -> bool:
        return (
            other.x >= self.x - tolerance
            and other.y >= self.y - tolerance
            and other.right <= self.right + tolerance
            and other.top <= self.top + tolerance
        )

    def contains_point(self, x: float, y: float) -> bool:
        return self.x <= x <= self.right and self.y <= y <= self.top

    def translated(self, dx: float, dy: float) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.width, self.height)


    def intersects(self, other: Rect) -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.top and other.y < self.top


class LayoutError(ValueError):
    """A piece cannot be laid out for its envelope (an address too long for the window after wrapping, an
    envelope definition that does not hold together); the message is written for the mail office."""


class AddressDoesNotFit(LayoutError):
    """The recipient block does not fit the address window at the insert's limits, even wrapped."""


@dataclass(frozen=True)
class WindowEnvelope:
    """A window envelope, its windows given in envelope coordinates (origin bottom-left of the face).

    `inner_width`/`inner_height` are how wide and tall an insert may be before it touches the envelope's
    sides and top: measured on the stock, they set how far the folded insert can move (its play).
    """

    name: str
    width: float
    height: float
    address_window: Rect
    return_window: Rect | None
    inner_width: float = 0.0  # 0: the outside width
    inner_height: float = 0.0  # 0: the outside height

    @property
    def inside_width(self) -> float:
        return self.inner_width or self.width

    @property
    def inside_height(self) -> float:
        return self.inner_height or self.height


NO10_DOUBLE_WINDOW = WindowEnvelope(
    name="#10 double window",
    width=9.5 * INCH,
    height=4.125 * INCH,
    # Standard #10 window: 4 1/2 x 1 1/8 in, 7/8 in from the left, 1/2 in from the bottom.
    address_window=Rect(0.875 * INCH, 0.5 * INCH, 4.5 * INCH, 1.125 * INCH),
    # Upper window of our double-window stock: 3 1/2 x 1 in, 5/8 in from the left, 3/4 in from the top.
    return_window=Rect(0.625 * INCH, (4.125 - 0.75 - 1.0) * INCH, 3.5 * INCH, 1.0 * INCH),
    # Measured on the demo office's stock (issue 15): a letter folded in equal thirds (3.667 in) moved up
    # 0.46 in and 0.44-0.5 in either way sideways, i.e. the whole inside of the envelope.
    inner_width=9.5 * INCH,
    inner_height=4.125 * INCH,
)

DL_WINDOW = WindowEnvelope(
    name="DL window",
    width=220 * MM,
    height=110 * MM,
    # Common UK DL window: 90 x 35 mm, 20 mm from the left, 15 mm from the bottom.
    address_window=Rect(20 * MM, 15 * MM, 90 * MM, 35 * MM),
    return_window=None,
    inner_width=220 * MM,
    inner_height=110 * MM,
)


@dataclass(frozen=True)
class FoldedInsert:
    """A sheet folded in three with its top panel facing the envelope's windows, and how far it moves.

    `folds` are the distances of the two fold lines from the top edge of the sheet. The folded insert is
    as tall as its tallest panel; it rests on its upper fold (the bottom of the top panel) and can slide
    up by `play_up` (the envelope's inside height less the folded height) and sideways by `play_x` either
    way from the centre (the inside width less the sheet's width, halved). Every mark of the address
    block must keep `WINDOW_CLEARANCE` from the window's edges at all four extreme positions (DMM
    601.6.3), and nothing else may print anywhere the window can show.

    Why the address panel is taller than a third: a standard #10 window is 1 1/8 in tall. With equal
    thirds the insert moves 0.46 in up, and 1.125 - 0.46 - 2 x 0.125 = 0.415 in is left for the block:
    an IMb (0.18 in with its clear zones) and barely two lines of 8 point type. No layout fixes that; the
    fold does (the USPS and print shops give the same advice: change the fold or buy larger windows).
    Folding the top panel at 3 7/8 in (the middle panel 3 11/16 in, the inside panel 3 7/16 in) leaves
    1/4 in of play, which inserting machines need anyway, and 0.625 in for the block: the IMb and four
    lines of 8 point or three of 9.5 point. A4 in a DL envelope: 104 / 99 / 94 mm leaves 6 mm of play and
    room for six lines. The fold marks print at these folds; set the folding machine to them.
    """

    key: str
    page_width: float
    page_height: float
    envelope: WindowEnvelope
    folds: tuple[float, float]

    @property
    def panel_height(self) -> float:
        """Height of the top (address) panel."""
        return self.folds[0]

    @property
    def folded_height(self) -> float:
        top, lower = self.folds
        return max(top, lower - top, self.page_height - lower)

    @property
    def play_x(self) -> float:
        """How far the insert can slide left or right of its centred position."""
        return max(0.0, (self.envelope.inside_width - self.page_width) / 2.0)

    @property
    def play_up(self) -> float:
        """How far the insert can slide up from resting on its upper fold."""
        return max(0.0, self.envelope.inside_height - self.folded_height)

    @property
    def play_y(self) -> float:
        return self.play_up

    @property
    def fold_ys(self) -> tuple[float, float]:
        """Page y of the two fold lines (upper fold first)."""
        return (self.page_height - self.folds[0], self.page_height - self.folds[1])

    def extreme_positions(self) -> tuple[tuple[float, float], ...]:
        """The insert's four extreme shifts (dx, dy) from its resting position."""
        return tuple((sx, sy) for sx in (-self.play_x, self.play_x) for sy in (0.0, self.play_up))

    def envelope_to_page(self, rect: Rect, shift_x: float = 0.0, shift_y: float = 0.0) -> Rect:
        """Where an envelope-face rectangle falls on the unfolded sheet, the insert shifted by (dx, dy)."""
        dx = -(self.envelope.width - self.page_width) / 2.0 - shift_x
        dy = self.fold_ys[0] - shift_y
        return rect.translated(dx, dy)

    def page_to_envelope(self, rect: Rect, shift_x: float = 0.0, shift_y: float = 0.0) -> Rect:
        """Where a page rectangle of the top panel shows on the envelope face, with the insert shifted."""
        dx = (self.envelope.width - self.page_width) / 2.0 + shift_x
        dy = -self.fold_ys[0] + shift_y
        return rect.translated(dx, dy)

    def address_window_on_page(self) -> Rect:
        """The address window over the sheet in the resting position."""
        return self.envelope_to_page(self.envelope.address_window)

    def return_window_on_page(self) -> Rect | None:
        win = self.envelope.return_window
        return None if win is None else self.envelope_to_page(win)

    def always_visible(self, window: Rect) -> Rect:
        """The part of the sheet a window (envelope coordinates) shows at every position of the insert."""
        nominal = self.envelope_to_page(window)
        return Rect(nominal.x + self.play_x, nominal.y, nominal.width - 2 * self.play_x,
                    nominal.height - self.play_up)

    def ever_visible(self, window: Rect) -> Rect:
        """The part of the sheet a window can show at some position of the insert: keep everything else out."""
        nominal = self.envelope_to_page(window)
        return Rect(nominal.x - self.play_x, nominal.y - self.play_up, nominal.width + 2 * self.play_x,
                    nominal.height + self.play_up)

    def keep_out(self) -> tuple[Rect, ...]:
        """Where nothing but the address block and the return address may print."""
        wins = [self.envelope.address_window] + ([self.envelope.return_window] if self.envelope.return_window else [])
        return tuple(self.ever_visible(w) for w in wins)

    def address_safe_area(self) -> Rect:
        """Where the address block may print: always visible, with the DMM clearance to the window's edges."""
        return self.always_visible(self.envelope.address_window).inset(WINDOW_CLEARANCE)

    def return_safe_area(self) -> Rect | None:
        win = self.envelope.return_window
        if win is None:
            return None
        safe = self.always_visible(win).inset(RETURN_CLEARANCE)
        top_limit = self.page_height - 0.25 * INCH  # a laser printer's unprintable edge
        if safe.top > top_limit:
            safe = Rect(safe.x, safe.y, safe.width, top_limit - safe.y)
        return safe

    def check(self) -> None:
        """LayoutError when the definition cannot hold an address block at all."""
        safe = self.address_safe_area()
        if safe.width < 2.0 * INCH or safe.height < 0.35 * INCH:
            raise LayoutError(
                f"the {self.envelope.name} envelope with this paper and fold leaves {safe.width / INCH:.2f} x "
                f"{safe.height / INCH:.2f} in of its address window visible at every position of the insert "
                f"(it moves {self.play_x / INCH:.2f} in sideways and {self.play_up / INCH:.2f} in up); an address "
                f"needs at least 2 x 0.35 in")
        if not (0 < self.folds[0] < self.folds[1] < self.page_height):
            raise LayoutError("the fold lines must be two distances from the top of the sheet, in order")


US_LETTER_NO10 = FoldedInsert("no10", LETTER[0], LETTER[1], NO10_DOUBLE_WINDOW,
                              folds=(3.875 * INCH, (3.875 + 3.6875) * INCH))
A4_DL = FoldedInsert("dl", A4[0], A4[1], DL_WINDOW, folds=(104 * MM, 203 * MM))

#: The envelopes Curbdesk knows by name (setting `mail.envelope`); an agency defines its own in JSON.
INSERTS: dict[str, FoldedInsert] = {i.key: i for i in (US_LETTER_NO10, A4_DL)}


def imb_size(width_size: float = IMB_WIDTH_SIZE, height_size: float = IMB_HEIGHT_SIZE) -> tuple[float, float]:
    """(bar-field length, full-bar height) in points of the IMb that ReportLab draws at these knobs.

    Mirrors reportlab.graphics.barcode.usps4s: 64 pitches plus one bar width, heights interpolated in
    the USPS-B-3200 ranges.
    """
    pitch = 0.0416 + (0.050 - 0.0416) * width_size
    bar = 0.015 + (0.025 - 0.015) * width_size
    height = IMB_MIN_HEIGHT_IN + (IMB_MAX_HEIGHT_IN - IMB_MIN_HEIGHT_IN) * height_size
    return (64 * pitch + bar) * INCH, height * INCH


@dataclass(frozen=True)
class AddressBlockLayout:
    """Positions of everything in the window address block of one page."""

    block: Rect  # bounding box of the printed block (IMb clear zones included)
    imb: Rect | None  # the IMb with its clear zones (DMM 708.4.4), None when no IMb
    imb_bars: Rect | None  # the bars themselves
    text_x: float
    baselines: tuple[float, ...]  # baseline y of each printed line, top line first
    font_size: float
    leading: float
    lines: tuple[str, ...] = ()  # the printed lines, long ones wrapped


Measure = Callable[[str, float], float]


def line_extent(line: str) -> tuple[float, float]:
    """(ascent, descent) of a printed line as fractions of the font size, measured on DejaVu Sans (the
    bundled font, reports.fonts): capitals and digits 0.73 em, ascenders 0.76 em, one accent over a capital
    (Á, Ñ) 0.93 em, two stacked (Ễ) 1.07 em; descenders and marks below (Ş, Ą) 0.24 em."""
    above = below = 0
    descends = False
    for ch in line:
        if ch.isascii():
            descends = descends or ch in "gjpqyQJ,;()[]{}|_@"
            continue
        marks = unicodedata.normalize("NFD", ch)[1:]
        above = max(above, sum(1 for m in marks if unicodedata.combining(m) == 230))
        below = max(below, sum(1 for m in marks if unicodedata.combining(m) in (202, 220)))
        descends = descends or ch in "ąęįųĄĘĮŲ"
    ascent = (0.76, 0.93, 1.07)[min(above, 2)]
    descent = 0.24 if (descends or below) else 0.02
    return ascent, descent


def baselines_for(lines: Sequence[str], first_baseline: float, size: float) -> tuple[float, ...]:
    """Each line's baseline: ADDRESS_LEADING apart, or further where ink would come closer than the gap."""
    out = [first_baseline]
    for prev, line in zip(lines, lines[1:], strict=False):
        step = max(ADDRESS_LEADING, line_extent(prev)[1] + line_extent(line)[0] + ADDRESS_LINE_GAP) * size
        out.append(out[-1] - step)
    return tuple(out)


def wrap_line(line: str, width: float, size: float, measure: Measure) -> list[str]:
    """`line` broken at spaces (or, for a word longer than the width, inside it) into pieces no wider."""
    if measure(line, size) <= width:
        return [line]  # as given (Pub. 28's two spaces before the ZIP kept)
    words = line.split()
    out: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if measure(candidate, size) <= width:
            current = candidate
            continue
        if current:
            out.append(current)
        while measure(word, size) > width:  # a word wider than the window: cut it where it must
            cut = len(word)
            while cut > 1 and measure(word[:cut], size) > width:
                cut -= 1
            out.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        out.append(current)
    return out or [""]


def address_block_layout(insert: FoldedInsert, lines: Sequence[str] | int, with_imb: bool,
                         measure: Measure | None = None) -> AddressBlockLayout:
    """Lay out an address block (IMb on top when asked) inside the window's safe area.

    Lines wider than the safe area are wrapped (never clipped), at 10 point down to 8 point (Pub. 25);
    when they still do not fit, AddressDoesNotFit says how many lines were needed and how many fit. The
    IMb's bars keep the window clearance to the window's edges, which is blank space wider than its
    clear zones (0.125 in either side, 0.028 in above and below, DMM 708.4.4); the text starts 0.028 in
    below the bars. `lines` may be a line count (placeholder text, for tests of the arithmetic).
    """
    texts = [("X" * 10) for _ in range(lines)] if isinstance(lines, int) else [str(x) for x in lines]
    measure = measure or (lambda text, size: len(text) * size * 0.62)
    safe = insert.address_safe_area()
    bars_w, bars_h = imb_size()
    cz_y = IMB_CLEAR_ZONE_Y_IN * INCH
    imb_h = bars_h + cz_y if with_imb else 0.0
    if with_imb and bars_w > safe.width + 1e-6:
        raise LayoutError(f"the Intelligent Mail barcode ({bars_w / INCH:.2f} in) is wider than the part of the "
                          f"{insert.envelope.name} window that stays visible ({safe.width / INCH:.2f} in)")
    size = ADDRESS_FONT_MAX
    while True:
        leading = size * ADDRESS_LEADING
        wrapped = [piece for line in texts for piece in wrap_line(line, safe.width, size, measure)]
        first_ascent = line_extent(wrapped[0])[0] * size
        last_descent = line_extent(wrapped[-1])[1] * size
        text_h = first_ascent - baselines_for(wrapped, 0.0, size)[-1] + last_descent
        if imb_h + text_h <= safe.height + 1e-6:
            break
        if size - 0.5 < ADDRESS_FONT_MIN - 1e-6:
            fit = int((safe.height - imb_h - first_ascent - last_descent) // leading) + 1
            raise AddressDoesNotFit(
                f"the address needs {len(wrapped)} lines in the address window of the {insert.envelope.name} "
                f"envelope and {max(fit, 0)} fit (at {ADDRESS_FONT_MIN:g} point, with the window's 1/8 in clearance "
                f"at the insert's limits); shorten the name or the address lines")
        size -= 0.5
    top = safe.top
    imb = imb_bars = None
    if with_imb:
        imb_bars = Rect(safe.x, top - bars_h, bars_w, bars_h)
        cz_x = IMB_CLEAR_ZONE_X_IN * INCH
        imb = Rect(imb_bars.x - cz_x, imb_bars.y - cz_y, bars_w + 2 * cz_x, bars_h + 2 * cz_y)
    first_baseline = top - imb_h - first_ascent
    baselines = baselines_for(wrapped, first_baseline, size)
    total_h = imb_h + text_h
    block = Rect(safe.x, top - total_h, safe.width, total_h)
    return AddressBlockLayout(block, imb, imb_bars, safe.x, baselines, size, leading, tuple(wrapped))


@dataclass(frozen=True)
class ReturnBlockLayout:
    """The agency's block in the upper window: each line with its font role, size and baseline."""

    x: float
    lines: tuple[tuple[str, bool, float, float], ...]  # (text, bold, size, baseline)


def return_block_layout(insert: FoldedInsert, name: str, lines: Sequence[str],
                        measure: Callable[[str, float, bool], float], indent: float = 0.0) -> ReturnBlockLayout | None:
    """The return address (name in bold, then `lines`) wrapped into the upper window's safe area, type
    shrunk until it fits; None when the envelope has no upper window. LayoutError when it cannot fit."""
    safe = insert.return_safe_area()
    if safe is None:
        return None
    width = safe.width - indent
    scale = 1.0
    while scale >= 0.7:
        name_size, line_size = 10.5 * scale, 7.8 * scale
        rows: list[tuple[str, bool, float]] = [
            (p, True, name_size) for p in wrap_line(name, width, name_size, lambda t, s: measure(t, s, True))]
        for line in lines:
            if line:
                rows += [(p, False, line_size) for p in wrap_line(line, width, line_size,
                                                                  lambda t, s: measure(t, s, False))]
        y = safe.top - line_extent(rows[0][0])[0] * rows[0][2]
        placed = []
        for k, (text, bold, size) in enumerate(rows):
            if k:
                y -= size * 1.15 if rows[k - 1][1] == bold else rows[k - 1][2] * 0.95 + size * 0.25
            placed.append((text, bold, size, y))
        if y - line_extent(rows[-1][0])[1] * rows[-1][2] >= safe.y - 1e-6:
            return ReturnBlockLayout(safe.x + indent, tuple(placed))
        scale -= 0.05
    raise LayoutError(f"the agency's return address ({len(rows)} lines) does not fit the upper window of the "
                      f"{insert.envelope.name}; shorten agency.name, agency.department or agency.address")


def return_block_origin(insert: FoldedInsert) -> tuple[float, float] | None:
    """Top-left point (x, y) where the return address starts, inside the upper window when there is one."""
    safe = insert.return_safe_area()
    if safe is None:
        return None
    return safe.x, safe.top


# ---------------------------------------------------------------- agency-defined envelopes

_PAPER = {"letter": LETTER, "a4": A4}


def insert_from_spec(spec: str, default: FoldedInsert) -> FoldedInsert:
    """The insert named or described by the `mail.envelope` setting ("" = the profile's own).

    A name from INSERTS ("no10", "dl"), or a JSON object (the setting itself, or the contents of the file
    it names) describing the agency's stock, in inches unless "unit" is "mm"::

        {"name": "Agency #10", "paper": "letter", "unit": "in", "envelope": [9.5, 4.125],
         "inside": [9.5, 4.125], "address_window": [0.875, 0.5, 4.5, 1.125],
         "return_window": [0.625, 2.375, 3.5, 1.0], "folds": [3.875, 7.5625]}

    Windows are [x, y, width, height] from the envelope's bottom-left corner; folds are measured from the
    top of the sheet. LayoutError names what is wrong.
    """
    spec = (spec or "").strip()
    if not spec:
        return default
    if spec in INSERTS:
        return INSERTS[spec]
    return _parse_spec(spec)


@lru_cache(maxsize=8)
def _parse_spec(spec: str) -> FoldedInsert:
    try:
        raw = json.loads(spec)
    except ValueError as exc:
        raise LayoutError(f"mail.envelope is neither {', '.join(INSERTS)} nor a JSON envelope definition "
                          f"({exc})") from None
    if not isinstance(raw, dict):
        raise LayoutError("mail.envelope must be a JSON object")
    unit = MM if str(raw.get("unit", "in")).lower() == "mm" else INCH

    def numbers(key: str, count: int, required: bool = True) -> list[float] | None:
        value = raw.get(key)
        if value is None and not required:
            return None
        if not (isinstance(value, list) and len(value) == count
                and all(isinstance(v, int | float) and v >= 0 for v in value)):
            raise LayoutError(f"mail.envelope: \"{key}\" must be {count} non-negative numbers")
        return [float(v) * unit for v in value]

    paper = raw.get("paper", "letter")
    if isinstance(paper, str):
        if paper.lower() not in _PAPER:
            raise LayoutError(f"mail.envelope: paper must be letter, a4 or [width, height], not {paper!r}")
        page = _PAPER[paper.lower()]
    else:
        w_h = numbers("paper", 2)
        assert w_h is not None
        page = (w_h[0], w_h[1])
    env = numbers("envelope", 2)
    addr = numbers("address_window", 4)
    ret = numbers("return_window", 4, required=False)
    inside = numbers("inside", 2, required=False) or env
    folds = numbers("folds", 2, required=False) or [page[1] / 3, 2 * page[1] / 3]
    assert env is not None and addr is not None and inside is not None
    envelope = WindowEnvelope(str(raw.get("name") or "agency envelope"), env[0], env[1], Rect(*addr),
                              Rect(*ret) if ret else None, inside[0], inside[1])
    insert = FoldedInsert("custom", page[0], page[1], envelope, (folds[0], folds[1]))
    insert.check()
    return insert
