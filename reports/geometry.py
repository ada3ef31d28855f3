"""Mailing geometry: every position and size that the post office or a barcode standard dictates.

All figures live here, each with its source, so nothing else in `reports` hard-codes a mailing
dimension. Units are PDF points (1/72 inch); rectangles are in ReportLab page coordinates (origin at the
bottom-left corner of the sheet, y upwards) unless a name says "envelope".

Sources named below:
- USPS DMM 202.5 (window envelopes): the whole address, barcode included, must show through the window
  with clear space to the window edges; we keep 1/8 inch on every side (DMM 202.5.x and USPS Publication 25
  "Designing Letter and Reply Mail", window-envelope clearances).
- USPS DMM 708.4.4 and specification USPS-B-3200 (Intelligent Mail barcode 4-State): 65 bars, 20 to 24 bars
  per inch, bar width 0.015-0.025 in, full-bar height 0.125-0.165 in, overall length 2.667-3.225 in;
  clear zone 0.125 in left and right and 0.028 in above and below; inside an address block the IMb sits
  above the recipient name line or below the last line.
- #10 window envelope (ANSI/ASC X9 and the envelope makers' standard "#10 window"): 9 1/2 x 4 1/8 in,
  window 4 1/2 x 1 1/8 in, 7/8 in from the left edge and 1/2 in from the bottom edge.
- Double-window #10: the upper (return) window varies by converter; ours is a configurable default
  (3 1/2 x 1 in, 5/8 in from the left, 3/4 in from the top), to be checked against the stock bought.
- DL window envelope (ISO 269, 110 x 220 mm; common UK window 90 x 35 mm, 20 mm from the left and 15 mm
  from the bottom) for A4 letters folded in three (Royal Mail addressing guidance).
- Code 128 (ISO/IEC 15417): X dimension at least 7.5 mil (0.0075 in) for office printers; we use 10 mil,
  quiet zone 10 X on each side.
- QR code (ISO/IEC 18004): quiet zone 4 modules; 0.8 in square keeps modules above 20 mil for a short URL.
"""

from __future__ import annotations

from dataclasses import dataclass

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
# ReportLab's USPS_4State sizing knobs: 0 = minimum, 1 = maximum of each range above. Mid width keeps the
# pitch at about 22 bars per inch; mid height (about 0.145 in) tolerates printers that bleed.
IMB_WIDTH_SIZE = 0.5
IMB_HEIGHT_SIZE = 0.5

# DMM 202.5: clear space between the address block (barcode included) and every window edge.
WINDOW_CLEARANCE = 0.125 * INCH

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


@dataclass(frozen=True)
class WindowEnvelope:
    """A window envelope, its windows given in envelope coordinates (origin bottom-left of the face)."""

    name: str
    width: float
    height: float
    address_window: Rect
    return_window: Rect | None


NO10_DOUBLE_WINDOW = WindowEnvelope(
    name="#10 double window",
    width=9.5 * INCH,
    height=4.125 * INCH,
    # Standard #10 window: 4 1/2 x 1 1/8 in, 7/8 in from the left, 1/2 in from the bottom.
    address_window=Rect(0.875 * INCH, 0.5 * INCH, 4.5 * INCH, 1.125 * INCH),
    # Upper window of our double-window stock: 3 1/2 x 1 in, 5/8 in from the left, 3/4 in from the top.
    return_window=Rect(0.625 * INCH, (4.125 - 0.75 - 1.0) * INCH, 3.5 * INCH, 1.0 * INCH),
)

DL_WINDOW = WindowEnvelope(
    name="DL window",
    width=220 * MM,
    height=110 * MM,
    # Common UK DL window: 90 x 35 mm, 20 mm from the left, 15 mm from the bottom.
    address_window=Rect(20 * MM, 15 * MM, 90 * MM, 35 * MM),
    return_window=None,
)


