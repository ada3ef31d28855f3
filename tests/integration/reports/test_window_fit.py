"""Every mailed document, folded into its envelope: what shows through each window at the insert's limits.

Read from the rendered page, not from the layout code: each document's first page is rasterised with
pdftoppm and its words located with `pdftotext -bbox`. For each of the four extreme positions of the
insert (the envelope's play: half an inch either way sideways and the play up, per the envelope's data),
the windows are placed on the page with this test's own arithmetic, and:

- every word of the recipient block is inside the address window, and no ink at all within 1/8 in of its
  edges (DMM 601.6.3);
- no other word, and no other ink at all (boxes, rules, QR code, photo), is anywhere in the window:
  only the recipient's words and the IMb's bars;
- the IMb's clear zones (1/8 in left and right, 0.028 in above and below, DMM 708.4.4) are blank and
  inside the window;
- the upper window shows the agency's name and return address whole, and nothing else.

With the longest realistic names and address lines (wrapped, never clipped) and names outside Latin-1.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from reports import geometry as geo
from reports.data import NoticeKind, Recipient
from reports.letters import (
    AppealAcknowledgement,
    DecisionLetter,
    HearingNotice,
    PaymentReceipt,
    RefundLetter,
    ReversalLetter,
)
from reports.notices import notice_class_for
from reports.samples import (
    AGENCIES,
    sample_acknowledgement,
    sample_decision,
    sample_hearing_notice,
    sample_notice,
    sample_receipt,
    sample_refund,
    sample_reversal,
)

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                                reason="poppler-utils not installed")

DPI = 200
# Poppler's word box runs from 0.76 em above the baseline to 0.24 em below (one em tall); accents stacked
# over a DejaVu Sans capital (Ễ) reach 1.07 em, 0.31 of the box higher.
_ACCENTS = 0.32
PX = DPI / 72.0  # pixels per point

LONGEST: dict[str, Recipient] = {
    # a registry name of 45 characters and a street line of 48: both wrap in a #10 window
    "CA": Recipient("María de los Ángeles Hernández-Villanueva Ruiz", ("12345 N Martin Luther King Jr Blvd Apt 1234",),
                    "Rancho Santa Margarita", "CA", "92688", zip4="2154", delivery_point="47"),
    "NYC": Recipient("Łukasz Şahin-Nguyễn Brzęczyszczykiewicz", ("2345 Frederick Douglass Blvd Apt 12C",),
                     "New York", "NY", "10027", zip4="1134", delivery_point="25"),
    # England's six-line address (name, flat, street, locality, town, county, postcode)
    "ENG": Recipient("Mr Łukasz Şahin-Nguyễn Montgomery-Fairweather",
                     ("Flat 12, Kensington Court Mansions", "4 Marloes Road, Little Wenham"),
                     "Ashford Vale", "Kent", "AV3 7QT"),
}

NOTICE_KINDS = {"CA": (NoticeKind.VIOLATION, NoticeKind.DELINQUENT, NoticeKind.FINAL),
                "NYC": (NoticeKind.VIOLATION, NoticeKind.DELINQUENT, NoticeKind.FINAL),
                "ENG": (NoticeKind.NOTICE_TO_OWNER, NoticeKind.FINAL, NoticeKind.CHARGE_CERTIFICATE)}
LETTERS = {"HearingNotice": (HearingNotice, sample_hearing_notice), "DecisionLetter": (DecisionLetter, sample_decision),
           "AppealAcknowledgement": (AppealAcknowledgement, sample_acknowledgement),
           "RefundLetter": (RefundLetter, sample_refund), "ReversalLetter": (ReversalLetter, sample_reversal),
           "PaymentReceipt": (PaymentReceipt, sample_receipt)}


def _documents() -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    for profile, kinds in NOTICE_KINDS.items():
        for kind in kinds:
            n = replace(sample_notice(profile, kind), recipient=LONGEST[profile])
            out.append((profile, f"{profile}-{kind.value}", notice_class_for(n)(n)))
        for name, (cls, make) in LETTERS.items():
            out.append((profile, f"{profile}-{name}", cls(replace(make(profile), recipient=LONGEST[profile]))))
    return out


DOCUMENTS = _documents()


def _words(pdf: Path) -> list[tuple[str, float, float, float, float]]:
    """(word, x0, y0, x1, y1) in points from the page's top-left, as poppler reads the first page."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    found = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', out)
    return [(html.unescape(w), float(a), float(b), float(c), float(d)) for a, b, c, d, w in found]


