"""The printed documents, read back with pypdf: letters state the next level and its deadline; the packet
holds the digests with their verification, the signature state, the timeline and the appellant's documents."""

from __future__ import annotations

import io
import os
import stat
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.persistence.evidence import EvidenceStore
from desktop.persistence.models import Citation, EvidencePhoto, Notice
from desktop.services import appeals
from desktop.services.appeals.packet import (
    build_packet,
    load_workspace,
    recipient_from_text,
    render_docket,
    render_letter,
)
from desktop.services.appeals.schematic import MapInput, MapPoint, render_map, zone_rings
from desktop.services.core.context import Actor
from tests.integration.appeals.conftest import make_case, pdf_bytes, png_bytes
from tests.integration.appeals.test_intake_and_decisions import request

LA = ZoneInfo("America/Los_Angeles")


def text_of(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def filed(app, actors, **kw) -> tuple[int, int]:
    cid = make_case(app, **kw)
    docs = [("meter-receipt.pdf", pdf_bytes(pages=2)), ("sign.png", png_bytes())]
    return cid, appeals.file_appeal(app, actors[Role.CLERK], request(app, cid, documents=docs)).appeal_id


def test_acknowledgement_lists_documents_and_the_decision_date(app, actors) -> None:
    _cid, aid = filed(app, actors)
    path = render_letter(app, actors[Role.CLERK], aid, "appeal_acknowledgement")
    assert path.parent == app.paths.documents_dir / "appeals" / "letters"
    text = flat(text_of(path))
    assert "ACKNOWLEDGEMENT OF YOUR APPEAL" in text and "AP0000001" in text
    assert "meter-receipt.pdf, sign.png" in text and "December 24, 2026" in text
    assert "no penalties will be added" in text
    assert "MARIA GARCIA" in text and "LOS ANGELES CA 90026" in text
    again = render_letter(app, actors[Role.CLERK], aid, "appeal_acknowledgement")
    assert again != path and path.exists()  # a second print never overwrites the first
    with app.db.reading() as s:  # printing again does not queue a second mailing
        assert len(list(s.scalars(select(Notice).where(Notice.kind == "appeal_acknowledgement")))) == 1


def test_decision_letter_states_the_next_level_and_its_deadline_california(app, actors, clock) -> None:
    _cid, aid = filed(app, actors, penalty_cents=6300)
    clock.now = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    with pytest.raises(UserError, match="not been decided"):
        render_letter(app, actors[Role.CLERK], aid, "decision_letter")
    appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], aid, "reduced",
                          "The meter fault report supports the appellant; the penalty is waived.", 6300)
    text = flat(text_of(render_letter(app, actors[Role.CLERK], aid, "decision_letter")))
    assert "NOTICE OF DECISION" in text and "REDUCED" in text
    assert "the penalty is waived" in text
    assert "Original amount $126.00" in text and "Amount after decision $63.00" in text
    assert "appeal this decision to the Administrative hearing by December 22, 2026" in text
    assert "VC 40215(b)" in text


def test_decision_letter_england_tribunal_and_deemed_acceptance(app, actors, clock) -> None:
    cid = make_case(app, profile="ENG", fine_cents=7000, issued_at=datetime(2026, 9, 1, 10, 0, tzinfo=UTC),
                    notice_mailed=datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    rejected = appeals.file_appeal(app, actors[Role.CLERK], request(
        app, cid, grounds=["did_not_occur"], appellant_address="14 Orchard Rise\nAshford Vale AV3 7QT"))
    clock.now = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
    appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], rejected.appeal_id, "upheld",
                          "The CEO's photographs show the vehicle on a single yellow line in force.")
    text = flat(text_of(render_letter(app, actors[Role.CLERK], rejected.appeal_id, "decision_letter")))
    # mailed Thursday 10 December, served Monday 14th: 28 days beginning then to appeal, and the 50 %
    # discount offered again for 14 days beginning then; a council outside London: the Traffic Penalty Tribunal
    assert "UPHELD" in text and "Traffic Penalty Tribunal" in text and "by 10 January 2027" in text
    assert "London Tribunals" not in text and "Springfield House" in text
    assert "£70.00" in text and "AV3 7QT" in text
    assert "payment of £35.00 reaches us by 27 December 2026" in text
    assert "Exmoor Vale City Council" in text and "City of Los Angeles" not in text

    other = make_case(app, profile="ENG", fine_cents=7000, paid_cents=7000, status="paid",
                      issued_at=datetime(2026, 10, 1, 10, 0, tzinfo=UTC),
                      notice_mailed=datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    deemed = appeals.file_appeal(app, actors[Role.CLERK], request(
        app, other, grounds=["procedural_impropriety"], appellant_address="3 Mill Lane\nAshford Vale AV1 4RT"))
    clock.now = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)
    appeals.apply_appeal_deadlines(app, Actor.system("escalate"))
    text = flat(text_of(render_letter(app, actors[Role.CLERK], deemed.appeal_id, "decision_letter")))
    assert "DISMISSED" in text and "operation of law" in text and "not decided within 56 days" in text
    assert "Refund due to you £70.00" in text
    assert "If you disagree" not in text  # nothing to appeal after a cancellation


