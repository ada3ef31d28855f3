"""The base renderer every Curbdesk document shares (pretix `base/invoicing/pdf.py` style).

(Over 600 lines, knowingly: the base document with the fonts, barcodes and envelope-window drawing every
printed piece uses.)

A document holds one data object and its jurisdiction's `PrintProfile`; the base fixes page size
(US Letter, A4 for England), margins, fonts, colours and paragraph styles, and draws the things every
mailed piece has: letterhead / return address in the upper window, the recipient block in the address
window with its Intelligent Mail barcode, fold marks, the citation number as Code 128 and the QR code to
pay online. `render()` returns the PDF as bytes; `draw(canvas)` adds the document's pages to a canvas
that a batch shares.

Two families:
- `Document` subclasses draw directly on the canvas (the mass-mailed notices, hundreds of pages a second).
- `StoryDocument` subclasses fill a platypus story (letters, receipts, docket, hearing packet); the base
  flows it through frames on the shared canvas, page after page.
"""

from __future__ import annotations

import io
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any, ClassVar, Generic, Protocol, TypeVar
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab import rl_config

# Raw binary image streams instead of ASCII85: ReportLab's ASCII85 encoder is pure Python and made a photo
# page 35x slower (PLATFORM-NOTES.md: 10.9 pages/s with it, 382 without).
rl_config.useA85 = 0

from reportlab.graphics.barcode.code128 import Code128  # noqa: E402
from reportlab.graphics.barcode.usps4s import USPS_4State  # noqa: E402
from reportlab.lib import colors  # noqa: E402
from reportlab.lib.enums import TA_LEFT  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.utils import ImageReader  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, TableStyle  # noqa: E402

from reports import fonts  # noqa: E402
from reports import geometry as geo  # noqa: E402
from reports.data import AgencyInfo, MailPiece, Recipient  # noqa: E402
from reports.ink import COLOUR, MONO, Palette, palette  # noqa: E402
from reports.profiles import PrintProfile, print_profile  # noqa: E402
from reports.qr import encode as qr_encode  # noqa: E402
from reports.qr import encode_rows as qr_encode_rows  # noqa: E402

fonts.register()
rl_config.canvas_basefontname = fonts.FONT  # a new canvas's initial font: never an unembedded Helvetica

MARGIN = 0.5 * geo.INCH
FONT = fonts.FONT
FONT_BOLD = fonts.FONT_BOLD
FONT_OBLIQUE = fonts.FONT_OBLIQUE
FONT_MONO = fonts.FONT_MONO
# The black-only palette (reports.ink): story documents' paragraph and table styles print with it.
INK = MONO.ink
ACCENT = MONO.accent
RULE = MONO.rule
SHADE = MONO.shade
ALERT = MONO.alert
GREY = MONO.grey
BLACK = MONO.black


def _style(name: str, size: float, leading: float, font: str = FONT, **kw: Any) -> ParagraphStyle:
    kw.setdefault("textColor", INK)
    kw.setdefault("alignment", TA_LEFT)
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading, **kw)


STYLES: dict[str, ParagraphStyle] = {
    "body": _style("body", 9.5, 12.5, spaceAfter=6),
    "small": _style("small", 7.6, 9.3, spaceAfter=3),
    "fine": _style("fine", 6.5, 7.8),
    "h1": _style("h1", 14, 17, FONT_BOLD, textColor=ACCENT, spaceAfter=4),
    "h2": _style("h2", 10.5, 13, FONT_BOLD, textColor=ACCENT, spaceBefore=8, spaceAfter=4),
    "cell": _style("cell", 8, 9.6),
    "cell_bold": _style("cell_bold", 8, 9.6, FONT_BOLD),
    "label": _style("label", 7, 8.4, FONT_BOLD, textColor=GREY),
}


# ---------------------------------------------------------------- formatting