def _ink(pdf: Path, tmp: Path) -> np.ndarray:
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(tmp / "page")], check=True, timeout=60)
    with Image.open(tmp / "page.pgm") as im:
        return np.asarray(im) < 250  # any tint at all, even the lightest box shade, counts as ink


def _windows(doc: Any) -> list[tuple[str, geo.Rect, float]]:
    """(which, window in envelope coordinates, clearance) for the document's envelope."""
    env = doc.insert.envelope
    out = [("address", env.address_window, 0.125 * 72)]
    if env.return_window is not None:
        out.append(("return", env.return_window, 72 / 16))
    return out


def _on_page(doc: Any, window: geo.Rect, sx: float, sy: float) -> tuple[float, float, float, float]:
    """The window over the sheet with the insert shifted by (sx, sy), as (left, top, right, bottom) in points
    from the page's top-left. The folded sheet rests on its upper fold, centred, and moves by the play."""
    ins = doc.insert
    page_w, page_h = doc.page_size
    fold_from_bottom = page_h - ins.folds[0]
    left = window.x - (ins.envelope.width - page_w) / 2 - sx
    bottom = window.y + fold_from_bottom - sy
    return left, page_h - (bottom + window.height), left + window.width, page_h - bottom


def _positions(doc: Any) -> list[tuple[float, float]]:
    ins, env = doc.insert, doc.insert.envelope
    page_w, _ = doc.page_size
    folded = max(ins.folds[0], ins.folds[1] - ins.folds[0], doc.page_size[1] - ins.folds[1])
    play_x = (env.inside_width - page_w) / 2
    play_up = env.inside_height - folded
    return [(sx, sy) for sx in (-play_x, play_x) for sy in (0.0, play_up)]


def _expected_words(doc: Any, which: str) -> list[str]:
    if which == "address":
        lines = doc.address_lines(doc.data.recipient)
    else:
        a = doc.agency
        lines = [a.name, a.department, *a.return_address_lines]
    return sorted(w for line in lines for w in line.split())


@pytest.mark.parametrize("profile,name,doc", DOCUMENTS, ids=[d[1] for d in DOCUMENTS])
def test_only_the_address_shows_through_the_windows_at_every_position(profile: str, name: str, doc: Any,
                                                                      tmp_path: Path) -> None:
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(doc.render())
    ink = _ink(pdf, tmp_path)
    words = _words(pdf)
    rows, cols = ink.shape
    positions = _positions(doc)
    assert len(positions) == 4 and max(abs(sx) for sx, _ in positions) > 0.19 * 72
    for which, window, clearance in _windows(doc):
        expected = _expected_words(doc, which)
        for sx, sy in positions:
            left, top, right, bottom = _on_page(doc, window, sx, sy)
            where = f"{name}: {which} window, insert moved {sx / 72:+.2f} in sideways, {sy / 72:.2f} in up"
            inside = [w for w in words if w[1] < right and w[3] > left and w[2] < bottom and w[4] > top]
            assert sorted(w[0] for w in inside) == expected, where
            for word, x0, y0, x1, y1 in inside:  # whole: no word cut by an edge
                assert x0 >= left and x1 <= right and y0 >= top and y1 <= bottom, (where, word)
            # the clearance: a blank band along every edge (DMM 601.6.3), read from the ink; the pixel at
            # the band's inner edge may carry a glyph's antialiasing
            band = ink[max(0, int(top * PX)):int(bottom * PX), max(0, int(left * PX)):int(right * PX)].copy()
            inner = int(clearance * PX) - 1
            band[inner:band.shape[0] - inner, inner:band.shape[1] - inner] = False
            assert not band.any(), f"{where}: ink within {clearance / 72:.3f} in of the window's edge"
            # every inked pixel in the window belongs to those words or to the IMb's bars
            allowed = np.zeros_like(ink)
            for _, x0, y0, x1, y1 in inside:
                above = _ACCENTS * (y1 - y0)  # poppler's box stops at the font's ascent; stacked accents do not
                allowed[max(0, int((y0 - above) * PX) - 2):int(y1 * PX) + 3,
                        max(0, int(x0 * PX) - 2):int(x1 * PX) + 3] = True
            win = (slice(max(0, int(top * PX)), min(rows, int(bottom * PX) + 1)),
                   slice(max(0, int(left * PX)), min(cols, int(right * PX) + 1)))
            stray = ink[win] & ~allowed[win]
            if which == "address" and doc.profile.uses_imb and stray.any():
                stray = _check_imb(ink, stray, win, inside, (left, top, right, bottom), where)
            assert not stray.any(), f"{where}: {int(stray.sum())} pixels of something else show"


