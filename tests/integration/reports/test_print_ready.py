"""Print-ready PDFs: every font embedded (pdffonts), black ink only in the default mode, any script prints."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from reports.batch import render_batch, render_letter_batch
from reports.data import EvidencePhoto, MailPiece, NoticeKind
from reports.hearing import HearingDocket, HearingPacket
from reports.letters import (
    AppealAcknowledgement,
    DecisionLetter,
    HearingNotice,
    PaymentReceipt,
    RefundLetter,
    ReversalLetter,
    ThermalReceipt,
)
from reports.notices import notice_class_for
from reports.photos import make_print_derivative
from reports.samples import (
    AGENCIES,
    RECIPIENTS,
    sample_acknowledgement,
    sample_decision,
    sample_docket,
    sample_hearing_notice,
    sample_notice,
    sample_receipt,
    sample_refund,
    sample_reversal,
)
from tests.integration.reports.conftest import _make_photo
from tests.integration.reports.pdfprobe import colour_problems, reader, unembedded_fonts

pytestmark = pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils not installed")

LETTER_CLASSES: list[tuple[Any, Any]] = [
    (HearingNotice, sample_hearing_notice), (DecisionLetter, sample_decision),
    (AppealAcknowledgement, sample_acknowledgement), (RefundLetter, sample_refund),
    (ReversalLetter, sample_reversal), (PaymentReceipt, sample_receipt)]
KINDS = {"CA": (NoticeKind.VIOLATION, NoticeKind.DELINQUENT, NoticeKind.FINAL),
         "NYC": (NoticeKind.VIOLATION, NoticeKind.DELINQUENT, NoticeKind.FINAL),
         "ENG": (NoticeKind.NOTICE_TO_OWNER, NoticeKind.FINAL, NoticeKind.CHARGE_CERTIFICATE)}


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> EvidencePhoto:
    d = tmp_path_factory.mktemp("photo")
    _make_photo(d / "colour.jpg", 3)  # a colour photo: the print copy must be grey
    return EvidencePhoto(str(make_print_derivative(d / "colour.jpg", d / "print.jpg")), "Front")


def _every_document(photo: EvidencePhoto, tmp: Path) -> dict[str, bytes]:
    docs: dict[str, bytes] = {}
    for profile, kinds in KINDS.items():
        batch = [sample_notice(profile, k, number=i + 1, photo=photo) for i, k in enumerate(kinds)]
        path = tmp / f"{profile}-notices.pdf"
        render_batch(batch, path)
        docs[f"{profile} notices"] = path.read_bytes()
        letters = [(cls(make(profile)), False) for cls, make in LETTER_CLASSES]
        path = tmp / f"{profile}-letters.pdf"
        render_letter_batch(letters + [(letters[0][0], True)], path)  # a reprint stamp too
        docs[f"{profile} letters"] = path.read_bytes()
        docs[f"{profile} thermal receipt"] = ThermalReceipt(sample_receipt(profile)).render()
    docs["docket"] = HearingDocket(sample_docket()).render()
    return docs


def test_every_font_of_every_document_is_embedded(photo: EvidencePhoto, tmp_path: Path) -> None:
    docs = _every_document(photo, tmp_path)
    docs["packet"] = HearingPacket(_packet(photo)).render()
    for name, pdf in docs.items():
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        assert unembedded_fonts(str(path)) == [], name


def test_black_only_mode_prints_no_cyan_magenta_or_yellow(photo: EvidencePhoto, tmp_path: Path) -> None:
    for name, pdf in _every_document(photo, tmp_path).items():
        assert colour_problems(pdf) == [], name
    with Image.open(photo.path) as im:
        assert im.mode == "L"  # the print copy is grey: drawn as a DeviceGray image


def test_colour_is_an_option_for_the_agency_colours_only(photo: EvidencePhoto) -> None:
    n = sample_notice("CA", NoticeKind.FINAL, photo=photo)
    coloured = replace(n, mail=replace(n.mail, colour=True))
    problems = colour_problems(notice_class_for(coloured)(coloured).render())
    assert problems and all(" k" in p or " K" in p for p in problems)  # CMYK accents, nothing RGB
    # the barcodes and text stay solid black: the IMb, Code 128 and QR fill with 0 0 0 1 k
    assert not colour_problems(notice_class_for(n)(n).render())


def test_names_in_any_script_print_with_their_own_letters() -> None:
    name = "Łukasz Şahin-Nguyễn Ἀλέξανδρος Достоевский"
    n = replace(sample_notice("ENG", NoticeKind.NOTICE_TO_OWNER), recipient=replace(RECIPIENTS["ENG"], name=name))
    text = reader(notice_class_for(n)(n).render()).pages[0].extract_text()
    for word in name.split():
        assert word in text


def _packet(photo: EvidencePhoto) -> Any:
    from reports.samples import sample_packet

    return sample_packet("CA", (photo,), None, ())


def test_agency_name_of_any_length_wraps_on_the_thermal_receipt() -> None:
    agency = replace(AGENCIES["CA"], name="Riverside Bay Municipal Transportation and Parking Enforcement Authority")
    pdf = ThermalReceipt(replace(sample_receipt(), agency=agency)).render()
    text = reader(pdf).pages[0].extract_text()
    lines = [line.strip() for line in text.splitlines()]
    # every word of the name is printed, at word boundaries: no line ends mid-word
    assert " ".join(lines[:3]).startswith(agency.name)
    assert all(line in agency.name.split() or " " in line or line == "" for line in lines[:2])


def test_mail_piece_defaults_print_black_only() -> None:
    assert MailPiece().colour is False and MailPiece().envelope == ""


def test_agency_wording_too_long_for_the_page_is_refused_not_printed_over_the_coupon() -> None:
    from reports.geometry import LayoutError

    n = sample_notice("ENG", NoticeKind.NOTICE_TO_OWNER)
    long = "<b>How to pay.</b> " + "Pay by any of the many ways listed here, all of them explained at length. " * 60
    wordy = replace(n, agency=replace(n.agency, wording_overrides={"pay": long}))
    doc = notice_class_for(wordy)(wordy)
    assert "shorten the agency's wording overrides" in (doc.layout_problem() or "")
    with pytest.raises(LayoutError):
        doc.render()
    assert notice_class_for(n)(n).layout_problem() is None