@dataclass(frozen=True)
class FoldedInsert:
    """A sheet folded in three (letter fold) with its top panel facing the envelope's window.

    Nominal position: centred left-right in the envelope and resting on its lower fold. `play_x`/`play_y`
    is how far the insert may slide from there; the address block must stay in the window (with
    `WINDOW_CLEARANCE`) over that whole range.
    """

    page_width: float
    page_height: float
    envelope: WindowEnvelope
    play_x: float = 0.125 * INCH
    play_y: float = 0.0

    @property
    def panel_height(self) -> float:
        """Height of each third; the folds sit at 1/3 and 2/3 of the sheet."""
        return self.page_height / 3.0

    @property
    def fold_ys(self) -> tuple[float, float]:
        """Page y of the two fold lines (upper fold first)."""
        return (self.page_height - self.panel_height, self.page_height - 2 * self.panel_height)

    def envelope_to_page(self, rect: Rect) -> Rect:
        """Where an envelope-face rectangle falls on the unfolded sheet in the nominal position."""
        dx = -(self.envelope.width - self.page_width) / 2.0
        dy = self.page_height - self.panel_height
        return rect.translated(dx, dy)

    def page_to_envelope(self, rect: Rect, shift_x: float = 0.0, shift_y: float = 0.0) -> Rect:
        """Where a page rectangle of the top panel shows on the envelope face, with the insert shifted."""
        dx = (self.envelope.width - self.page_width) / 2.0 + shift_x
        dy = -(self.page_height - self.panel_height) + shift_y
        return rect.translated(dx, dy)

    def address_window_on_page(self) -> Rect:
        return self.envelope_to_page(self.envelope.address_window)

    def return_window_on_page(self) -> Rect | None:
        win = self.envelope.return_window
        return None if win is None else self.envelope_to_page(win)

    def address_safe_area(self) -> Rect:
        """Where the address block may print: the window inset by the clearance and by the insert's play."""
        return self.address_window_on_page().inset(WINDOW_CLEARANCE + self.play_x, WINDOW_CLEARANCE + self.play_y)

    def return_safe_area(self) -> Rect | None:
        win = self.return_window_on_page()
        if win is None:
            return None
        # The upper window only shows the agency's own return address: 1/16 in clearance is enough there,
        # but it must also stay inside a laser printer's 1/4 in unprintable edge.
        safe = win.inset(INCH / 16 + self.play_x, INCH / 16 + self.play_y)
        top_limit = self.page_height - 0.25 * INCH
        if safe.top > top_limit:
            safe = Rect(safe.x, safe.y, safe.width, top_limit - safe.y)
        return safe


US_LETTER_NO10 = FoldedInsert(LETTER[0], LETTER[1], NO10_DOUBLE_WINDOW)
A4_DL = FoldedInsert(A4[0], A4[1], DL_WINDOW)


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
    baselines: tuple[float, ...]  # baseline y of each address line, top line first
    font_size: float
    leading: float


def address_block_layout(
    insert: FoldedInsert, line_count: int, with_imb: bool, font_size: float = 9.5, leading: float = 11.0
) -> AddressBlockLayout:
    """Lay out an address block of `line_count` lines (IMb on top when asked) inside the safe window area.

    The font shrinks when the lines would not fit, down to 7 pt (Pub. 25 asks for 8 pt or more; only a
    six-line address with an IMb goes below); more lines than that raise ValueError. The block is anchored
    to the left of the safe area and centred vertically in it.
    """
    safe = insert.address_safe_area()
    bars_w, bars_h = imb_size()
    cz_x = IMB_CLEAR_ZONE_X_IN * INCH
    cz_y = IMB_CLEAR_ZONE_Y_IN * INCH
    imb_h = bars_h + 2 * cz_y if with_imb else 0.0
    ascent, descent = 0.75, 0.22  # Helvetica, as fractions of the font size
    while True:
        text_h = (line_count - 1) * leading + (ascent + descent) * font_size
        if imb_h + text_h <= safe.height:
            break
        if font_size <= 7.0:
            raise ValueError(f"an address of {line_count} lines does not fit the {insert.envelope.name} window")
        font_size -= 0.5
        leading = font_size * 1.12
    total_h = imb_h + text_h
    top = safe.top - max(0.0, (safe.height - total_h) / 2.0)
    # Text is indented by the IMb's left clear zone so the bars' clear zone starts at the block's edge.
    block_x = safe.x
    text_x = block_x + (cz_x if with_imb else 0.0)
    width = max(bars_w + 2 * cz_x if with_imb else 0.0, safe.width - 0.0)
    width = min(width, safe.width)
    imb = imb_bars = None
    if with_imb:
        imb = Rect(block_x, top - imb_h, bars_w + 2 * cz_x, imb_h)
        imb_bars = Rect(block_x + cz_x, imb.y + cz_y, bars_w, bars_h)
    first_baseline = top - imb_h - ascent * font_size
    baselines = tuple(first_baseline - i * leading for i in range(line_count))
    block = Rect(block_x, top - total_h, width, total_h)
    return AddressBlockLayout(block, imb, imb_bars, text_x, baselines, font_size, leading)


def return_block_origin(insert: FoldedInsert) -> tuple[float, float] | None:
    """Top-left point (x, y) where the return address starts, inside the upper window when there is one."""
    safe = insert.return_safe_area()
    if safe is None:
        return None
    return safe.x, safe.top
