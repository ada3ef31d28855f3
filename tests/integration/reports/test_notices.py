"""Mailed notices: required wording per jurisdiction, barcodes' content and their position on the page."""

from __future__ import annotations

import re

import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth

from reports import geometry as geo
from reports.base import FONT, make_imb
from reports.data import EvidencePhoto, NoticeKind
from reports.notices import (
    ChargeCertificate,
    DelinquentNotice,
    FinalNotice,
    NoticeOfViolation,
    NoticeToOwner,
    notice_class_for,
)
from reports.samples import sample_notice

from .pdfprobe import reader, rects, text_runs


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader(pdf).pages))


def test_california_notice_states_penalty_payment_by_mail_and_how_to_contest(evidence_photos: list[EvidencePhoto]) -> None:
    n = sample_notice("CA", NoticeKind.VIOLATION, photo=evidence_photos[0])
    pdf = NoticeOfViolation(n).render()
    t = _text(pdf)
    assert len(reader(pdf).pages) == 1
    assert "NOTICE OF PARKING VIOLATION" in t
    assert "$63.00" in t and "$93.00" in t  # penalty now and after the due date
    assert "Payment may be sent by mail" in t
    assert "21 days" in t and "14 days" in t and "40215" in t
    assert "PO Box 30421" in t  # pay-by-mail address
    assert "pay.riversidebay.example.gov" in t


def test_california_delinquent_mentions_dmv_hold_and_payment_plan() -> None:
    t = _text(DelinquentNotice(sample_notice("CA", NoticeKind.DELINQUENT)).render())
    assert "NOTICE OF DELINQUENT PARKING VIOLATION" in t
    assert "Department of Motor Vehicles" in t
    assert "$25 a month" in t and "40220" in t


def test_nyc_notice_30_days_and_penalty_ladder() -> None:
    t = _text(NoticeOfViolation(sample_notice("NYC", NoticeKind.VIOLATION)).render())
    assert "30 days" in t and "pay or dispute" in t
    assert "$10" in t and "$20" in t and "$30" in t and "60 days" in t and "90 days" in t
    t = _text(FinalNotice(sample_notice("NYC", NoticeKind.FINAL)).render())
    assert "judgment" in t


def test_england_notice_to_owner_grounds_and_charge_certificate_increase() -> None:
    t = _text(NoticeToOwner(sample_notice("ENG", NoticeKind.NOTICE_TO_OWNER)).render())
    assert "NOTICE TO OWNER" in t
    assert "28 days" in t and "56 days" in t and "deemed accepted" in t
    assert "procedural impropriety" in t and "(h)" in t
    assert "50%" in t and "\u00a370.00" in t
    t = _text(ChargeCertificate(sample_notice("ENG", NoticeKind.CHARGE_CERTIFICATE)).render())
    assert "CHARGE CERTIFICATE" in t and "increased by 50%" in t and "\u00a3105.00" in t


def test_england_first_notice_is_a_notice_to_owner_and_us_classes_refuse_eng() -> None:
    n = sample_notice("ENG", NoticeKind.VIOLATION)
    assert notice_class_for(n) is NoticeToOwner
    with pytest.raises(ValueError):
        NoticeOfViolation(n)
    with pytest.raises(ValueError):
        ChargeCertificate(sample_notice("CA", NoticeKind.VIOLATION))


def test_agency_wording_override_is_printed() -> None:
    from dataclasses import replace

    n = sample_notice("CA")
    agency = replace(n.agency, wording_overrides={"mismatch": "Wrong car? Call the Riverside Bay hotline now."})
    t = _text(NoticeOfViolation(replace(n, agency=agency)).render())
    assert "Riverside Bay hotline" in t and "40209" not in t


@pytest.mark.parametrize("profile,kind", [("CA", NoticeKind.VIOLATION), ("NYC", NoticeKind.DELINQUENT),
                                          ("ENG", NoticeKind.NOTICE_TO_OWNER)])