def test_hearing_notice_and_docket(app, actors) -> None:
    _cid, aid = filed(app, actors)
    with pytest.raises(UserError, match="no hearing scheduled"):
        render_letter(app, actors[Role.CLERK], aid, "hearing_notice")
    officer = actors[Role.HEARING_OFFICER].user_id
    appeals.add_slot(app, actors[Role.SUPERVISOR], officer, datetime(2026, 11, 30, 13, tzinfo=LA),
                     datetime(2026, 11, 30, 16, tzinfo=LA))
    appeals.schedule_hearing(app, actors[Role.SUPERVISOR], aid, officer, datetime(2026, 11, 30, 14, 20, tzinfo=LA),
                             "phone")
    text = flat(text_of(render_letter(app, actors[Role.CLERK], aid, "hearing_notice")))
    assert "NOTICE OF HEARING" in text and "November 30, 2026 2:20 PM PST" in text and "Telephone" in text
    assert "will telephone you" in text and "reschedule by November 27, 2026" in text
    docket = render_docket(app, actors[Role.CLERK], date(2026, 11, 30), app.paths.print_dir / "d.pdf")
    dtext = flat(text_of(docket))
    assert "Hearing docket for November 30, 2026" in dtext and "2:20 PM" in dtext and "AP0000001" in dtext


def test_packet_has_digests_verified_signature_state_timeline_and_documents(app, actors) -> None:
    cid, aid = filed(app, actors, photos=2, zone=True)
    with app.db.write_session() as s:
        s.get(Citation, cid).signature_state = "valid"
        s.commit()
    progress: list[int] = []
    out = build_packet(app, actors[Role.HEARING_OFFICER], aid, app.paths.print_dir / "packet.pdf",
                       progress=lambda d, t, _s: progress.append(d))
    assert progress[-1] == 100 and progress == sorted(progress)
    raw = text_of(out)
    text = flat(raw)
    with app.db.reading() as s:
        shas = [p.sha256 for p in s.scalars(select(EvidencePhoto).where(EvidencePhoto.citation_id == cid))]
    for sha in shas:  # the table wraps digests; compare without white space
        assert sha in "".join(raw.split())
    assert "All 4 evidence files match their recorded digests." in text
    assert "Device signature: VALID" in text
    assert "Case timeline" in text and "Appeal filed" in text and "Chalk mark first seen" in text
    assert "Officer's remarks" in text and "Meter display flashing expired." in text
    assert "Appellant documents" in text and "meter-receipt.pdf" in text and "appended at the" in text
    assert "Receipt for parking meter payment (page 2)" in text  # the appellant's own PDF, reproduced
    assert "Photo metadata (EXIF)" in text and "NIKON" in text
    assert "Schematic (no street map)" in text
    reader = PdfReader(str(out))
    assert len(reader.pages) >= 4
    assert sum(len(page.images) for page in reader.pages) >= 4  # 2 photos, the map, the PNG document


def test_packet_shows_a_tampered_photo_as_a_mismatch(app, actors) -> None:
    cid, aid = filed(app, actors, photos=2)
    with app.db.reading() as s:
        sha = s.scalars(select(EvidencePhoto.sha256).where(EvidencePhoto.citation_id == cid)).first()
    path = EvidenceStore(app.paths.evidence_dir).path_for(sha)
    os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
    with open(path, "r+b") as fh:
        fh.seek(5000)
        fh.write(b"\x00\x01\x02\x03")
    ws = load_workspace(app, actors[Role.HEARING_OFFICER], aid)
    assert not ws.digests_ok and not ws.photos[0].verified and "MISMATCH" in ws.photos[0].verification_text
    text = flat(text_of(build_packet(app, actors[Role.HEARING_OFFICER], aid)))
    assert "MISMATCH" in text and "1 of 4 files do NOT match their recorded digest." in text
    assert "Device signature: NOT SIGNED" in text