def money(cents: int, symbol: str = "$") -> str:
    """Integer cents as printed money: 6300 -> "$63.00", -250 -> "-$2.50"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def fmt_date(value: date | None, profile: PrintProfile) -> str:
    if value is None:
        return ""
    return value.strftime(profile.date_format)


def fmt_datetime(value: datetime | None, timezone_name: str, profile: PrintProfile) -> str:
    """A tz-aware time shown in the agency's zone, with the zone's abbreviation."""
    if value is None:
        return ""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a document; times must be timezone-aware")
    local = value.astimezone(ZoneInfo(timezone_name))
    clock = local.strftime("%-I:%M %p") if profile.code != "ENG" else local.strftime("%H:%M")
    return f"{local.strftime(profile.date_format)} {clock} {local.strftime('%Z')}"


def para(text: str, style: str = "body") -> Paragraph:
    """A paragraph of trusted markup (our wording)."""
    return Paragraph(text, STYLES[style])


def text(value: str, style: str = "body") -> Paragraph:
    """A paragraph of untrusted text (names, reasons, statements): escaped, newlines kept."""
    return Paragraph(escape(value).replace("\n", "<br/>"), STYLES[style])


# ---------------------------------------------------------------- barcodes

def imb_tracking(mail: MailPiece) -> str:
    """The 20-digit IMb tracking code: barcode id (2) + service type (3) + Mailer ID (6/9) + serial (9/6).

    Raises ValueError when the Mailer ID or serial does not fit USPS-B-3200.
    """
    mid = mail.mailer_id
    if not (mid.isdigit() and len(mid) in (6, 9)):
        raise ValueError(f"Mailer ID must be 6 or 9 digits, got {mid!r}")
    if len(mid) == 6 and mid.startswith("9"):
        raise ValueError("a 6-digit Mailer ID never starts with 9 (9 marks a 9-digit MID)")
    if len(mid) == 9 and not mid.startswith("9"):
        raise ValueError("a 9-digit Mailer ID starts with 9")
    serial_digits = 15 - len(mid)
    if not 0 <= mail.serial < 10**serial_digits:
        raise ValueError(f"serial must fit in {serial_digits} digits with a {len(mid)}-digit Mailer ID")
    bid = mail.barcode_id
    if not (len(bid) == 2 and bid.isdigit() and bid[1] in "01234"):
        raise ValueError(f"barcode id must be 2 digits, the second 0-4, got {bid!r}")
    stid = mail.service_type_id
    if not (len(stid) == 3 and stid.isdigit()):
        raise ValueError(f"service type id must be 3 digits, got {stid!r}")
    return f"{bid}{stid}{mid}{mail.serial:0{serial_digits}d}"


def make_imb(mail: MailPiece, routing: str) -> USPS_4State:
    """The ReportLab IMb widget for one piece, sized by `geometry.IMB_*_SIZE`."""
    bc = USPS_4State(imb_tracking(mail), routing)
    bc.widthSize = geo.IMB_WIDTH_SIZE
    bc.heightSize = geo.IMB_HEIGHT_SIZE
    return bc


def _emit_rects(canvas: Canvas, x: float, y: float, rects: list[tuple[float, float, float, float]]) -> None:
    """Fill rectangles (relative to x, y) through one literal path.

    ReportLab's generic number formatting is pure Python and costs more than everything else on a notice
    page once a few hundred barcode bars are drawn; fixed 3-decimal formatting is exact to 1/72000 in.
    """
    ops = "\n".join(f"{rx + x:.3f} {ry + y:.3f} {rw:.3f} {rh:.3f} re" for rx, ry, rw, rh in rects)
    canvas.saveState()
    canvas.setFillColor(BLACK)
    canvas.addLiteral(ops + "\nf")
    canvas.restoreState()


_PDF_ESCAPES = {i: f"\\{i:03o}" for i in range(256) if i < 32 or i > 126}
_PDF_ESCAPES.update({ord("\\"): "\\\\", ord("("): "\\(", ord(")"): "\\)"})


def fill_operator(color: colors.Color) -> str:
    """The PDF fill-colour operator of a colour: `c m y k k` for CMYK (all of ours), `r g b rg` otherwise."""
    if isinstance(color, colors.CMYKColor):
        return f"{color.cyan:.3f} {color.magenta:.3f} {color.yellow:.3f} {color.black:.3f} k"
    r, g, b = color.rgb()
    return f"{r:.3f} {g:.3f} {b:.3f} rg"


@cache
def _winansi_widths(font: str) -> list[float] | None:
    """Glyph widths (1/1000 em) by WinAnsi code of a standard font, or by code 0-126 of a TrueType font
    (whose printable ASCII is encoded as itself, see `_ascii_subset`); None for any other font."""
    f = pdfmetrics.getFont(font)
    if getattr(f, "_dynamicFont", False):
        widths = f.face.charWidths
        return [float(widths.get(code, f.face.defaultWidth)) for code in range(127)]
    if getattr(f, "encName", "") != "WinAnsiEncoding":
        return None
    return [float(w) for w in f.widths]


_PRINTABLE_ASCII = "".join(chr(code) for code in range(32, 127))


def _ascii_subset(font: Any, doc: Any) -> str:
    """The page-resource name of the subset of a TrueType font that holds printable ASCII in this file.

    ReportLab encodes printable ASCII as itself in a TrueType font's first subset ("ASCII readable")
    once each character has been used; using them all once per file lets every ASCII string skip the
    per-character `splitString` (about a fifth of a notice page) at the cost of 95 glyphs in the file.
    """
    state = font.state.get(doc)
    if state is None or 126 not in state.assignments:
        font.splitString(_PRINTABLE_ASCII, doc)
    return str(font.getSubsetInternalName(0, doc))


class PageText:
    """The text that changes from page to page, written as one BT...ET object per page.

    ReportLab's drawString opens a text object per call and formats every number with its pure-Python
    `fp_str`; with some forty strings a page that was a third of a notice's cost. This collects the strings
    and writes them with fixed 3-decimal positions when `flush()` is called at the end of the page. It has
    the same method names as ReportLab's Canvas so that drawing code reads the same. Positions and glyphs
    are those drawString would produce: the text matrix is set to (x, y), a TrueType font's text is split
    into the font's embedded subsets by ReportLab itself (`splitString`, so the glyphs are the ones the
    file embeds), and the width for right or centred alignment comes from the same font metrics.
    """

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        # the ASCII subset's resource name per font, kept with the canvas (one file) for every page after
        self._ascii_names: dict[str, str] = canvas.__dict__.setdefault("_curbdesk_ascii_subsets", {})
        self.ops: list[str] = []
        self._font = FONT
        self._size = 10.0
        self._fill = "0 0 0 1 k"
        self._emitted_font: tuple[str, float] | None = None
        self._emitted_fill: str | None = None

    def setFont(self, font: str, size: float) -> None:
        self._font, self._size = font, size

    def setFillColor(self, color: colors.Color) -> None:
        self._fill = _PALETTE_FILLS.get(id(color)) or fill_operator(color)

    def stringWidth(self, text: str, font: str | None = None, size: float | None = None) -> float:
        font = font or self._font
        size = self._size if size is None else size
        widths = _winansi_widths(font)
        if widths is not None and text.isascii() and text.isprintable():
            return sum(map(widths.__getitem__, text.encode("ascii"))) * size / 1000.0
        return float(pdfmetrics.stringWidth(text, font, size))

    def drawString(self, x: float, y: float, text: str) -> None:
        ops = self.ops
        font = pdfmetrics.getFont(self._font)
        if getattr(font, "_dynamicFont", False):
            doc = self.canvas._doc
            if text.isascii() and text.isprintable():
                name = self._ascii_names.get(self._font)
                if name is None:
                    name = self._ascii_names[self._font] = _ascii_subset(font, doc)
                chunks = [(name, text.encode("ascii"))]
            else:
                chunks = [(font.getSubsetInternalName(subset, doc), raw)
                          for subset, raw in font.splitString(text, doc)]
        else:
            try:
                chunks = [(doc_font_name(self.canvas, self._font), text.encode("cp1252"))]
            except UnicodeEncodeError:  # a standard font cannot show it: let ReportLab substitute
                self.canvas.saveState()
                self.canvas.setFont(self._font, self._size)
                self.canvas.addLiteral(self._fill)
                self.canvas.drawString(x, y, text)
                self.canvas.restoreState()
                return
        if self._emitted_fill != self._fill:
            ops.append(self._fill)
            self._emitted_fill = self._fill
        ops.append(f"1 0 0 1 {x:.3f} {y:.3f} Tm")
        for name, raw in chunks:
            if self._emitted_font != (name, self._size):
                ops.append(f"{name} {self._size:.2f} Tf")
                self._emitted_font = (name, self._size)
            ops.append(f"({raw.decode('latin-1').translate(_PDF_ESCAPES)}) Tj")

    def drawRightString(self, x: float, y: float, text: str) -> None:
        self.drawString(x - self.stringWidth(text), y, text)

    def drawCentredString(self, x: float, y: float, text: str) -> None:
        self.drawString(x - self.stringWidth(text) / 2.0, y, text)

    def flush(self) -> None:
        """Write the collected text into the page (in its own graphics state) and start again."""
        if self.ops:
            self.canvas.addLiteral("q BT\n" + "\n".join(self.ops) + "\nET Q")
        self.ops = []
        self._emitted_font = None
        self._emitted_fill = None


#: The fill operators of the palettes' colours (module constants, alive for the process), by identity.
_PALETTE_FILLS: dict[int, str] = {id(c): fill_operator(c) for p in (MONO, COLOUR) for c in vars(p).values()
                                  if isinstance(c, colors.Color)}


def doc_font_name(canvas: Canvas, font: str) -> str:
    """The page-resource name of a standard (non-embedded) font in this canvas's file."""
    return str(canvas._doc.getInternalFontName(font))