def test_address_lines_print_inside_the_window_when_folded(profile: str, kind: NoticeKind) -> None:
    n = sample_notice(profile, kind)
    doc = notice_class_for(n)(n)
    pdf = doc.render()
    layout = doc.address_layout(n.recipient, n.mail)
    insert = doc.insert
    window = insert.envelope.address_window.inset(geo.WINDOW_CLEARANCE)
    runs = text_runs(pdf)
    for printed in layout.lines:
        match = [r for r in runs if r.text == printed]
        assert match, f"address line {printed!r} not found on the page"
        run = match[0]
        width = stringWidth(printed, FONT, run.font_size)
        ascent, descent = geo.line_extent(printed)
        box = geo.Rect(run.x, run.y - descent * run.font_size, width, (ascent + descent) * run.font_size)
        assert layout.block.contains(box, tolerance=0.5)
        for sx, sy in insert.extreme_positions():
            assert window.contains(insert.page_to_envelope(box, sx, sy)), (printed, sx, sy)


def test_imb_drawn_in_address_block_encodes_tracking_and_routing() -> None:
    n = sample_notice("CA", NoticeKind.VIOLATION, number=7)
    doc = NoticeOfViolation(n)
    pdf = doc.render()
    layout = doc.address_layout(n.recipient, n.mail)
    assert layout.imb is not None and layout.imb_bars is not None
    widget = make_imb(n.mail, n.recipient.routing_code)
    assert widget.tracking == "00300123456100000007"
    assert widget.routing == "94501221047"
    bars = sorted((r for r in rects(pdf) if layout.imb.contains(geo.Rect(*r), tolerance=0.01)), key=lambda r: r[0])
    assert len(bars) == 65  # USPS-B-3200: 65 bars
    # Decode the drawn bars back to F/A/D/T and compare with what the tracking + routing encode.
    v = widget._getBarVInfo(widget.verticalClearZone + widget.barHeight * 0.5)  # noqa: SLF001
    expected = {k: (layout.imb.y + y, h) for k, (y, h) in v.items()}
    drawn = ""
    for _, y, _, h in bars:
        drawn += next(k for k, (ey, eh) in expected.items() if abs(ey - y) < 0.05 and abs(eh - h) < 0.05)
    assert drawn == widget.barcodes
    # Bars' extent respects the clear zones inside the block.
    assert bars[0][0] >= layout.imb.x + 0.125 * 72 - 0.01
    assert bars[-1][0] + bars[-1][2] <= layout.imb.right - 0.125 * 72 + 0.01
    assert layout.block.contains(layout.imb_bars)


def test_citation_code128_and_scan_line() -> None:
    n = sample_notice("NYC", NoticeKind.VIOLATION, number=3)
    pdf = NoticeOfViolation(n).render()
    runs = text_runs(pdf)
    number = n.facts.citation_number
    # human-readable line under each Code 128 (header and coupon), with bars just above it
    readable = [r for r in runs if r.text == number and r.font_size == 7.5]
    assert len(readable) == 2
    all_rects = rects(pdf)
    for r in readable:
        above = [b for b in all_rects if abs(b[1] - (r.y - 1.5 + 9)) < 1 and b[3] > 15]
        assert len(above) > 20, "Code 128 bars not found above its human-readable line"
    assert any(r.text.startswith(f"{number} 000006500 20250403 NYC") for r in runs)


def test_reprint_is_marked() -> None:
    t = _text(NoticeOfViolation(sample_notice("CA", reprint=True)).render())
    assert "REPRINT" in t


def test_all_notice_kinds_render_one_page() -> None:
    for profile, kind in [("CA", NoticeKind.VIOLATION), ("CA", NoticeKind.DELINQUENT), ("CA", NoticeKind.FINAL),
                          ("NYC", NoticeKind.VIOLATION), ("NYC", NoticeKind.DELINQUENT), ("NYC", NoticeKind.FINAL),
                          ("ENG", NoticeKind.NOTICE_TO_OWNER), ("ENG", NoticeKind.CHARGE_CERTIFICATE),
                          ("ENG", NoticeKind.FINAL)]:
        n = sample_notice(profile, kind)
        pdf = notice_class_for(n)(n).render()
        assert len(reader(pdf).pages) == 1, (profile, kind)
