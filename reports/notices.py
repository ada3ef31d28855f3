"""The mass-mailed notices: violation, Notice to Owner, delinquent, final, Charge Certificate.

(Over 600 lines, knowingly: one page layout shared by the five notices, its parts fitted around the
envelope's windows, and the five thin classes that pick their wording.)

One page each, drawn straight on the canvas so a notice run prints hundreds of pages a second. The
standing wording (how to pay, how to contest, the statutory consequences) depends only on the profile and
the agency, so it is laid out once per process and drawn again on every page; only the facts, amounts,
address, barcodes and photo change from page to page.

Page plan (top to bottom, following the letter fold):
- top third: letterhead in the upper window, title, notice date, citation number as Code 128, the
  recipient in the address window with its IMb, and the amount-due box with the QR code to pay online;
- middle: the violation's facts, the evidence photo, the penalty schedule and the standing wording;
- bottom: the payment coupon to detach and mail back, with a scan line.
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from typing import Any, ClassVar
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from reports import geometry as geo
from reports.base import (
    FONT,
    FONT_BOLD,
    FONT_MONO,
    MARGIN,
    STYLES,
    Document,
    PageText,
    draw_code128,
    draw_qr,
    draw_static,
    fmt_datetime,
)
from reports.data import NoticeData, NoticeKind
from reports.geometry import LayoutError
from reports.profiles import wording

_WORDING_STYLE = ParagraphStyle("notice_wording", parent=STYLES["small"], fontSize=7.4, leading=8.9,
                                spaceAfter=3.5)
_WORDING_STYLE_TIGHT = ParagraphStyle("notice_wording_tight", parent=_WORDING_STYLE, fontSize=6.9,
                                      leading=8.2, spaceAfter=2.5)
# Tighter still, for the longest standing wording (England's eight grounds of representation) in a top
# panel made taller for the envelope window: DejaVu Sans sets wider than the Helvetica it replaced.
_WORDING_STYLES = (_WORDING_STYLE, _WORDING_STYLE_TIGHT,
                   ParagraphStyle("notice_wording_6.5", parent=_WORDING_STYLE, fontSize=6.5, leading=7.7,
                                  spaceAfter=2.2),
                   ParagraphStyle("notice_wording_6.1", parent=_WORDING_STYLE, fontSize=6.1, leading=7.2,
                                  spaceAfter=2.0))

# Laid-out standing wording, per (class, profile, agency, column width, contest text); see module doc.
# One cache per thread: a Paragraph holds its canvas while it draws, so two threads rendering batches
# at once (a run and a reprint from the GUI) must not share one.
_local = threading.local()


def _wrapped_cache() -> dict[tuple[object, ...], list[tuple[Paragraph, float]]]:
    cache: dict[tuple[object, ...], list[tuple[Paragraph, float]]] | None = getattr(_local, "wrapped", None)
    if cache is None:
        cache = _local.wrapped = {}
    return cache


class MailedNotice(Document[NoticeData]):
    """Base of the one-page mailed notices. Subclasses choose the kind(s) and profiles they print."""

    kinds: ClassVar[tuple[NoticeKind, ...]] = ()
    profiles: ClassVar[tuple[str, ...]] = ("CA", "NYC", "ENG")
    wording_keys: ClassVar[tuple[str, ...]] = ("contest", "pay")

    def __init__(self, data: NoticeData) -> None:
        super().__init__(data)
        if self.kinds and data.kind not in self.kinds:
            raise ValueError(f"{type(self).__name__} prints {', '.join(self.kinds)}, not {data.kind}")
        if self.profile.code not in self.profiles:
            raise ValueError(f"{type(self).__name__} is not a {self.profile.name} document; "
                             f"see notice_class_for()")

    @property
    def title(self) -> str:  # type: ignore[override]
        return wording(self.profile, self.agency, f"title.{self.data.kind.value}") or self.data.kind.value.upper()

    def keys_for_page(self) -> list[str]:
        keys = list(self.wording_keys)
        keys.append(f"consequence.{self.data.kind.value}")
        return keys

    COUPON_HEIGHT: ClassVar[float] = 2.0 * geo.INCH
    PHOTO_W: ClassVar[float] = 2.55 * geo.INCH

    def _static_key(self) -> str:
        key = (type(self).__name__, self.profile.code, self.data.kind.value, self.insert, self.agency,
               self.data.how_to_contest, self.ink.name)
        return hashlib.sha1(repr(key).encode()).hexdigest()[:16]

    def draw(self, canvas: Canvas) -> int:
        """One notice page: the parts every notice of this kind shares are PDF forms drawn once per file."""
        canvas.setPageSize(self.page_size)
        key = self._static_key()
        draw_static(canvas, f"nf{key}", self._draw_static_frame)
        text = PageText(canvas)  # this page's variable text, written as one text object
        self._draw_title(canvas, text)
        self.draw_address_block(canvas, self.data.recipient, self.data.mail, text)
        self._draw_amount_box(canvas, text)
        bottom_of_facts = self._draw_facts_and_photo(canvas, text)
        coupon_top = MARGIN + self.COUPON_HEIGHT
        self._draw_coupon(canvas, text)
        text.flush()
        top = round(bottom_of_facts - 8)
        draw_static(canvas, f"nw{key}{top}", lambda c: self._draw_wording(c, top, coupon_top + 30))
        canvas.showPage()
        return 1

    def layout_problem(self) -> str | None:
        """The envelope's checks, and the standing wording's: it must fit between the photo and the coupon
        (an agency's wording overrides can make it too long for the page)."""
        problem = super().layout_problem()
        if problem is not None:
            return problem
        w, _ = self.page_size
        highest = self.insert.fold_ys[0] - 14 - 8 - self.PHOTO_W * 0.75 - 12 - 8  # under the photo at best
        col_w = (w - 2 * MARGIN - 14) / 2
        room = highest - (MARGIN + self.COUPON_HEIGHT + 30)
        if self._columns(self._wrapped(col_w, _WORDING_STYLES[-1]), room) is None:
            return (f"The {self.title.lower()} cannot be printed: its standing wording does not fit the page even at "
                    f"6.1 point; shorten the agency's wording overrides (agency.wording).")
        return None

    def _draw_static_frame(self, canvas: Canvas) -> None:
        """Letterhead, fixed labels, boxes, fold marks and the coupon's fixed text."""
        w, h = self.page_size
        self.draw_letterhead(canvas)
        self.draw_fold_marks(canvas)
        right = w - MARGIN
        canvas.setFillColor(self.ink.accent)
        size, lines = self._title_lines()
        canvas.setFont(FONT_BOLD, size)
        y = h - MARGIN - 10
        for line in lines:
            canvas.drawRightString(right, y, line)
            y -= size * 1.15
        canvas.setFillColor(self.ink.ink)
        canvas.setFont(FONT, 8)
        y = self._facts_top()
        canvas.drawRightString(right - 95, y, "Notice date")
        canvas.drawRightString(right - 95, y - 11, f"{self.profile.citation_label} number")
        box = self._amount_box()
        canvas.saveState()
        canvas.setFillColor(self.ink.shade)
        canvas.setStrokeColor(self.ink.accent)
        canvas.setLineWidth(0.8)
        canvas.rect(box.x, box.y, box.width, box.height, stroke=1, fill=1)
        canvas.setFont(FONT, 6.3)
        canvas.setFillColor(self.ink.grey)
        canvas.drawCentredString(box.right - geo.QR_SIZE / 2 - 2, box.top - geo.QR_SIZE - 12, "Scan to pay")
        canvas.restoreState()
        top = self.insert.fold_ys[0] - 14
        photo_w = self.PHOTO_W
        left_w = w - 2 * MARGIN - photo_w - 14
        self._section_bar(canvas, MARGIN, top, left_w, "PARTICULARS OF THE " + (
            "CONTRAVENTION" if self.profile.code == "ENG" else "VIOLATION"))
        self._section_bar(canvas, w - MARGIN - photo_w, top, photo_w, "EVIDENCE PHOTOGRAPH")
        self._draw_coupon_static(canvas)

    # ---- top third

    def _title_lines(self) -> tuple[float, list[str]]:
        """The title's size and lines: right of anything the upper window can show (the return address's
        keep-out, or the middle of the sheet), wrapped, at most two lines."""
        return _title_layout(self.title, self.page_size[0], self._title_left())

    def _title_left(self) -> float:
        w, h = self.page_size
        left = w / 2
        for area in self.insert.keep_out():
            if area.top > h - 1.6 * geo.INCH:  # an upper window: the title and the barcode stay right of it
                left = max(left, area.right + geo.WINDOW_CLEARANCE)
        return left

    def _facts_top(self) -> float:
        """Baseline of the notice date, under the title."""
        _, h = self.page_size
        size, lines = self._title_lines()
        return h - MARGIN - 10 - (len(lines) - 1) * size * 1.15 - 16

    def _draw_title(self, canvas: Canvas, text: PageText) -> None:
        w, h = self.page_size
        d = self.data
        right = w - MARGIN
        y = self._facts_top()
        text.setFillColor(self.ink.ink)
        text.setFont(FONT_BOLD, 8.5)
        for value in (self.date(d.notice_date), d.facts.citation_number):
            text.drawRightString(right, y, value)
            y -= 11
        draw_code128(canvas, d.facts.citation_number, right, y - 34, anchor_right=True, text=text)
        if d.reprint:
            text.setFillColor(self.ink.alert)
            text.setFont(FONT_BOLD, 7.5)
            text.drawRightString(right, y - 44, "REPRINT - DUPLICATE OF A NOTICE ALREADY MAILED")
            text.setFillColor(self.ink.ink)

    def _amount_box(self) -> geo.Rect:
        """Right of everything the address window can show at any position of the insert (DMM 601.6.3:
        nothing but the address in the window), from the window's lowest reach to just above its top."""
        w, _ = self.page_size
        reach = self.insert.ever_visible(self.insert.envelope.address_window)
        x = reach.right + geo.WINDOW_CLEARANCE
        return geo.Rect(x, reach.y, w - MARGIN - x, reach.height + 0.1 * geo.INCH)

    def qr_origin(self) -> tuple[float, float]:
        """Lower-left corner of the pay QR code (quiet zone included), at the amount box's top right."""
        box = self._amount_box()
        return box.right - geo.QR_SIZE - 2, box.top - geo.QR_SIZE - 4

    def _draw_amount_box(self, canvas: Canvas, text: PageText) -> None:
        d = self.data
        box = self._amount_box()
        qr = geo.QR_SIZE
        qx, qy = self.qr_origin()
        draw_qr(canvas, self.agency.pay_url(d.facts.citation_number, d.facts.plate), qx, qy, qr)
        x = box.x + 8
        width = box.width - qr - 16  # the text column left of the code
        y = box.top - 13
        text.setFillColor(self.ink.grey)
        text.setFont(FONT_BOLD, 7)
        lines: list[tuple[str, str, float]] = []
        if d.discount_cents is not None and d.discount_deadline is not None:
            text.drawString(x, y, "DISCOUNTED AMOUNT")
            lines.append((FONT_BOLD, self.money(d.discount_cents), 17))
            lines.append((FONT, f"if paid by {self.date(d.discount_deadline)}", 8))
            lines.append((FONT, f"Full charge {self.money(d.amount_due_cents)} by {self.date(d.due_date)}", 7.5))
        else:
            text.drawString(x, y, "AMOUNT DUE")
            lines.append((FONT_BOLD, self.money(d.amount_due_cents), 17))
            lines.append((FONT, f"Pay by {self.date(d.due_date)}", 8))
            if d.amount_due_after_cents is not None and d.amount_due_after_cents != d.amount_due_cents:
                lines.append((FONT, f"After that date: {self.money(d.amount_due_after_cents)}", 7.5))
        if d.contest_deadline is not None:
            lines.append((FONT, f"Contest by {self.date(d.contest_deadline)}", 7.5))
        text.setFillColor(self.ink.ink)
        y -= 4
        for font, value, size in lines:
            if size > 10:  # the amount: one line, smaller type when a large sum would not fit
                size = min(size, size * width / max(text.stringWidth(value, font, size), 1.0))
                y -= size + 2.5
                text.setFont(font, size)
                text.drawString(x, y, value)
                continue
            text.setFont(font, size)
            y -= 2.5
            for part in _wrap(value, font, size, width):  # never into the code or past the box
                y -= size
                text.drawString(x, y, part)

    # ---- middle

    def _facts_rows(self) -> list[tuple[str, str]]:
        f = self.data.facts
        local = f.issued_at.astimezone(ZoneInfo(f.timezone_name))
        rows = [
            ("Date and time", fmt_datetime(local, f.timezone_name, self.profile)),
            ("Location", f.location),
            ("Vehicle plate", f"{f.plate} ({f.plate_jurisdiction})" + (f", {f.plate_type}" if f.plate_type else "")),
            ("Make / colour" if self.profile.code == "ENG" else "Make / color",
             " / ".join(p for p in (f.make, f.body_style, f.color) if p)),
            ("Contravention" if self.profile.code == "ENG" else "Violation",
             f"{f.violation_code}  {f.violation_description}"),
        ]
        if f.plate_expiry and self.profile.code != "ENG":  # CA Vehicle Code 40202(a): the registration expiry
            rows.append(("Registration expires", f.plate_expiry))
        if f.meter_number:
            rows.append(("Meter", f.meter_number))
        if f.officer_badge:
            rows.append(("Civil enforcement officer" if self.profile.code == "ENG" else "Officer badge", f.officer_badge))
        rows.append(("Penalty charge" if self.profile.code == "ENG" else "Fine", self.money(f.fine_cents)))
        if f.penalty_cents:
            rows.append(("Penalties added", self.money(f.penalty_cents)))
        if f.paid_cents:
            rows.append(("Paid to date", self.money(-f.paid_cents)))
        rows.append(("Balance", self.money(f.balance_cents)))
        return rows

    def _section_bar(self, canvas: Canvas, x: float, y: float, width: float, label: str,
                     text: PageText | None = None) -> None:
        canvas.setFillColor(self.ink.accent)
        canvas.rect(x, y - 3, width, 12, stroke=0, fill=1)
        out: Any = text or canvas
        out.setFillColor(self.ink.paper)
        out.setFont(FONT_BOLD, 7.5)
        out.drawString(x + 4, y, label)
        out.setFillColor(self.ink.ink)
        canvas.setFillColor(self.ink.ink)

    def _draw_facts_and_photo(self, canvas: Canvas, text: PageText) -> float:
        """Draws the facts (left) and the photo (right) below the upper fold; returns the lowest y used."""
        w, h = self.page_size
        top = self.insert.fold_ys[0] - 14
        photo_w = self.PHOTO_W
        left_w = w - 2 * MARGIN - photo_w - 14
        y = top - 15
        rows = self._facts_rows()
        label_w = max(92.0, max(text.stringWidth(label, FONT_BOLD, 7.2) for label, _ in rows) + 6)
        value_w = left_w - label_w - 4
        for label, value in rows:
            text.setFont(FONT_BOLD, 7.2)
            text.setFillColor(self.ink.grey)
            text.drawString(MARGIN, y, label)
            text.setFillColor(self.ink.ink)
            text.setFont(FONT, 8.2)
            one_line = " ".join(value.split())  # what the line breaker would make of a line that fits
            fits = text.stringWidth(one_line, FONT, 8.2) <= value_w  # most values do: skip the line breaker
            for line in ([one_line] if fits else simpleSplit(value, FONT, 8.2, value_w)[:3]):
                text.drawString(MARGIN + label_w, y, line)
                y -= 10
            y -= 1.5
        if self.data.penalty_schedule:
            y -= 4
            self._section_bar(canvas, MARGIN, y, left_w, "IF NOT PAID", text)
            y -= 14
            for step in self.data.penalty_schedule:
                when = f"after {self.date(step.effective_on)}" if step.effective_on else ""
                line = f"{step.description} {when}".strip()
                room = left_w - 120  # left of the two amounts
                size = min(7.8, max(6.0, 7.8 * room / max(text.stringWidth(line, FONT, 7.8), 1.0)))
                text.setFont(FONT, size)
                parts = _wrap(line, FONT, size, room)
                for part in parts[:-1]:
                    text.drawString(MARGIN, y, part)
                    y -= size + 1.5
                text.drawString(MARGIN, y, parts[-1])
                text.setFont(FONT, 7.8)
                text.drawRightString(MARGIN + left_w - 70, y, f"+{self.money(step.added_cents)}")
                text.setFont(FONT_BOLD, 7.8)
                text.drawRightString(MARGIN + left_w, y, self.money(step.total_due_cents))
                y -= 10
        lowest = y
        # Photo column
        px = w - MARGIN - photo_w
        photo_h = photo_w * 0.75
        py = top - 8 - photo_h
        photo = self.data.photo
        if photo is not None:
            canvas.drawImage(photo.path, px, py, photo_w, photo_h, preserveAspectRatio=True, anchor="c")
            canvas.setStrokeColor(self.ink.rule)
            canvas.setLineWidth(0.5)
            canvas.rect(px, py, photo_w, photo_h, stroke=1, fill=0)
            text.setFont(FONT, 6.8)
            text.setFillColor(self.ink.grey)
            caption = photo.caption
            if photo.taken_at is not None:
                caption = (caption + "  " if caption else "") + "Taken " + fmt_datetime(
                    photo.taken_at, self.data.facts.timezone_name, self.profile)
            text.drawString(px, py - 8, caption[:90])
            text.setFillColor(self.ink.ink)
            lowest = min(lowest, py - 12)
        else:
            canvas.setStrokeColor(self.ink.rule)
            canvas.rect(px, py, photo_w, photo_h, stroke=1, fill=0)
            text.setFont(FONT, 7.5)
            text.setFillColor(self.ink.grey)
            for k, part in enumerate(_wrap("Photographs may be viewed online or on request.", FONT, 7.5,
                                           photo_w - 12)):
                text.drawCentredString(px + photo_w / 2, py + photo_h / 2 - k * 9, part)
            text.setFillColor(self.ink.ink)
            lowest = min(lowest, py - 4)
        return lowest

    def _wrapped(self, col_w: float, style: ParagraphStyle) -> list[tuple[Paragraph, float]]:
        key = (type(self), self.profile.code, self.data.kind, self.agency, col_w, self.data.how_to_contest,
               style.name)
        cache = _wrapped_cache()
        hit = cache.get(key)
        if hit is not None:
            return hit
        out: list[tuple[Paragraph, float]] = []
        for k in self.keys_for_page():
            if k == "contest" and self.data.how_to_contest:
                markup = "<b>How to contest.</b> " + escape(self.data.how_to_contest)
            else:
                markup = wording(self.profile, self.agency, k)
            if not markup:
                continue
            p = Paragraph(markup, style)
            _, ph = p.wrap(col_w, 10_000)
            out.append((p, ph + style.spaceAfter))
        if len(cache) > 256:
            cache.clear()
        cache[key] = out
        return out

    def _draw_wording(self, canvas: Canvas, top: float, bottom: float) -> None:
        """Standing wording in two columns between the facts and the coupon; tighter type if needed."""
        w, _ = self.page_size
        gap = 14
        col_w = (w - 2 * MARGIN - gap) / 2
        for style in _WORDING_STYLES:
            items = self._wrapped(col_w, style)
            if self._columns(items, top - bottom) is not None:
                break
        columns = self._columns(items, top - bottom)
        if columns is None:  # never printed over the coupon: an agency's own wording too long for the page
            raise LayoutError(f"the standing wording of the {self.title.lower()} does not fit its page even at "
                              f"6.1 point; shorten the agency's wording overrides")
        for i, col in enumerate(columns):
            x = MARGIN + i * (col_w + gap)
            y = top
            for p, ph in col:
                p.drawOn(canvas, x, y - ph + p.style.spaceAfter)
                y -= ph
        canvas.setFont(FONT, 6.2)
        canvas.setFillColor(self.ink.grey)
        footer = wording(self.profile, self.agency, "footer")
        canvas.drawString(MARGIN, bottom - 10, footer)
        canvas.setFillColor(self.ink.ink)

    @staticmethod
    def _columns(items: list[tuple[Paragraph, float]], height: float) -> list[list[tuple[Paragraph, float]]] | None:
        cols: list[list[tuple[Paragraph, float]]] = [[], []]
        used = [0.0, 0.0]
        c = 0
        for item in items:
            if used[c] + item[1] > height:
                c += 1
                if c > 1 or item[1] > height:
                    return None
            cols[c].append(item)
            used[c] += item[1]
        return cols

    # ---- bottom coupon

    def _coupon_rows(self) -> list[tuple[str, str]]:
        d = self.data
        f = d.facts
        return [
            (f"{self.profile.citation_label} number", f.citation_number),
            ("Vehicle plate", f"{f.plate} ({f.plate_jurisdiction})"),
            ("Name", d.recipient.name),
            ("Amount due", self.money(d.amount_due_cents)),
            ("Due date", self.date(d.due_date)),
        ]

    def _draw_coupon_static(self, canvas: Canvas) -> None:
        w, _ = self.page_size
        top = MARGIN + self.COUPON_HEIGHT
        canvas.saveState()
        canvas.setStrokeColor(self.ink.rule)
        canvas.setDash(3, 2)
        canvas.line(0.25 * geo.INCH, top + 6, w - 0.25 * geo.INCH, top + 6)
        canvas.restoreState()
        canvas.setFont(FONT, 6.5)
        canvas.setFillColor(self.ink.grey)
        slip = "payment slip" if self.profile.code == "ENG" else "portion"
        canvas.drawCentredString(w / 2, top + 9, f"DETACH AND RETURN THIS {slip.upper()} WITH YOUR PAYMENT")
        canvas.setFillColor(self.ink.ink)
        # Left: remittance address, laid out for a #9 reply envelope window.
        x = MARGIN
        y = top - 12
        canvas.setFont(FONT_BOLD, 7)
        canvas.setFillColor(self.ink.grey)
        canvas.drawString(x, y, "MAIL PAYMENT TO")
        canvas.setFillColor(self.ink.ink)
        y -= 12
        canvas.setFont(FONT_BOLD, 9)
        canvas.drawString(x + 0.25 * geo.INCH, y, self.agency.payee)
        canvas.setFont(FONT, 9)
        for line in self.agency.remittance_lines:
            y -= 11
            canvas.drawString(x + 0.25 * geo.INCH, y, line)
        y -= 18
        canvas.setFont(FONT_BOLD, 7)
        canvas.setFillColor(self.ink.grey)
        canvas.drawString(x, y, "CONTEST BY MAIL")
        canvas.setFillColor(self.ink.ink)
        canvas.setFont(FONT, 7.5)
        for line in self.agency.contest_lines[:3]:
            y -= 9
            canvas.drawString(x + 0.25 * geo.INCH, y, line)
        cx = w / 2 + 10
        cw = w - MARGIN - cx
        y = top - 12
        for label, _ in self._coupon_rows():
            canvas.setFont(FONT_BOLD, 7)
            canvas.setFillColor(self.ink.grey)
            canvas.drawString(cx, y, label.upper())
            canvas.setStrokeColor(self.ink.rule)
            canvas.setLineWidth(0.3)
            canvas.line(cx, y - 3, cx + cw, y - 3)
            y -= 13
        canvas.drawString(cx, y - 4, "AMOUNT ENCLOSED")
        canvas.setFillColor(self.ink.ink)
        canvas.setStrokeColor(self.ink.ink)
        canvas.setLineWidth(0.8)
        canvas.rect(cx + cw - 110, y - 9, 110, 16, stroke=1, fill=0)
        canvas.setFont(FONT, 9)
        canvas.drawString(cx + cw - 106, y - 4, self.profile.currency_symbol)

    def _draw_coupon(self, canvas: Canvas, text: PageText) -> None:
        """The coupon's values: the citation's facts, Code 128 and the scan line."""
        w, _ = self.page_size
        d = self.data
        f = d.facts
        top = MARGIN + self.COUPON_HEIGHT
        cx = w / 2 + 10
        cw = w - MARGIN - cx
        y = top - 12
        text.setFillColor(self.ink.ink)
        room = cw - 78  # right of the longest label
        for label, value in self._coupon_rows():
            font = FONT_BOLD if label == "Amount due" else FONT
            size = 8.5
            width = text.stringWidth(value, font, size)
            if width > room:  # a long name: smaller type, never cut (down to 6 pt, then two lines)
                size = max(6.0, size * room / width)
            text.setFont(font, size)
            parts = _wrap(value, font, size, room)[:2]  # a name longer than this never fits the window: held
            for k, part in enumerate(parts):
                lift = (len(parts) - 1 - k) * (size + 0.5) - (3 if len(parts) > 1 else 0)
                text.drawRightString(cx + cw, y + lift, part)
            y -= 13
        draw_code128(canvas, f.citation_number, cx, MARGIN + 10, bar_height=0.25 * geo.INCH, text=text)
        # Scan line for the remittance processor: citation, amount in cents, due date.
        text.setFillColor(self.ink.ink)
        text.setFont(FONT_MONO, 8.5)
        text.drawRightString(w - MARGIN, MARGIN,
                               f"{f.citation_number} {d.amount_due_cents:09d} {d.due_date:%Y%m%d} {self.profile.code}")


@lru_cache(maxsize=64)
def _title_layout(title: str, page_w: float, left: float) -> tuple[float, list[str]]:
    width = page_w - MARGIN - left
    for size in (12.5, 11.5, 10.5, 9.5):
        lines = simpleSplit(title, FONT_BOLD, size, width)
        if len(lines) <= 2:
            return size, lines
    return 9.5, lines


@lru_cache(maxsize=1024)
def _wrap(value: str, font: str, size: float, width: float) -> list[str]:
    return simpleSplit(value, font, size, width) or [""]


class NoticeOfViolation(MailedNotice):
    """First mailed notice of a parking violation (California and New York City)."""

    kinds = (NoticeKind.VIOLATION,)
    profiles = ("CA", "NYC")

    def keys_for_page(self) -> list[str]:
        keys = ["pay", "contest"]
        keys += ["penalties"] if self.profile.code == "NYC" else ["mismatch"]
        keys.append("consequence.violation")
        return keys


class NoticeToOwner(MailedNotice):
    """England: the Notice to Owner served after a Penalty Charge Notice went unpaid (TMA 2004)."""

    kinds = (NoticeKind.NOTICE_TO_OWNER,)
    profiles = ("ENG",)

    def keys_for_page(self) -> list[str]:
        keys = ["consequence.notice_to_owner", "contest", "pay"]
        if self.data.discount_cents is not None:
            keys.insert(0, "discount")
        return keys


class DelinquentNotice(MailedNotice):
    """California notice of delinquent violation; New York City notice of penalty."""

    kinds = (NoticeKind.DELINQUENT,)
    profiles = ("CA", "NYC")

    def keys_for_page(self) -> list[str]:
        keys = ["consequence.delinquent", "pay", "contest"]
        keys += ["plan", "non_liability"] if self.profile.code == "CA" else ["penalties"]
        return keys


class FinalNotice(MailedNotice):
    """Last notice before collections (CA), judgment (NYC) or enforcement (England)."""

    kinds = (NoticeKind.FINAL,)

    def keys_for_page(self) -> list[str]:
        keys = ["consequence.final", "pay"]
        if self.profile.code == "CA":
            keys += ["contest", "plan", "non_liability"]
        elif self.profile.code == "NYC":
            keys += ["contest", "penalties"]
        return keys


class ChargeCertificate(MailedNotice):
    """England: the Charge Certificate, the penalty charge increased by 50 %."""

    kinds = (NoticeKind.CHARGE_CERTIFICATE,)
    profiles = ("ENG",)

    def keys_for_page(self) -> list[str]:
        return ["consequence.charge_certificate", "pay"]


_BY_KIND: dict[tuple[NoticeKind, str], type[MailedNotice]] = {}
for _cls in (NoticeOfViolation, NoticeToOwner, DelinquentNotice, FinalNotice, ChargeCertificate):
    for _kind in _cls.kinds:
        for _prof in _cls.profiles:
            _BY_KIND[(_kind, _prof)] = _cls


def notice_class_for(data: NoticeData) -> type[MailedNotice]:
    """The document class that prints this notice under its profile (England's first notice is an NtO)."""
    key = (data.kind, data.profile_code.upper())
    if key == (NoticeKind.VIOLATION, "ENG"):
        return NoticeToOwner
    try:
        return _BY_KIND[key]
    except KeyError:
        raise ValueError(f"no {data.kind.value} notice under profile {data.profile_code}") from None