def code128_bars(value: str, bar_height: float) -> tuple[float, list[tuple[float, float, float, float]]]:
    """(total width with quiet zones, bar rectangles) of `value` as Code 128 (ISO/IEC 15417)."""
    width, bars = _code128_pattern(value)
    return width, [(left, 0.0, w, bar_height) for left, w in bars]


@lru_cache(maxsize=64)  # a notice draws its citation's barcode twice (header and coupon)
def _code128_pattern(value: str) -> tuple[float, tuple[tuple[float, float], ...]]:
    bar_height = 1.0
    bc = Code128(value, barWidth=geo.CODE128_BAR_WIDTH, barHeight=bar_height, quiet=1,
                 lquiet=geo.CODE128_QUIET_ZONE, rquiet=geo.CODE128_QUIET_ZONE, humanReadable=0)
    bc.validate()
    bc.encode()
    bc.decompose()
    bar = geo.CODE128_BAR_WIDTH
    left = geo.CODE128_QUIET_ZONE
    rects: list[tuple[float, float]] = []
    for ch in bc.decomposed:
        if "a" <= ch <= "z":
            left += (ord(ch) - ord("a") + 1) * bar
        elif "A" <= ch <= "Z":
            w = (ord(ch) - ord("A") + 1) * bar
            rects.append((left, w))
            left += w
    return left + geo.CODE128_QUIET_ZONE, tuple(rects)