def test_workspace_gathers_the_checks(app, actors) -> None:
    cid, aid = filed(app, actors, photos=1)
    with app.db.write_session() as s:
        s.get(Citation, cid).review_warnings = [
            {"code": "permit", "severity": "warning", "explanation": "A residential permit was valid for the plate."}]
        s.commit()
    ws = load_workspace(app, actors[Role.CLERK], aid)
    assert [c.text for c in ws.review_checks] == ["A residential permit was valid for the plate."]
    assert ws.observations and ws.observations[0].startswith("chalk:")
    assert ws.days_left == 30 and ws.next_level_if_upheld[0] == "Administrative hearing"
    assert ws.registration_checks[0].text.startswith("No registered owner")
    assert ws.photos[0].verified and ws.documents[0].page_count == 2


def test_recipient_from_free_text() -> None:
    us = recipient_from_text("A B", "1847 Sunset Blvd Apt 3\nLos Angeles, CA 90026-1234")
    assert (us.address_lines, us.city, us.state, us.zip_code, us.zip4) == (
        ("1847 Sunset Blvd Apt 3",), "Los Angeles", "CA", "90026", "1234")
    one_line = recipient_from_text("A B", "12 Main St, Springfield, IL 62701")
    assert one_line.address_lines == ("12 Main St",) and one_line.zip_code == "62701"
    uk = recipient_from_text("Mr T", "14 Orchard Rise\nLittle Wenham\nAshford Vale AV3 7QT")
    assert uk.address_lines == ("14 Orchard Rise", "Little Wenham") and uk.zip_code == "AV3 7QT"
    odd = recipient_from_text("X", "General Delivery")
    assert odd.city == "General Delivery"


def test_map_is_a_real_image_with_the_zone() -> None:
    ring = [[-118.25, 34.049], [-118.249, 34.049], [-118.249, 34.051], [-118.25, 34.051], [-118.25, 34.049]]
    data = MapInput(MapPoint(34.05, -118.2495, "here"), 8.0, (MapPoint(34.0502, -118.2495, "plate"),), "Z", "Zone",
                    zone_rings({"type": "Polygon", "coordinates": [ring]}))
    image = render_map(data, (480, 300))
    assert image.size == (480, 300) and len(image.getcolors(1 << 16) or []) > 20
    assert zone_rings({"type": "Point", "coordinates": [1, 2]}) == ()
    assert isinstance(image, Image.Image)


def test_packet_shows_the_plate_read_from_the_photo_with_its_crop(app, actors) -> None:
    from desktop.persistence.models import PlateReading

    cid, aid = filed(app, actors, photos=1)
    plain = flat(text_of(build_packet(app, actors[Role.HEARING_OFFICER], aid, app.paths.print_dir / "p0.pdf")))
    assert "Plate read from the photo" not in plain  # never read: nothing claimed
    with app.db.write_session() as s:
        photo = s.scalars(select(EvidencePhoto).where(EvidencePhoto.citation_id == cid)).one()
        s.add(PlateReading(photo_id=photo.id, citation_id=cid, sha256=photo.sha256, status="read", plate="KX19ABD",
                           plate_key="KX19A8D", confidence=0.97, box=[100, 100, 300, 160], engine="test-engine",
                           read_at=datetime(2026, 11, 20, tzinfo=UTC)))
        s.commit()
    out = build_packet(app, actors[Role.HEARING_OFFICER], aid, app.paths.print_dir / "p1.pdf")
    text = flat(text_of(out))
    assert "Plate read from the photo" in text
    assert "Photo 1 reads KX19ABD (97%): DIFFERS from the typed 7ABC123" in text
    assert "Read by test-engine" in text
    reader = PdfReader(str(out))
    before = PdfReader(str(app.paths.print_dir / "p0.pdf"))
    assert sum(len(p.images) for p in reader.pages) == sum(len(p.images) for p in before.pages) + 1  # the crop
