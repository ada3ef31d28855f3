"""Batches (atomic, cancellable, parallel), every document type, photo derivatives, and PNG previews."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from reports.base import StoryDocument
from reports.batch import render_batch, render_batches_parallel
from reports.data import AppellantDocument, Decision, DigestRow, EvidencePhoto, NoticeKind
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
    sample_acknowledgement,
    sample_decision,
    sample_docket,
    sample_hearing_notice,
    sample_notice,
    sample_packet,
    sample_receipt,
    sample_refund,
    sample_reversal,
)

from .pdfprobe import reader

MISC = Path("/work/shared/data/photos_exif/misc")


def _notices(photos: list[EvidencePhoto], count: int) -> list:
    profiles = [("CA", NoticeKind.VIOLATION), ("NYC", NoticeKind.DELINQUENT), ("ENG", NoticeKind.NOTICE_TO_OWNER)]
    return [sample_notice(*profiles[i % 3], number=i + 1, photo=photos[i % len(photos)]) for i in range(count)]


def test_batch_one_page_per_notice_under_150_kb_a_page(tmp_path: Path, evidence_photos: list[EvidencePhoto]) -> None:
    notices = _notices(evidence_photos, 44)
    seen: list[tuple[int, int]] = []
    result = render_batch(notices, tmp_path / "run.pdf", progress=lambda d, t: seen.append((d, t)))
    assert result.path == tmp_path / "run.pdf" and result.pages == 44
    pdf = result.path.read_bytes()
    r = reader(pdf)
    assert len(r.pages) == 44
    for page, notice in zip(r.pages, notices, strict=False):
        assert notice.facts.citation_number in page.extract_text()
    assert result.bytes_written / result.pages <= 150 * 1024
    assert seen[-1] == (44, 44) and len(seen) == 44
    assert [p.name for p in tmp_path.iterdir()] == ["run.pdf"]


def test_same_photo_is_embedded_once(tmp_path: Path, evidence_photos: list[EvidencePhoto]) -> None:
    one = [sample_notice("CA", number=i, photo=evidence_photos[0]) for i in range(20)]
    size_same = render_batch(one, tmp_path / "same.pdf").bytes_written
    many = [sample_notice("CA", number=i, photo=evidence_photos[i]) for i in range(20)]
    size_many = render_batch(many, tmp_path / "many.pdf").bytes_written
    photo_bytes = os.path.getsize(evidence_photos[0].path)
    assert size_same < size_many
    assert size_same < 20 * 6_000 + 2 * photo_bytes  # not 20 copies of the photo


def test_cancel_leaves_no_file(tmp_path: Path, evidence_photos: list[EvidencePhoto]) -> None:
    done: list[int] = []
    result = render_batch(_notices(evidence_photos, 30), tmp_path / "run.pdf",
                          progress=lambda d, t: done.append(d), cancel=lambda: len(done) >= 5)
    assert result.cancelled and result.path is None and result.notices == 5
    assert list(tmp_path.iterdir()) == []


def test_failure_mid_batch_leaves_no_file(tmp_path: Path, evidence_photos: list[EvidencePhoto]) -> None:
    notices = _notices(evidence_photos, 6)
    notices[4] = replace(notices[4], photo=EvidencePhoto(str(tmp_path / "missing.jpg")))
    with pytest.raises(OSError, match="missing.jpg"):
        render_batch(notices, tmp_path / "run.pdf")
    assert list(tmp_path.iterdir()) == []


def test_parallel_batches(tmp_path: Path, evidence_photos: list[EvidencePhoto]) -> None:
    notices = _notices(evidence_photos, 25)
    progress: list[int] = []
    results = render_batches_parallel(notices, tmp_path, batch_size=10, workers=2,
                                      progress=lambda d, t: progress.append(d))
    assert [r.pages for r in results] == [10, 10, 5]
    assert sorted(p.name for p in tmp_path.glob("*.pdf")) == ["notices-0001.pdf", "notices-0002.pdf",
                                                              "notices-0003.pdf"]
    first = reader((tmp_path / "notices-0002.pdf").read_bytes())
    assert notices[10].facts.citation_number in first.pages[0].extract_text()
    assert progress[-1] == 25


def _packet(tmp_path: Path, photos: list[EvidencePhoto], tamper: bool = False) -> HearingPacket:
    map_png = tmp_path / "map.png"
    Image.new("RGB", (600, 400), (230, 235, 228)).save(map_png)
    docs = (AppellantDocument("statement.pdf", str(tmp_path / "statement.pdf"), "c" * 64, "application/pdf",
                              page_count=2),
            AppellantDocument("receipt.jpg", photos[3].path, "d" * 64, "image/jpeg"))
    data = sample_packet("CA", tuple(replace(p, sha256="a" * 64) for p in photos[:3]), str(map_png), docs)
    if tamper:
        data = replace(data, digests=(DigestRow("gen00.jpg", "a" * 64, "b" * 64),) + data.digests[1:])
    return HearingPacket(data)


def test_hearing_packet_integrity_and_appellant_documents(tmp_path: Path, evidence_photos: list[EvidencePhoto]) -> None:
    pdf = _packet(tmp_path, evidence_photos).render()
    r = reader(pdf)
    t = " ".join(p.extract_text() for p in r.pages)
    assert "Device signature: VALID" in t
    assert "All 3 evidence files match" in t
    assert "statement.pdf" in t and "appended at the" in t and "c" * 32 in t.replace("\n", "")
    assert "Appellant document: receipt.jpg" in r.pages[-1].extract_text()  # image reproduced on its own page
    assert f"Page {len(r.pages)} of {len(r.pages)}" in t
    bad = _packet(tmp_path, evidence_photos, tamper=True).render()
    tb = " ".join(p.extract_text() for p in reader(bad).pages)
    assert "MISMATCH" in tb and "1 of 3 files do NOT match" in tb


def test_letters_state_what_they_must() -> None:
    t = reader(DecisionLetter(sample_decision("CA", Decision.REDUCED)).render()).pages[0].extract_text()
    assert "REDUCED" in t and "$25.00" in t and "Superior Court" in t and "May 24, 2025" in t
    t = reader(DecisionLetter(sample_decision("ENG", Decision.DISMISSED)).render()).pages[0].extract_text()
    assert "DISMISSED" in t and "If you disagree" not in t
    t = reader(ReversalLetter(sample_reversal("CA")).render()).pages[0].extract_text()
    assert "R01" in t and "Insufficient funds" in t and "$88.00" in t and "$25.00" in t
    t = reader(RefundLetter(sample_refund("NYC")).render()).pages[0].extract_text()
    assert "$63.00" in t and "551203" in t
    t = reader(AppealAcknowledgement(sample_acknowledgement("ENG")).render()).pages[0].extract_text()
    assert "56 days" in t and "AP0000412" in t
    t = reader(HearingNotice(sample_hearing_notice("CA")).render()).pages[0].extract_text()
    assert "10:30 AM PDT" in t and "Hearing Room 2" in t
    t = reader(PaymentReceipt(sample_receipt("CA")).render()).pages[0].extract_text()
    assert "R-2025-0031877" in t and "$126.00" in t
    thermal = reader(ThermalReceipt(sample_receipt("NYC")).render())
    assert abs(float(thermal.pages[0].mediabox.width) - 80 / 25.4 * 72) < 0.5
    assert "$126.00" in thermal.pages[0].extract_text()
    t = reader(HearingDocket(sample_docket("CA", entries=40)).render())
    assert len(t.pages) >= 2 and "AP0000451" in " ".join(p.extract_text() for p in t.pages)


def test_print_derivative_from_real_photos(tmp_path: Path) -> None:
    out = make_print_derivative(MISC / "landscape_6.jpg", tmp_path / "l6.jpg")
    with Image.open(out) as im, Image.open(MISC / "landscape_6.jpg") as orig:
        assert max(im.size) == 600 and im.format == "JPEG"
        # EXIF orientation 6 is applied: the derivative is rotated relative to the stored pixels
        assert (im.width > im.height) != (orig.width > orig.height)
    with pytest.raises(OSError):
        make_print_derivative(Path("/work/shared/data/photos_exif/invalid") / sorted(
            os.listdir("/work/shared/data/photos_exif/invalid"))[0], tmp_path / "bad.jpg")
    assert not (tmp_path / "bad.jpg").exists()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_every_document_rasterises(tmp_path: Path, evidence_photos: list[EvidencePhoto]) -> None:
    docs: dict[str, bytes] = {}
    for profile, kind in [("CA", NoticeKind.VIOLATION), ("NYC", NoticeKind.FINAL),
                          ("ENG", NoticeKind.NOTICE_TO_OWNER), ("ENG", NoticeKind.CHARGE_CERTIFICATE)]:
        n = sample_notice(profile, kind, photo=evidence_photos[-1])
        docs[f"{profile}-{kind.value}"] = notice_class_for(n)(n).render()
    story_docs: list[StoryDocument] = [HearingNotice(sample_hearing_notice()), DecisionLetter(sample_decision()),
                                       AppealAcknowledgement(sample_acknowledgement()), RefundLetter(sample_refund()),
                                       ReversalLetter(sample_reversal()), PaymentReceipt(sample_receipt()),
                                       HearingDocket(sample_docket()), _packet(tmp_path, evidence_photos)]
    for d in story_docs:
        docs[type(d).__name__] = d.render()
    docs["thermal"] = ThermalReceipt(sample_receipt()).render()
    for name, pdf in docs.items():
        (tmp_path / f"{name}.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(tmp_path / f"{name}.pdf"),
                        str(tmp_path / name)], check=True, timeout=60)
        png = next(tmp_path.glob(f"{name}-*1.png"))
        with Image.open(png) as im:
            colours = im.convert("L").getextrema()
            assert colours[0] < 60 and colours[1] > 240, name  # real ink on white paper


def _pdf(path: Path, pages: int, words: str) -> Path:
    from reportlab.pdfgen.canvas import Canvas

    c = Canvas(str(path))
    for n in range(pages):
        c.drawString(72, 720, f"{words} page {n + 1}")
        c.showPage()
    c.save()
    return path


def test_the_appellants_pdf_is_in_the_packet_and_a_hostile_one_cannot_break_it(
        tmp_path: Path, evidence_photos: list[EvidencePhoto]) -> None:
    """The appellant's statement is reproduced page for page after the packet (no longer "original on file,
    not reproduced"); a long one is cut at the bound; garbage, a truncated file and a missing one each cost one
    sentence on a title sheet."""
    from reports.appendix import MAX_PAGES_PER_DOCUMENT
    from reports.hearing import render_packet

    statement = _pdf(tmp_path / "statement.pdf", 2, "I was loading at the kerb")
    long = _pdf(tmp_path / "bank-statements.pdf", MAX_PAGES_PER_DOCUMENT + 5, "Statement")
    garbage = tmp_path / "evil.pdf"
    garbage.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Pages /Kids [1 0 R] /Count 99999999 >> endobj\n" + b"\x00" * 500)
    truncated = tmp_path / "cut.pdf"
    truncated.write_bytes(statement.read_bytes()[:300])
    docs = tuple(AppellantDocument(p.name, str(p), "e" * 64, "application/pdf")
                 for p in (statement, long, garbage, truncated, tmp_path / "gone.pdf"))
    data = sample_packet("CA", tuple(replace(p, sha256="a" * 64) for p in evidence_photos[:3]), None, docs)
    plain = reader(HearingPacket(data).render())
    r = reader(render_packet(data))
    texts = [p.extract_text() for p in r.pages]
    base = len(plain.pages)
    assert texts[base].startswith("Appellant document: statement.pdf")
    assert "I was loading at the kerb page 1" in texts[base + 1] and "I was loading at the kerb page 2" in texts[base + 2]
    assert sum("Statement page" in t for t in texts) == MAX_PAGES_PER_DOCUMENT
    assert any(f"first {MAX_PAGES_PER_DOCUMENT} of {MAX_PAGES_PER_DOCUMENT + 5} pages" in t for t in texts)
    for name in ("evil.pdf", "cut.pdf", "gone.pdf"):
        (sheet,) = [t for t in texts if t.startswith(f"Appellant document: {name}")]
        assert "could not be reproduced" in sheet and "the original is on file" in sheet
    assert len(r.pages) == base + 3 + 1 + MAX_PAGES_PER_DOCUMENT + 3