def draw_code128(canvas: Canvas, value: str, x: float, y: float, bar_height: float = geo.CODE128_BAR_HEIGHT,
                 human_readable: bool = True, anchor_right: bool = False, text: PageText | None = None) -> float:
    """Draw `value` as Code 128 with (x, y) its lower-left corner (or lower-right); returns its width.

    The human-readable line goes through `text` when given (see PageText), else straight to the canvas.
    """
    width, rects = code128_bars(value, bar_height)
    if anchor_right:
        x -= width
    _emit_rects(canvas, x, y + (9 if human_readable else 0), rects)
    if human_readable:
        out: Any = text or canvas
        out.setFont(FONT, 7.5)
        if text is not None:
            text.setFillColor(BLACK)
        out.drawCentredString(x + width / 2, y + 1.5, value)
    return width


def draw_imb(canvas: Canvas, widget: USPS_4State, x: float, y: float) -> None:
    """Draw an IMb widget with its clear zones' lower-left corner at (x, y); same bars as widget.draw().

    The bars' positions and the four bar shapes depend only on the size knobs and (x, y), the same on
    every page of a batch: their path operators are formatted once and only picked per page.
    """
    frags = _imb_fragments(widget.widthSize, widget.heightSize, round(x, 3), round(y, 3))
    canvas.saveState()
    canvas.setFillColor(BLACK)
    canvas.addLiteral("\n".join([frags[i][b] for i, b in enumerate(widget.barcodes)]) + "\nf")
    canvas.restoreState()


