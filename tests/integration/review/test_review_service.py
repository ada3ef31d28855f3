"""The review use cases per role: queue, approve, void, correct, bulk approve."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, Citation, HotlistEntry, LedgerEntry
from desktop.services.core import settings as settings_service
from desktop.services.review import queue as review
from desktop.services.review.checks import recheck_pending
from desktop.ui.review.evidence_text import facts_html

from .conftest import ISSUED, LA, add_pending, seed_reference, warnings_of

CAN_REVIEW = [Role.CLERK, Role.SUPERVISOR, Role.ADMIN]
CANNOT_REVIEW = [Role.HEARING_OFFICER, Role.MAIL_OFFICE]


def citation(app, cid) -> Citation:
    with app.db.reading() as s:
        c = s.get(Citation, cid, options=[selectinload(Citation.violations)])
        assert c is not None
        return c


def audit(app, cid, action) -> list[AuditEntry]:
    with app.db.reading() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.entity_type == "citation",
                                                       AuditEntry.entity_id == str(cid),
                                                       AuditEntry.action == action)))


# --------------------------------------------------------------------------- the queue


def test_queue_puts_warnings_first_and_counts_them(reference, actors) -> None:
    clean_old = add_pending(reference, number="A-1", issued_at=ISSUED - timedelta(minutes=50),
                            photos=[{"taken": ISSUED - timedelta(minutes=50)}])
    clean_new = add_pending(reference, number="A-2", plate="6DEF456")
    warning = add_pending(reference, number="A-3", plate="7ABC12")  # plate format: a warning
    error = add_pending(reference, number="A-4", make="HOND")  # make mismatch: an error
    add_pending(reference, number="A-5", plate="3XYZ987", status="open")
    recheck_pending(reference)
    q = review.review_queue(reference, actors[Role.CLERK])
    assert q.ids == [error, warning, clean_old, clean_new]
    assert q.counts == {"make_mismatch": 1, "plate_format": 1}
    assert q.total == 4 and q.with_warnings == 2
    assert "4 waiting · 2 with warnings" in q.summary()
    for role in CANNOT_REVIEW:
        with pytest.raises(PermissionDenied):
            review.review_queue(reference, actors[role])


def test_review_item_has_photos_exif_zone_and_map(reference, actors) -> None:
    cid = add_pending(reference, photos=[{"taken": ISSUED - timedelta(seconds=30)}, {"lat": 34.06}])
    recheck_pending(reference)
    item = review.review_item(reference, actors[Role.CLERK], cid)
    assert item.plate == "7ABC123" and item.registered_make == "TOYT"
    assert [p.exif["camera_model"] for p in item.photos] == ["TC58 Enforcement"] * 2
    assert item.photos[1].distance_m == pytest.approx(1112, abs=5)
    assert item.warning_codes == ("photo_location",)
    assert "make_mismatch" in item.passed
    assert [z.code for z in item.zones] == ["Z-TEST"]
    assert item.map.accuracy_m == 5.0 and len(item.map.photos) == 2 and item.map.photos[1].far
    assert all(p.path.is_file() for p in item.photos)


def test_an_english_office_reviews_and_approves_fines_in_pounds(reference, actors) -> None:
    """The review screen prices the fines in the office's currency (they are posted in it on approval), and
    the approval says the fine in its profile's currency: an English office's are in pounds, not dollars."""
    admin = actors[Role.ADMIN]
    settings_service.set_value(reference, admin, "agency.profile", "ENG")
    settings_service.set_value(reference, admin, "agency.currency", "GBP")
    cid = add_pending(reference)
    item = review.review_item(reference, actors[Role.CLERK], cid)
    assert item.currency == "GBP"
    facts = facts_html(item, LA)
    assert "£63.00" in facts and "$63.00" not in facts
    assert review.approve(reference, actors[Role.CLERK], cid, seen_warnings=item.warning_codes).currency == "GBP"


# --------------------------------------------------------------------------- approve


@pytest.mark.parametrize("role", CAN_REVIEW)
def test_approve_opens_the_case_posts_the_fine_and_sets_the_next_action(reference, actors, role) -> None:
    cid = add_pending(reference)
    result = review.approve(reference, actors[role], cid, seen_warnings=[])
    c = citation(reference, cid)
    assert c.status == "open" and c.approved_at == reference.now()
    assert c.profile_code == "CA" and c.profile_version >= 1
    assert c.stage == "citation"
    assert c.next_action == result.next_action == "next_stage:delinquent_notice"
    assert c.next_action_date == (ISSUED.date() + timedelta(days=21))
    with reference.db.reading() as s:
        ledger = list(s.scalars(select(LedgerEntry).where(LedgerEntry.citation_id == cid)))
    assert [(e.kind, e.amount_cents, e.dedupe_key) for e in ledger] == [("fine", 6300, "fine")]
    assert audit(reference, cid, "citation.approved")[0].username == actors[role].username
    assert audit(reference, cid, "citation.scheduled")
    with pytest.raises(UserError, match="no longer waiting for review"):
        review.approve(reference, actors[role], cid)


@pytest.mark.parametrize("role", CANNOT_REVIEW)
def test_others_may_not_approve_void_or_correct(reference, actors, role) -> None:
    cid = add_pending(reference)
    with pytest.raises(PermissionDenied):
        review.approve(reference, actors[role], cid)
    with pytest.raises(PermissionDenied):
        review.void(reference, actors[role], cid, "OFFICER_ERROR", "")
    with pytest.raises(PermissionDenied):
        review.correct(reference, actors[role], cid, "plate", "7ABC124", "misread")
    assert citation(reference, cid).status == "pending_review"


def test_a_new_warning_stops_the_approval(reference, actors) -> None:
    cid = add_pending(reference)
    recheck_pending(reference)
    seen = review.review_item(reference, actors[Role.CLERK], cid).warning_codes
    assert seen == ()
    with reference.db.write_session() as s:  # the hot list arrives while the clerk looks at it
        s.add(HotlistEntry(plate="7ABC123", jurisdiction="CA", reason="stolen", since=ISSUED))
        s.commit()
    with pytest.raises(review.ReviewChanged, match="Hot list"):
        review.approve(reference, actors[Role.CLERK], cid, seen_warnings=seen)
    c = citation(reference, cid)
    assert c.status == "pending_review" and [w["code"] for w in c.review_warnings] == ["hotlist"]
    review.approve(reference, actors[Role.CLERK], cid, seen_warnings=["hotlist"])
    assert citation(reference, cid).status == "open"


# --------------------------------------------------------------------------- void


def test_void_needs_a_known_reason_and_a_note_for_other(reference, actors) -> None:
    clerk = actors[Role.CLERK]
    cid = add_pending(reference)
    with pytest.raises(UserError, match="not a void reason"):
        review.void(reference, clerk, cid, "BORED", "")
    with pytest.raises(UserError, match="Write a note"):
        review.void(reference, clerk, cid, "OTHER", "  ")
    review.void(reference, clerk, cid, "valid_permit", "permit on the dashboard in photo 2")
    c = citation(reference, cid)
    assert c.status == "voided" and c.closed_at is not None
    entry = audit(reference, cid, "review.void_reason")[0]
    assert entry.after == {"reason_code": "VALID_PERMIT", "warnings": []}
    assert entry.reason == "permit on the dashboard in photo 2"
    assert "Vehicle had a valid permit" in audit(reference, cid, "citation.voided")[0].reason
    with pytest.raises(UserError, match="no longer waiting"):
        review.void(reference, clerk, cid, "OTHER", "again")


# --------------------------------------------------------------------------- correct


def test_corrections_are_audited_and_rechecked(reference, actors) -> None:
    clerk = actors[Role.CLERK]
    cid = add_pending(reference, plate="7ABC12", make="HOND")
    recheck_pending(reference)
    assert set(warnings_of(reference, cid)) == {"plate_format"}
    with pytest.raises(UserError, match="Say why"):
        review.correct(reference, clerk, cid, "plate", "7ABC123", "")
    result = review.correct(reference, clerk, cid, "plate", "7abc 123", "photo 1 shows 7ABC123")
    assert result.before == "7ABC12" and result.after == "7ABC123"
    # The real plate is registered as a Toyota: now the make is the problem.
    assert [w["code"] for w in result.warnings] == ["make_mismatch"]
    entry = audit(reference, cid, "citation.corrected")[0]
    assert entry.before["plate"] == "7ABC12" and entry.after["plate"] == "7ABC123"
    assert entry.reason == "photo 1 shows 7ABC123"
    result = review.correct(reference, clerk, cid, "make", "toyt", "registration says Toyota")
    assert result.warnings == ()
    review.correct(reference, clerk, cid, "color", "silver", "photo")
    review.correct(reference, clerk, cid, "jurisdiction", "nv", "Nevada plate in photo 1")
    c = citation(reference, cid)
    assert (c.plate, c.plate_key, c.make, c.color, c.jurisdiction) == ("7ABC123", "7A8C123", "TOYT", "SILVER", "NV")
    assert len(audit(reference, cid, "citation.corrected")) == 4
    with pytest.raises(UserError, match="already"):
        review.correct(reference, clerk, cid, "make", "TOYT", "again")
    with pytest.raises(UserError, match="not a plate"):
        review.correct(reference, clerk, cid, "plate", "!!", "bad")
    with pytest.raises(UserError, match="cannot be corrected"):
        review.correct(reference, clerk, cid, "owner", "x", "no")


def test_a_new_violation_code_is_priced_from_the_schedule(reference, actors) -> None:
    clerk = actors[Role.CLERK]
    cid = add_pending(reference, handheld_fine_cents=5800)  # 88.13B+, schedule 63.00, handheld showed 58.00
    recheck_pending(reference)
    assert "fine_schedule" in warnings_of(reference, cid)
    with pytest.raises(UserError, match="no violation code"):
        review.correct(reference, clerk, cid, "violation_code", "12.34", "typo")
    result = review.correct(reference, clerk, cid, "violation_code", "80.56e4+", "red curb in photo 2")
    c = citation(reference, cid)
    assert (c.violation_code, c.violation_description, c.fine_cents) == ("80.56E4+", "RED ZONE", 9300)
    assert (c.violations[0].code, c.violations[0].fine_cents) == ("80.56E4+", 9300)
    assert "fine_schedule" not in {w["code"] for w in result.warnings}
    entry = audit(reference, cid, "citation.corrected")[0]
    assert entry.before["fine_cents"] == 6300 and entry.before["handheld_fine_cents"] == 5800
    assert entry.after["fine_cents"] == 9300
    review.approve(reference, clerk, cid)
    with reference.db.reading() as s:
        fine = s.scalars(select(LedgerEntry.amount_cents).where(LedgerEntry.citation_id == cid)).one()
    assert fine == 9300


# --------------------------------------------------------------------------- bulk


def test_bulk_approve_is_for_supervisors_and_skips_warnings(reference, actors) -> None:
    clean = [add_pending(reference, plate=p) for p in ("6DEF456", "5GHJ789")]
    flagged = add_pending(reference, make="HOND")
    decided = add_pending(reference, plate="4KLM321", status="open")
    recheck_pending(reference)
    ids = [*clean, flagged, decided]
    with pytest.raises(PermissionDenied):
        review.bulk_approve(reference, actors[Role.CLERK], ids)
    progress = []
    result = review.bulk_approve(reference, actors[Role.SUPERVISOR], ids, lambda d, t: progress.append((d, t)))
    assert len(result.approved) == 2
    assert [n for n, _why in result.skipped] == [citation(reference, flagged).citation_number,
                                                 citation(reference, decided).citation_number]
    assert "Make vs registration" in result.skipped[0][1]
    assert [citation(reference, i).status for i in ids] == ["open", "open", "pending_review", "open"]
    assert progress[-1] == (4, 4)


# --------------------------------------------------------------------------- several clerks at once


@pytest.mark.postgres
def test_two_clerks_approving_the_same_citation(pg_app) -> None:
    from tests.conftest import seed_users

    seed_reference(pg_app)
    people = seed_users(pg_app)
    cid = add_pending(pg_app)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def work(actor) -> None:
        barrier.wait()
        try:
            review.approve(pg_app, actor, cid)
            outcomes.append("approved")
        except UserError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=work, args=(people[r],)) for r in (Role.CLERK, Role.SUPERVISOR)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o == "approved" for o in outcomes) == [False, True]
    assert any("no longer waiting" in o for o in outcomes)
    with pg_app.db.reading() as s:
        assert len(list(s.scalars(select(LedgerEntry).where(LedgerEntry.citation_id == cid)))) == 1
