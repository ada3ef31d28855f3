"""Every date a letter or notice about an appeal prints, walked on the calendar under each profile's law,
mailing later than planned included: counted from the day the piece is mailed (the day it is printed) and
its service under the profile (England: the second working day after posting), never already past.

The issue's cases: a Charge Certificate served 13 days after a rejection; deemed-accepted representations
whose decision and refund letters were withdrawn; a California decision letter counting from the decision;
an English decision letter naming London Tribunals without the re-offered discount; an acknowledgement dated
6 Dec expecting a decision by 28 November; a hearing notice mailed 6 Dec for 8 Dec saying "reschedule by
December 1"."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.domain.profiles import load_profile
from desktop.domain.roles import Role
from desktop.persistence.models import Appeal, Citation, Notice
from desktop.services import appeals
from desktop.services.cases.escalation import run_escalation
from desktop.services.core.context import Actor
from desktop.services.notices import runs as nr
from tests.helpers.notice_cases import add_owner
from tests.integration.appeals.conftest import make_case
from tests.integration.appeals.test_intake_and_decisions import request
from tests.integration.reports.pdfprobe import reader

ENG = load_profile("ENG")
CA = load_profile("CA")


def _text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in reader(path.read_bytes()).pages)


def _run(app, actors, tmp_path: Path, kind: str):  # type: ignore[no-untyped-def]
    """Print what is queued of `kind`; returns (printed text or None, held reasons)."""
    with app.db.reading() as s:
        ids = list(s.scalars(select(Notice.id).where(Notice.kind == kind, Notice.status == "queued")))
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path, notice_ids=ids)
    texts = [_text(b.path) for b in result.batches if b.kind == kind]
    return (texts[0] if texts else None), [h.reason for h in result.held]


def _mail(app, actors, kind: str, on: date) -> None:  # type: ignore[no-untyped-def]
    """The operator confirms every printed batch of `kind` as posted on `on`."""
    with app.db.reading() as s:
        batches = set(s.scalars(select(Notice.batch_id).where(Notice.kind == kind, Notice.status == "printed")))
    for batch_id in batches:
        nr.confirm_mailed(app, actors[Role.MAIL_OFFICE], batch_id, on)


def _dates(text: str) -> list[date]:
    """Every '5 January 2027' style date in an English document."""
    out = []
    for d, m, y in re.findall(r"\b(\d{1,2}) (January|February|March|April|May|June|July|August|September|October|"
                              r"November|December) (\d{4})\b", text):
        out.append(datetime.strptime(f"{d} {m} {y}", "%d %B %Y").date())
    return out


@pytest.mark.parametrize("late_days", [0, 6])  # printed on the day planned, and a batch printed 6 days late
def test_england_rejection_letter_then_charge_certificate_only_after_28_days_of_its_service(
        app, actors, clock, tmp_path: Path, late_days: int) -> None:  # type: ignore[no-untyped-def]
    cid = make_case(app, profile="ENG", fine_cents=7000, issued_at=datetime(2026, 9, 1, 10, 0, tzinfo=UTC),
                    notice_mailed=datetime(2026, 10, 1, 9, 0, tzinfo=UTC))
    clock.now = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
    filed = appeals.file_appeal(app, actors[Role.CLERK], request(
        app, cid, grounds=["did_not_occur"], appellant_address="14 Orchard Rise\nAshford TN23 7QT"))
    clock.now = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], filed.appeal_id, "upheld", "The signs were in place.")
    printed_on = date(2026, 11, 2) + timedelta(days=late_days)
    clock.now = datetime.combine(printed_on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    text, held = _run(app, actors, tmp_path / "d", "decision_letter")
    assert text is not None, held
    served = ENG.service.served_on(printed_on)
    assert served > printed_on  # two working days later
    # every date printed is on or after the day it is mailed, and each one is the law's
    assert all(d >= printed_on for d in _dates(text) if d.year >= 2026 and d != date(2026, 9, 1)), text
    assert f"Appeal to the Traffic Penalty Tribunal by {served + timedelta(days=27):%-d %B %Y}" in text \
        or f"Traffic Penalty Tribunal by {served + timedelta(days=27):%-d %B %Y}" in text
    assert f"payment of £35.00 reaches us by {served + timedelta(days=13):%-d %B %Y}" in text
    assert "London Tribunals" not in text
    _mail(app, actors, "decision_letter", printed_on)

    # the Charge Certificate, queued the day after the letter went: held until the 28 days of its service end
    owner = add_owner(app, plate="KX19ABC", name="MARSH, PETER", jurisdiction="GB", address_line1="22 Station Road",
                      city="Ashford", state="", zip="TN23 1PP")
    with app.db.write_session() as s:
        s.get_one(Citation, cid).owner_id = owner
        s.add(Notice(citation_id=cid, kind="charge_certificate", stage="charge_certificate", status="queued",
                     queued_at=clock.now, owner_id=owner, dedupe_key="stage:charge_certificate"))
        s.commit()
    allowed = served + timedelta(days=28)
    for day in (printed_on + timedelta(days=13), allowed - timedelta(days=1)):
        clock.now = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
        text, held = _run(app, actors, tmp_path / f"c{day}", "charge_certificate")
        assert text is None and len(held) == 1
        assert f"may not be served before {allowed:%d %b %Y}" in held[0] and "reg. 21" in held[0]
        with app.db.reading() as s:  # it waits in the queue with the reason: no clerk needs to release it
            n = s.scalars(select(Notice).where(Notice.kind == "charge_certificate")).one()
            assert n.status == "queued" and "waits in the queue" in (n.hold_reason or "")
    clock.now = datetime.combine(allowed, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    text, held = _run(app, actors, tmp_path / "c-ok", "charge_certificate")
    assert text is not None and not held and "CHARGE CERTIFICATE" in text
    assert "Contest by" not in text  # a Charge Certificate opens no window of its own
    assert "Pay by" in text or "Amount due" in text.title() or "AMOUNT DUE" in text
    assert "Peter Marsh" in text and "MARSH, PETER" not in text  # the registry's name in mailing order
    assert all(d >= allowed for d in _dates(text) if d.year >= 2026 and d not in (date(2026, 9, 1),)), text


def test_deemed_accepted_representations_get_their_decision_and_refund_letters(
        app, actors, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cid = make_case(app, profile="ENG", fine_cents=7000, paid_cents=7000, status="paid",
                    issued_at=datetime(2026, 10, 1, 10, 0, tzinfo=UTC),
                    notice_mailed=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    filed = appeals.file_appeal(app, actors[Role.CLERK], request(
        app, cid, grounds=["procedural_impropriety"], appellant_address="3 Mill Lane\nAshford TN24 8DB"))
    clock.now = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)
    appeals.apply_appeal_deadlines(app, Actor.system("escalate"))
    run_escalation(app, Actor.system("escalate"), date(2027, 2, 10))  # withdraws only the ladder's notices
    for kind in ("decision_letter", "refund_letter"):
        text, held = _run(app, actors, tmp_path / kind, kind)
        assert text is not None, (kind, held)
        if kind == "decision_letter":
            assert "DISMISSED" in text and "operation of law" in text and "AP" in text
        else:
            assert "£70.00" in text  # the refund, found by its own id (not the appeal's)
    with app.db.reading() as s:
        assert {n.status for n in s.scalars(select(Notice).where(Notice.kind.in_(
            ("decision_letter", "refund_letter"))))} == {"printed"}
    assert filed.appeal_id


def test_a_california_decision_letter_counts_from_its_mailing(app, actors, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cid = make_case(app, penalty_cents=6300)
    filed = appeals.file_appeal(app, actors[Role.CLERK], request(app, cid))
    clock.now = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], filed.appeal_id, "upheld", "The meter worked.")
    clock.now = datetime(2026, 12, 8, 18, 0, tzinfo=UTC)  # the run prints it a week after the decision
    text, held = _run(app, actors, tmp_path, "decision_letter")
    assert text is not None, held
    # VC 40215(b): 21 days after the mailing of the result (8 December), not after the decision (1 December)
    assert "Administrative hearing by December 29, 2026" in text and "December 22, 2026" not in text


def test_acknowledgement_and_hearing_notice_print_no_past_date(app, actors, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cid = make_case(app)
    filed = appeals.file_appeal(app, actors[Role.CLERK], request(app, cid))
    with app.db.write_session() as s:  # the acknowledgement waits in the queue past the decision target
        a = s.get_one(Appeal, filed.appeal_id)
        a.decide_by = date(2026, 11, 28)
        s.commit()
    clock.now = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    text, _held = _run(app, actors, tmp_path / "ack", "appeal_acknowledgement")
    assert text is not None and "December 6, 2026" in text
    assert "November 28" not in text and "Decision expected by" not in text

    officer = actors[Role.HEARING_OFFICER].user_id
    start = datetime(2026, 12, 8, 10, 0, tzinfo=CA.tz)
    appeals.add_slot(app, actors[Role.SUPERVISOR], officer, start, start + timedelta(hours=3))
    appeals.schedule_hearing(app, actors[Role.SUPERVISOR], filed.appeal_id, officer, start, "phone")
    text, held = _run(app, actors, tmp_path / "hn", "hearing_notice")
    assert text is not None, held
    assert not re.search(r"reschedule by [A-Z][a-z]+ \d", text) and "too close for a request to reschedule by post" in text
    assert "Telephone" in text and "will call you" in text  # the mode's own instructions
    # a notice that would arrive after the hearing is held instead of printed
    clock.now = datetime(2026, 12, 9, 18, 0, tzinfo=UTC)
    with app.db.write_session() as s:
        n = s.scalars(select(Notice).where(Notice.kind == "hearing_notice")).one()
        n.status = "queued"
        s.commit()
    text, held = _run(app, actors, tmp_path / "hn2", "hearing_notice")
    assert text is None and "would be over before this notice is served" in held[0]


def test_pending_english_appeals_filed_under_the_old_count_get_the_legal_deadline(
        app, actors, clock) -> None:  # type: ignore[no-untyped-def]
    """Release 0.1 counted England's 56 days to the decision's POSTING; an appeal filed then still carries that
    later day after the upgrade. The daily rule sets it again as the law counts it (to service), audited, once,
    and leaves a deadline that decides nothing by itself (California's, where nothing is deemed) alone."""
    from desktop.domain import case_plan
    from desktop.persistence.models import AuditEntry

    eng_case = make_case(app, profile="ENG", fine_cents=7000, issued_at=datetime(2026, 10, 1, 10, 0, tzinfo=UTC),
                         notice_mailed=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    eng = appeals.file_appeal(app, actors[Role.CLERK], request(
        app, eng_case, grounds=["procedural_impropriety"], appellant_address="3 Mill Lane\nAshford TN24 8DB"))
    ca = appeals.file_appeal(app, actors[Role.CLERK], request(app, make_case(app)))
    with app.db.write_session() as s:  # what 0.1 stored: day 56 itself; and a CA deadline moved by its agency
        a = s.get_one(Appeal, eng.appeal_id)
        legal = a.decide_by
        received = a.filed_at.astimezone(ENG.tz).date()
        a.decide_by = received + timedelta(days=55)
        c = s.get_one(Appeal, ca.appeal_id)
        ca_target = c.decide_by + timedelta(days=9)
        c.decide_by = ca_target
        s.commit()
    assert legal == case_plan.decision_deadline(ENG, "representations", received) and legal < received + timedelta(55)
    summary = appeals.apply_appeal_deadlines(app, Actor.system("escalate"))
    assert [(d.number, d.decide_by, was) for d, was in summary.corrected] == [
        (summary.corrected[0][0].number, legal, received + timedelta(days=55))]
    assert any(line.startswith("DEADLINE CORRECTED") for line in summary.lines())
    with app.db.reading() as s:
        assert s.get_one(Appeal, eng.appeal_id).decide_by == legal
        assert s.get_one(Appeal, ca.appeal_id).decide_by == ca_target  # nothing is deemed in CA: kept
        audits = s.scalars(select(AuditEntry).where(AuditEntry.action == "appeal.deadline_corrected")).all()
    assert len(audits) == 1 and "56-day" in (audits[0].reason or "")
    assert appeals.apply_appeal_deadlines(app, Actor.system("escalate")).corrected == []  # once only