@lru_cache(maxsize=16)
def _imb_fragments(width_size: float, height_size: float, x: float, y: float) -> tuple[dict[str, str], ...]:
    probe = USPS_4State("00300123456123456789", "")
    probe.widthSize, probe.heightSize = width_size, height_size
    probe.computeSize()
    v = probe._getBarVInfo(probe.verticalClearZone + probe.barHeight * 0.5)
    pitch, bw, left = probe.pitch, probe.barWidth, probe.horizontalClearZone
    return tuple({b: f"{left + i * pitch + x:.3f} {by + y:.3f} {bw:.3f} {bh:.3f} re" for b, (by, bh) in v.items()}
                 for i in range(65))


def draw_static(canvas: Canvas, name: str, drawer: Callable[[Canvas], None]) -> None:
    """Draw content that repeats on many pages as a PDF form XObject: defined once per file, then reused."""
    if not canvas.hasForm(name):
        canvas.beginForm(name)
        drawer(canvas)
        canvas.endForm()
    canvas.doForm(name)


_qr_cache: dict[str, tuple[int, str]] = {}


def qr_modules(data: str) -> list[list[bool]]:
    """The QR code's module matrix (ISO/IEC 18004, byte mode, error correction M, mask pattern 0).

    A fixed mask is allowed by the standard (the eight-way mask search only balances the pattern) and
    saves the search; `reports.qr` builds the same symbol as the `qrcode` package, about 13 times
    faster (0.08 ms for a pay URL instead of 1 ms).
    """
    return qr_encode(data, "M", 0)


def _qr_image(data: str) -> tuple[int, str]:
    """Module count and the symbol as a 1-bit inline image mask (hex), one bit per module, rows padded."""
    hit = _qr_cache.get(data)
    if hit is not None:
        return hit
    rows = qr_encode_rows(data, "M", 0)
    n = len(rows)
    width = (n + 7) // 8 * 8
    hexrows = "".join(f"{int(row.ljust(width, '0'), 2):0{width // 4}x}" for row in rows)
    if len(_qr_cache) > 64:
        _qr_cache.clear()
    _qr_cache[data] = hit = (n, hexrows)
    return hit


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float = geo.QR_SIZE) -> None:
    """Draw a QR code (4-module quiet zone included in `size`) as a 1-bit image mask filled in black.

    One module is one image sample, scaled by the transform; image masks are not interpolated (the
    PDF default), so every module prints as a sharp square. A mask of a few hundred bytes costs far
    less to write than a path of a few hundred rectangles.
    """
    n, hexrows = _qr_image(data)
    module = size / (n + 8)
    side = n * module
    canvas.saveState()
    canvas.setFillColor(BLACK)
    canvas.addLiteral(f"{side:.4f} 0 0 {side:.4f} {x + 4 * module:.4f} {y + 4 * module:.4f} cm\n"
                      f"BI /W {n} /H {n} /BPC 1 /IM true /D [1 0] /F /AHx ID\n{hexrows}>\nEI")
    canvas.restoreState()


# ---------------------------------------------------------------- document base

class DocumentData(Protocol):
    """What every document's data carries: the profile it prints under and the issuing agency."""

    @property
    def profile_code(self) -> str: ...

    @property
    def agency(self) -> AgencyInfo: ...


DataT = TypeVar("DataT", bound=DocumentData)