def _check_imb(ink: np.ndarray, stray: np.ndarray, win: tuple[slice, slice], words: list[Any],
               window: tuple[float, float, float, float], where: str) -> np.ndarray:
    """The ink above the first address line must be the IMb: a run of bars with blank clear zones, inside
    the window; returns what is left once the bars are accounted for."""
    first_line_top = min(w[2] - _ACCENTS * (w[4] - w[2]) for w in words)
    ys, xs = np.nonzero(stray)
    ys = ys + win[0].start
    xs = xs + win[1].start
    bars = ys < first_line_top * PX
    assert bars.any(), f"{where}: no IMb above the address"
    x0, x1 = xs[bars].min() / PX, (xs[bars].max() + 1) / PX
    y0, y1 = ys[bars].min() / PX, (ys[bars].max() + 1) / PX
    assert 2.667 * 72 - 1 <= x1 - x0 <= 3.225 * 72 + 1, (where, x1 - x0)  # USPS-B-3200 length
    assert 0.125 * 72 - 1 <= y1 - y0 <= 0.165 * 72 + 1, (where, y1 - y0)  # full-bar height
    cz_x, cz_y = 0.125 * 72, 0.028 * 72
    left, top, right, bottom = window
    assert x0 - cz_x >= left - 0.5 and x1 + cz_x <= right + 0.5 and y0 - cz_y >= top - 0.5 \
        and y1 + cz_y <= bottom + 0.5, f"{where}: the IMb's clear zone leaves the window"
    by0, by1, bx0, bx1 = ys[bars].min(), ys[bars].max() + 1, xs[bars].min(), xs[bars].max() + 1
    czy, czx = int(cz_y * PX), int(cz_x * PX)  # whole pixels of clear zone (the last one may be antialiased)
    zone = ink[by0 - czy:by1 + czy, bx0 - czx:bx1 + czx].copy()
    zone[czy:czy + by1 - by0, czx:czx + bx1 - bx0] = False
    assert not zone.any(), (f"{where}: something prints in the IMb's clear zone", np.argwhere(zone)[:5])
    rest = stray.copy()
    rest[(ys[bars] - win[0].start), (xs[bars] - win[1].start)] = False
    return rest


def test_an_address_too_long_for_the_window_is_refused_with_the_reason() -> None:
    long_line = "Flat 12, Kensington Court Mansions, Marloes Road"
    r = replace(LONGEST["ENG"], address_lines=(long_line, long_line, long_line, long_line))
    n = replace(sample_notice("ENG", NoticeKind.NOTICE_TO_OWNER), recipient=r)
    doc = notice_class_for(n)(n)
    problem = doc.layout_problem()
    assert problem is not None and "lines in the address window of the DL window envelope" in problem and "shorten" in problem
    with pytest.raises(geo.AddressDoesNotFit):
        doc.render()
    assert notice_class_for(sample_notice("ENG", NoticeKind.NOTICE_TO_OWNER))(
        sample_notice("ENG", NoticeKind.NOTICE_TO_OWNER)).layout_problem() is None


def test_a_long_agency_department_wraps_inside_the_upper_window() -> None:
    agency = replace(AGENCIES["CA"], department="Department of Transportation — Parking Enforcement and Adjudication")
    n = replace(sample_notice("CA", NoticeKind.FINAL), agency=agency)
    doc = notice_class_for(n)(n)
    layout = doc.return_layout()
    assert layout is not None and len(layout.lines) >= 5  # name, department on two lines, two address lines
    assert " ".join(t for t, bold, _, _ in layout.lines if not bold).startswith(agency.department)