class Document(ABC, Generic[DataT]):
    """One printed document about one data object.

    Subclasses set `title` and implement `draw`. `render()` gives the finished PDF. `insert` is the paper,
    fold and envelope the piece is laid out for (the profile's, or the agency's from `MailPiece.envelope`);
    `ink` the palette it prints with (black only unless `MailPiece.colour`).
    """

    title: ClassVar[str] = "Document"

    def __init__(self, data: DataT) -> None:
        self.data = data
        self.profile: PrintProfile = print_profile(data.profile_code)
        mail = getattr(data, "mail", None)
        self.ink: Palette = palette(bool(getattr(mail, "colour", False)))
        self.insert: geo.FoldedInsert = geo.insert_from_spec(getattr(mail, "envelope", ""), self.profile.insert)

    @property
    def page_size(self) -> tuple[float, float]:
        return (self.insert.page_width, self.insert.page_height)

    @property
    def agency(self) -> AgencyInfo:
        return self.data.agency

    def money(self, cents: int) -> str:
        return money(cents, self.profile.currency_symbol)

    def date(self, value: date | None) -> str:
        return fmt_date(value, self.profile)

    def new_canvas(self, out: io.BytesIO | str) -> Canvas:
        canvas = Canvas(out, pagesize=self.page_size, pageCompression=1, invariant=1)
        canvas.setTitle(self.title)
        canvas.setAuthor(self.agency.name)
        canvas.setCreator("Curbdesk")
        return canvas

    def render(self) -> bytes:
        buf = io.BytesIO()
        canvas = self.new_canvas(buf)
        self.draw(canvas)
        canvas.save()
        return buf.getvalue()

    @abstractmethod
    def draw(self, canvas: Canvas) -> int:
        """Add this document's pages to `canvas` (each page ended with showPage); return the page count."""

    # ---- shared page furniture

    def draw_fold_marks(self, canvas: Canvas) -> None:
        """Short ticks at both edges where the folding machine folds (see geometry.FoldedInsert)."""
        canvas.saveState()
        canvas.setStrokeColor(self.ink.rule)
        canvas.setLineWidth(0.5)
        for y in self.insert.fold_ys:
            canvas.line(0, y, 0.18 * geo.INCH, y)
            canvas.line(self.page_size[0] - 0.18 * geo.INCH, y, self.page_size[0], y)
        canvas.restoreState()

    def return_layout(self) -> geo.ReturnBlockLayout | None:
        """The agency's name and return address laid out in the upper window (None: no upper window)."""
        agency = self.agency
        indent = 40.0 if agency.logo_path and os.path.exists(agency.logo_path) else 0.0
        return _return_layout(self.insert, agency.name, (agency.department, *agency.return_address_lines), indent)

    def draw_letterhead(self, canvas: Canvas) -> None:
        """Agency logo, name, department and return address, in the upper window when the envelope has one
        (wrapped and sized to stay in it at every position of the insert), else at the top left."""
        agency = self.agency
        layout = self.return_layout()
        canvas.saveState()
        if layout is None:
            x, top = MARGIN, self.page_size[1] - MARGIN
            if agency.logo_path and os.path.exists(agency.logo_path):
                self.draw_logo(canvas, x, top - 34)
                x += 40
            canvas.setFillColor(self.ink.accent)
            canvas.setFont(FONT_BOLD, 10.5)
            canvas.drawString(x, top - 10, agency.name)
            canvas.setFillColor(self.ink.ink)
            canvas.setFont(FONT, 7.8)
            y = top - 20
            for line in (agency.department, *agency.return_address_lines):
                if line:
                    canvas.drawString(x, y, line)
                    y -= 9
        else:
            if layout.x > (self.insert.return_safe_area() or geo.Rect(0, 0, 0, 0)).x + 1:
                first = layout.lines[0]
                self.draw_logo(canvas, layout.x - 40, first[3] + first[2] * 0.76 - 34)
            for line, bold, size, baseline in layout.lines:
                canvas.setFillColor(self.ink.accent if bold else self.ink.ink)
                canvas.setFont(FONT_BOLD if bold else FONT, size)
                canvas.drawString(layout.x, baseline, line)
        canvas.restoreState()

    def draw_logo(self, canvas: Canvas, x: float, y: float) -> None:
        """The agency's logo in a 34 pt square; in black-only printing as a grey image (K only)."""
        path = self.agency.logo_path
        if not path or not os.path.exists(path):
            return
        image: Any = path if self.ink.name == "colour" else _grey_logo(path)
        canvas.drawImage(image, x, y, width=34, height=34, preserveAspectRatio=True, mask="auto")

    def address_lines(self, recipient: Recipient) -> list[str]:
        uk = self.profile.code == "ENG"
        lines = [recipient.name]
        if recipient.attention:
            lines.append(recipient.attention)
        lines.extend(recipient.address_lines)
        lines.append(recipient.last_line(uk_style=uk))
        if uk:
            if recipient.state:
                lines.append(recipient.state)
            lines.append(recipient.zip_code.upper())
        if recipient.country:
            lines.append(recipient.country.upper())
        lines = [line for line in lines if line]
        return [line.upper() for line in lines] if self.profile.uses_imb else lines

    def address_layout(self, recipient: Recipient, mail: MailPiece) -> geo.AddressBlockLayout:
        """The recipient block laid out for the window; AddressDoesNotFit when it cannot be (a held piece)."""
        with_imb = self.profile.uses_imb and bool(mail.mailer_id) and bool(recipient.routing_code)
        return _address_layout(self.insert, tuple(self.address_lines(recipient)), with_imb)

    def layout_problem(self) -> str | None:
        """Why this piece cannot be laid out for its envelope (None when it can): checked before a run prints."""
        try:
            recipient = getattr(self.data, "recipient", None)
            if recipient is not None:
                self.address_layout(recipient, getattr(self.data, "mail", MailPiece()))
            self.return_layout()
        except geo.LayoutError as exc:
            return f"The piece cannot be printed for its envelope: {exc}."
        return None

    def draw_address_block(self, canvas: Canvas, recipient: Recipient, mail: MailPiece,
                           text: PageText | None = None) -> geo.AddressBlockLayout:
        """Recipient address (and IMb above it) placed for the envelope window; returns the layout used."""
        layout = self.address_layout(recipient, mail)
        if layout.imb_bars is not None:
            draw_imb(canvas, make_imb(mail, recipient.routing_code),  # given its clear zones' corner
                     layout.imb_bars.x - geo.IMB_CLEAR_ZONE_X_IN * geo.INCH,
                     layout.imb_bars.y - geo.IMB_CLEAR_ZONE_Y_IN * geo.INCH)
        out: Any = text or canvas
        if text is None:
            canvas.saveState()
        out.setFillColor(BLACK)
        out.setFont(FONT, layout.font_size)
        for line, baseline in zip(layout.lines, layout.baselines, strict=True):
            out.drawString(layout.text_x, baseline, line)
        if text is None:
            canvas.restoreState()
        return layout


@lru_cache(maxsize=4096)
def _address_layout(insert: geo.FoldedInsert, lines: tuple[str, ...], with_imb: bool) -> geo.AddressBlockLayout:
    return geo.address_block_layout(insert, lines, with_imb, lambda t, size: pdfmetrics.stringWidth(t, FONT, size))


@lru_cache(maxsize=16)
def _return_layout(insert: geo.FoldedInsert, name: str, lines: tuple[str, ...],
                   indent: float) -> geo.ReturnBlockLayout | None:
    def measure(t: str, size: float, bold: bool) -> float:
        return float(pdfmetrics.stringWidth(t, FONT_BOLD if bold else FONT, size))

    return geo.return_block_layout(insert, name, lines, measure, indent)


@lru_cache(maxsize=8)
def _grey_logo(path: str) -> Any:
    from PIL import Image  # lazy: Pillow costs about 28 ms; only a logo in black-only printing needs it

    with Image.open(path) as im:
        grey = im.convert("LA") if "A" in im.getbands() or "transparency" in im.info else im.convert("L")
        grey.load()
    return ImageReader(grey)


class StoryDocument(Document[DataT]):
    """A document whose body is a platypus story flowed through frames on a shared canvas.

    Subclasses implement `story()`. Mailed letters set `mailed = True`: page 1 then carries the letterhead
    in the upper window, the address block in the lower window and the fold marks, and the body starts
    below the address window.
    """

    mailed: ClassVar[bool] = False
    reference_label: ClassVar[str] = ""

    @abstractmethod
    def story(self) -> list[Flowable]:
        ...

    def reference(self) -> str:
        """Short reference printed in the running header of later pages."""
        return ""

    def first_frame(self) -> Frame:
        w, h = self.page_size
        top = h - MARGIN - 34  # below the running header
        if self.mailed:  # below all the address window can show, and a little air
            top = self.insert.ever_visible(self.insert.envelope.address_window).y - 0.15 * geo.INCH
        return Frame(MARGIN, MARGIN + 14, w - 2 * MARGIN, top - MARGIN - 14, leftPadding=0, rightPadding=0,
                     topPadding=0, bottomPadding=0, id="first")

    def later_frame(self) -> Frame:
        w, h = self.page_size
        return Frame(MARGIN, MARGIN + 14, w - 2 * MARGIN, h - 2 * MARGIN - 48, leftPadding=0,
                     rightPadding=0, topPadding=0, bottomPadding=0, id="later")

    def decorate_first_page(self, canvas: Canvas) -> None:
        if self.mailed:
            self.draw_letterhead(canvas)
            recipient = getattr(self.data, "recipient", None)
            if recipient is not None:
                self.draw_address_block(canvas, recipient, getattr(self.data, "mail", MailPiece()))
            self.draw_fold_marks(canvas)
        else:
            self.draw_plain_header(canvas)

    def draw_plain_header(self, canvas: Canvas) -> None:
        w, h = self.page_size
        canvas.saveState()
        canvas.setFillColor(self.ink.accent)
        canvas.setFont(FONT_BOLD, 10.5)
        canvas.drawString(MARGIN, h - MARGIN - 8, self.agency.name)
        canvas.setFont(FONT, 7.8)
        canvas.setFillColor(self.ink.ink)
        canvas.drawString(MARGIN, h - MARGIN - 18, self.agency.department)
        canvas.setFont(FONT_BOLD, 10.5)
        canvas.setFillColor(self.ink.accent)
        canvas.drawRightString(w - MARGIN, h - MARGIN - 8, self.title.upper())
        canvas.setFont(FONT, 7.8)
        canvas.setFillColor(self.ink.ink)
        if self.reference():
            canvas.drawRightString(w - MARGIN, h - MARGIN - 18, self.reference())
        canvas.setStrokeColor(self.ink.accent)
        canvas.setLineWidth(1.2)
        canvas.line(MARGIN, h - MARGIN - 25, w - MARGIN, h - MARGIN - 25)
        canvas.restoreState()

    def decorate_later_page(self, canvas: Canvas, page: int) -> None:
        self.draw_plain_header(canvas)

    def draw_footer(self, canvas: Canvas, page: int, pages: int | None) -> None:
        w, _ = self.page_size
        canvas.saveState()
        canvas.setStrokeColor(self.ink.rule)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, MARGIN + 9, w - MARGIN, MARGIN + 9)
        canvas.setFont(FONT, 6.8)
        canvas.setFillColor(self.ink.grey)
        left = " \u00b7 ".join(p for p in (self.agency.name, self.agency.phone, self.agency.web_url) if p)
        canvas.drawString(MARGIN, MARGIN, left)
        label = f"Page {page} of {pages}" if pages else f"Page {page}"
        ref = self.reference()
        canvas.drawRightString(w - MARGIN, MARGIN, f"{ref}   {label}" if ref else label)
        canvas.restoreState()

    def draw(self, canvas: Canvas) -> int:
        """Story documents lay out through a platypus DocTemplate of their own; use `render()`."""
        raise NotImplementedError(f"{type(self).__name__} renders on its own canvas; call render()")

    def render(self) -> bytes:
        """Build the story twice: once to count pages, once to print "Page n of N"."""
        pages = self._build(io.BytesIO(), None)
        buf = io.BytesIO()
        self._build(buf, pages)
        return buf.getvalue()

    def _build(self, buf: io.BytesIO, total: int | None) -> int:
        doc = BaseDocTemplate(buf, pagesize=self.page_size, title=self.title, author=self.agency.name,
                              creator="Curbdesk", invariant=1, pageCompression=1)

        def first(canvas: Canvas, _doc: BaseDocTemplate) -> None:
            self.decorate_first_page(canvas)
            self.draw_footer(canvas, canvas.getPageNumber(), total)

        def later(canvas: Canvas, _doc: BaseDocTemplate) -> None:
            self.decorate_later_page(canvas, canvas.getPageNumber())
            self.draw_footer(canvas, canvas.getPageNumber(), total)

        doc.addPageTemplates([
            PageTemplate("first", [self.first_frame()], onPage=first, autoNextPageTemplate="later"),
            PageTemplate("later", [self.later_frame()], onPage=later),
        ])
        doc.build(self.story())
        return int(doc.page)


def table_style(commands: Sequence[tuple[Any, ...]]) -> TableStyle:
    """A platypus table style whose cells' own font and colour are ours: a Table sets Helvetica in RGB
    black around every cell (even one holding a paragraph), which would name an unembedded font and put
    an RGB colour on the page."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("TEXTCOLOR", (0, 0), (-1, -1), INK), *commands])


def key_value_rows(pairs: Sequence[tuple[str, str]]) -> list[list[Paragraph]]:
    """Rows of a two-column facts table, labels bold, values escaped."""
    return [[para(escape(k), "cell_bold"), text(v, "cell")] for k, v in pairs if v]


Drawer = Callable[[Canvas], None]
