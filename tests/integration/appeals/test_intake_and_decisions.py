"""Appeals end to end on a real database: intake, documents, holds, levels, deadlines, decisions, money."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.persistence.models import Appeal, AppealDocument, AuditEntry, Citation, Hold, LedgerEntry, Notice, Refund
from desktop.services import appeals
from desktop.services.appeals.documents import AppealDocumentStore, DocumentRejected
from desktop.services.appeals.intake import AppealRequest
from desktop.services.appeals.packet import load_workspace
from desktop.services.core import settings as settings_service
from desktop.services.core.context import Actor
from tests.integration.appeals.conftest import bomb_png, make_case, number_of, pdf_bytes, png_bytes


def request(app, cid: int, **kw) -> AppealRequest:
    base = {"citation_number": number_of(app, cid), "channel": "counter", "appellant_name": "Maria Garcia",
                "appellant_address": "1847 Sunset Blvd Apt 3\nLos Angeles, CA 90026", "grounds": ["did_not_occur"],
                "statement": "The meter was broken; I reported it to the city that morning.",
                "documents": [("meter-receipt.pdf", pdf_bytes())]}
    base.update(kw)
    return AppealRequest(**base)


def case_row(app, cid: int) -> Citation:
    with app.db.reading() as s:
        return s.get(Citation, cid)


def ledger(app, cid: int) -> list[tuple[str, int]]:
    with app.db.reading() as s:
        return [(e.kind, e.amount_cents) for e in s.scalars(select(LedgerEntry).where(LedgerEntry.citation_id == cid)
                                                             .order_by(LedgerEntry.id))]


def notices(app, cid: int) -> list[tuple[str, str]]:
    with app.db.reading() as s:
        return [(n.kind, n.status) for n in s.scalars(select(Notice).where(Notice.citation_id == cid,
                                                                           Notice.stage.is_(None))
                                                      .order_by(Notice.id))]


def balance(app, cid: int) -> int:
    return sum(a for _k, a in ledger(app, cid))


# --------------------------------------------------------------------------- intake


def test_intake_stores_documents_puts_the_case_on_hold_and_queues_the_acknowledgement(app, actors) -> None:
    cid = make_case(app)
    doc = pdf_bytes()
    filed = appeals.file_appeal(app, actors[Role.CLERK],
                                request(app, cid, documents=[("meter-receipt.pdf", doc), ("sign.png", png_bytes())]))
    assert filed.level_key == "initial_review" and not filed.late and filed.documents == 2
    # CA initial review: decided within 30 days of receipt (the profile's service level)
    assert filed.decide_by.isoformat() == "2026-12-24"
    c = case_row(app, cid)
    assert c.status == "under_appeal" and c.on_hold
    assert c.next_action == "decide_initial_review" and c.next_action_date == filed.decide_by
    with app.db.reading() as s:
        holds = list(s.scalars(select(Hold).where(Hold.citation_id == cid)))
        assert [(h.kind, h.ended_at) for h in holds] == [("appeal", None)]
        docs = list(s.scalars(select(AppealDocument).where(AppealDocument.appeal_id == filed.appeal_id)))
        assert {d.mime_type for d in docs} == {"application/pdf", "image/png"}
        store = AppealDocumentStore(app.paths.documents_dir)
        for d in docs:
            assert store.verify(d.sha256) and store.path_for(d.sha256).stat().st_size == d.size_bytes
        actions = [a for a, in s.execute(select(AuditEntry.action).where(AuditEntry.entity_id == str(cid)))]
    assert {"appeal.filed", "hold.placed", "citation.under_appeal", "notice.queued"} <= set(actions)
    assert notices(app, cid) == [("appeal_acknowledgement", "queued")]


def test_same_document_twice_is_stored_once(app, actors) -> None:
    doc = pdf_bytes("one letter")
    a = appeals.file_appeal(app, actors[Role.CLERK], request(app, make_case(app), documents=[("a.pdf", doc)]))
    b = appeals.file_appeal(app, actors[Role.CLERK], request(app, make_case(app), documents=[("b.pdf", doc)]))
    root = AppealDocumentStore(app.paths.documents_dir).root
    assert len([p for p in root.rglob("*") if p.is_file()]) == 1
    assert a.appeal_id != b.appeal_id


def test_late_appeal_needs_a_supervisor_override_with_a_reason(app, actors, clock) -> None:
    cid = make_case(app)
    clock.now = datetime(2026, 12, 20, 18, 0, tzinfo=UTC)  # issue 20 Nov + 21 days = 11 Dec
    clerk, supervisor = actors[Role.CLERK], actors[Role.SUPERVISOR]
    with pytest.raises(UserError, match="was 2026-12-11; this one is 9 days late"):
        appeals.file_appeal(app, clerk, request(app, cid))
    with pytest.raises(PermissionDenied, match="override deadlines"):
        appeals.file_appeal(app, clerk, request(app, cid, late_override_reason="Hospital stay, letter attached"))
    with pytest.raises(PermissionDenied):
        appeals.file_appeal(app, clerk, request(app, cid, late_override_reason="Hospital stay"),
                            override_by=actors[Role.HEARING_OFFICER])
    assert case_row(app, cid).status == "open"  # nothing half-written
    filed = appeals.file_appeal(app, clerk, request(app, cid, late_override_reason="Hospital stay, letter attached"),
                                override_by=supervisor)
    assert filed.late
    with app.db.reading() as s:
        a = s.get(Appeal, filed.appeal_id)
        assert a.late_override_reason == "Hospital stay, letter attached"
        reason = s.scalar(select(AuditEntry.reason).where(AuditEntry.action == "appeal.filed"))
    assert "late by 9 days" in reason and "supervisor" in reason


def test_a_supervisor_filing_a_late_appeal_overrides_it_themselves(app, actors, clock) -> None:
    cid = make_case(app)
    clock.now = datetime(2026, 12, 13, 18, 0, tzinfo=UTC)
    filed = appeals.file_appeal(app, actors[Role.SUPERVISOR], request(app, cid, late_override_reason="Posted in time"))
    assert filed.late


@pytest.mark.parametrize("name,data,message", [
    ("letter.pdf", pdf_bytes()[:-40], "not a complete PDF"),
    ("letter.docx", b"PK\x03\x04" + b"\x00" * 200, "not a PDF, JPEG or PNG file"),
    ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x13" * 500, "cannot be accepted: the picture"),
    ("empty.pdf", b"", "is empty"),
    ("bomb.png", bomb_png(), "decompression bomb"),
])
def test_bad_documents_are_refused_with_a_clear_message_and_nothing_is_written(app, actors, name, data,
                                                                                message) -> None:
    cid = make_case(app)
    with pytest.raises(DocumentRejected, match=message) as err:
        appeals.file_appeal(app, actors[Role.CLERK], request(app, cid, documents=[("ok.pdf", pdf_bytes()), (name, data)]))
    assert name in str(err.value)
    assert case_row(app, cid).status == "open"
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Appeal)) == 0


def test_oversize_documents_follow_the_setting(app, actors) -> None:
    settings_service.set_value(app, actors[Role.ADMIN], "appeals.max_document_mb", 1)
    big = pdf_bytes() + b"%" + b"x" * 1_100_000 + b"\n%%EOF\n"
    with pytest.raises(DocumentRejected, match="at most 1.0 MB"):
        appeals.file_appeal(app, actors[Role.CLERK], request(app, make_case(app), documents=[("scan.pdf", big)]))


def test_closed_or_already_appealed_cases_are_refused(app, actors) -> None:
    with pytest.raises(UserError, match="closed case cannot be appealed"):
        appeals.intake_preview(app, actors[Role.CLERK], number_of(app, make_case(app, status="dismissed")))
    cid = make_case(app)
    appeals.file_appeal(app, actors[Role.CLERK], request(app, cid))
    with pytest.raises(UserError, match="already has an open appeal"):
        appeals.file_appeal(app, actors[Role.CLERK], request(app, cid))
    with pytest.raises(UserError, match="not a ground of appeal"):
        appeals.file_appeal(app, actors[Role.CLERK], request(app, make_case(app), grounds=["because"]))


def test_intake_preview_offers_the_profiles_grounds(app, actors) -> None:
    cid = make_case(app, profile="ENG", issued_at=datetime(2026, 9, 1, 10, 0, tzinfo=UTC),
                    notice_mailed=datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    preview = appeals.intake_preview(app, actors[Role.CLERK], number_of(app, cid))
    assert preview.level_key == "representations" and preview.decide_by_statutory
    keys = [g.key for g in preview.grounds]
    assert "procedural_impropriety" in keys and "compelling_reasons" in keys
    assert [g.statutory for g in preview.grounds if g.key == "compelling_reasons"] == [False]
    # posted Tuesday 10 November, served Thursday 12th: the 28 days beginning then end on 9 December
    assert preview.request_deadline.isoformat() == "2026-12-09"


# --------------------------------------------------------------------------- decisions


def _filed(app, actors, **case_kw) -> tuple[int, int]:
    cid = make_case(app, **case_kw)
    return cid, appeals.file_appeal(app, actors[Role.CLERK], request(app, cid)).appeal_id


@pytest.mark.parametrize("role", list(Role))
def test_only_the_hearing_officer_decides(app, actors, role) -> None:
    cid, aid = _filed(app, actors)
    if role is Role.HEARING_OFFICER:
        result = appeals.decide_appeal(app, actors[role], aid, "upheld", "Photos show the meter expired.")
        assert result.decision == "upheld"
    else:
        with pytest.raises(PermissionDenied, match="decide appeals"):
            appeals.decide_appeal(app, actors[role], aid, "upheld", "Photos show the meter expired.")
        assert case_row(app, cid).status == "under_appeal"
    with pytest.raises(PermissionDenied):
        appeals.decide_appeal(app, Actor.system("escalate"), aid, "dismissed", "Automation may not decide.")


def test_uphold_resumes_the_case_and_releases_the_hold(app, actors) -> None:
    cid, aid = _filed(app, actors)
    result = appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], aid, "upheld",
                                   "The photographs show an expired meter; no fault found.")
    c = case_row(app, cid)
    assert c.status == "open" and not c.on_hold and c.next_action == "resume_after_appeal"
    assert result.next_level == "Administrative hearing" and result.next_level_deadline.isoformat() == "2026-12-15"
    assert ledger(app, cid) == [("fine", 6300)]
    assert notices(app, cid)[-1] == ("decision_letter", "queued")
    with pytest.raises(UserError, match="cannot be taken twice"):
        appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], aid, "dismissed", "Changed my mind entirely.")


def test_reduce_posts_an_adjustment_down_to_the_new_amount(app, actors) -> None:
    cid, aid = _filed(app, actors, penalty_cents=6300)
    with pytest.raises(UserError, match="below the current amount"):
        appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], aid, "reduced", "Partly justified.", 20000)
    result = appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], aid, "reduced",
                                   "The meter fault is plausible; the late penalty is waived.", 6300)
    assert result.adjustment_cents == -6300 and result.refund_cents == 0
    assert ledger(app, cid)[-1] == ("adjustment", -6300)
    assert balance(app, cid) == 6300 and case_row(app, cid).status == "open"
    with app.db.reading() as s:
        assert s.get(Appeal, aid).reduced_fine_cents == 6300


def test_dismiss_closes_the_case_and_refunds_what_was_paid(app, actors) -> None:
    cid, aid = _filed(app, actors, paid_cents=6300)
    assert case_row(app, cid).status == "under_appeal"
    result = appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], aid, "dismissed",
                                   "The sign was missing on the day of the citation.")
    assert result.case_status == "dismissed" and result.refund_cents == 6300 and result.balance_cents == 0
    assert ledger(app, cid)[-2:] == [("adjustment", -6300), ("refund", 6300)]
    assert balance(app, cid) == 0
    with app.db.reading() as s:
        refund = s.scalar(select(Refund).where(Refund.citation_id == cid))
        assert refund.status == "approved" and refund.amount_cents == 6300 and "AP" in refund.decision_note
    assert ("refund_letter", "queued") in notices(app, cid)
    assert case_row(app, cid).closed_at is not None


def test_a_paid_case_can_be_appealed_and_returns_to_paid_when_upheld(app, actors) -> None:
    cid, aid = _filed(app, actors, paid_cents=6300, status="paid")
    assert case_row(app, cid).status == "under_appeal"
    appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], aid, "upheld", "Deposit kept; the violation stands.")
    assert case_row(app, cid).status == "paid"


def test_withdrawal_ends_the_hold(app, actors) -> None:
    cid, aid = _filed(app, actors)
    appeals.withdraw_appeal(app, actors[Role.CLERK], aid, "Telephone call: will pay instead")
    c = case_row(app, cid)
    assert c.status == "open" and not c.on_hold


# --------------------------------------------------------------------------- levels and deadlines


def test_california_administrative_hearing_after_the_review(app, actors, clock) -> None:
    cid, aid = _filed(app, actors)
    appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], aid, "upheld", "The meter was working when checked.")
    clock.now += timedelta(days=10)
    preview = appeals.intake_preview(app, actors[Role.CLERK], number_of(app, cid))
    assert preview.level_key == "administrative_hearing" and not preview.is_late
    second = appeals.file_appeal(app, actors[Role.CLERK], request(app, cid))
    assert second.level_key == "administrative_hearing"
    assert second.decide_by.isoformat() == "2027-03-04"  # 4 Dec + 90 days
    clock.now += timedelta(days=30)
    rows = appeals.list_appeals(app, actors[Role.HEARING_OFFICER])
    assert [(r.number, r.days_left) for r in rows] == [(second.number, 60)]


def test_england_representations_deemed_accepted_on_day_57_with_refund_and_audit(app, actors, clock) -> None:
    cid = make_case(app, profile="ENG", fine_cents=7000, paid_cents=7000, status="paid",
                    issued_at=datetime(2026, 9, 1, 10, 0, tzinfo=UTC),
                    notice_mailed=datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    filed = appeals.file_appeal(app, actors[Role.CLERK], request(app, cid, grounds=["procedural_impropriety"]))
    assert filed.level_key == "representations"
    # received Tue 24 Nov: the 56 days beginning with it end Mon 18 Jan 2027, and the decision must be SERVED
    # by then (reg. 6): posted Thu 14 Jan it is served Mon 18 Jan (second working day); posted Fri 15, Tue 19
    assert filed.decide_by.isoformat() == "2027-01-14"
    system = Actor.system("escalate")
    day56 = datetime(2027, 1, 14, 12, 0, tzinfo=UTC)  # the last day a decision can be posted
    clock.now = day56
    summary = appeals.apply_appeal_deadlines(app, system)
    assert summary.deemed_accepted == [] and [d.days_left for d in summary.due_soon] == [0]
    assert case_row(app, cid).status == "under_appeal"
    clock.now = day56 + timedelta(days=1)
    summary = appeals.apply_appeal_deadlines(app, system)
    assert [(d.number, d.refund_cents) for d in summary.deemed_accepted] == [(filed.number, 7000)]
    assert "DEEMED ACCEPTED" in "\n".join(summary.lines())
    c = case_row(app, cid)
    assert c.status == "dismissed" and not c.on_hold
    assert ledger(app, cid) == [("fine", 7000), ("payment", -7000), ("adjustment", -7000), ("refund", 7000)]
    with app.db.reading() as s:
        a = s.get(Appeal, filed.appeal_id)
        assert (a.status, a.decision) == ("deemed_accepted", "dismissed")
        assert "56 days" in a.decision_reason
        audit = s.scalar(select(AuditEntry).where(AuditEntry.action == "appeal.deemed_accepted"))
        assert audit.username == "system:escalate" and "not decided within 56 days" in audit.reason
        assert s.scalar(select(Refund.status).where(Refund.citation_id == cid)) == "approved"
    assert ("refund_letter", "queued") in notices(app, cid) and ("decision_letter", "queued") in notices(app, cid)
    again = appeals.apply_appeal_deadlines(app, system)
    assert again.deemed_accepted == [] and again.checked == 0
    assert len(ledger(app, cid)) == 4


def test_a_decision_after_the_deemed_acceptance_day_is_refused_before_the_daily_run(app, actors, clock) -> None:
    """England: on day 57 the representations are accepted by law; the hearing officer can no longer
    reject them, even though the daily run has not recorded the acceptance yet."""
    cid = make_case(app, profile="ENG", fine_cents=7000, issued_at=datetime(2026, 9, 1, 10, 0, tzinfo=UTC),
                    notice_mailed=datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    filed = appeals.file_appeal(app, actors[Role.CLERK], request(app, cid, grounds=["procedural_impropriety"]))
    clock.now = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)  # posted today it would be served Tue 19 Jan: too late
    with pytest.raises(UserError, match=r"deemed accepted by law on 2027-01-15 \(not decided within 56 days\): a "
                                        r"decision posted now would be served after the 56 days .* last day to post "
                                        r"one was 2027-01-14"):
        appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], filed.appeal_id, "upheld",
                              "The contravention is clearly shown in the photographs.")
    assert case_row(app, cid).status == "under_appeal" and ledger(app, cid) == [("fine", 7000)]


def test_on_the_last_day_a_decision_can_be_posted_it_is_still_taken_and_named_in_plain_words(app, actors, clock) -> None:
    cid = make_case(app, profile="ENG", fine_cents=7000, issued_at=datetime(2026, 9, 1, 10, 0, tzinfo=UTC),
                    notice_mailed=datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    filed = appeals.file_appeal(app, actors[Role.CLERK], request(app, cid, grounds=["procedural_impropriety"]))
    clock.now = datetime(2027, 1, 14, 12, 0, tzinfo=UTC)  # posted today, served Mon 18 Jan: day 56
    result = appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], filed.appeal_id, "upheld",
                                   "The contravention is clearly shown in the photographs.")
    assert result.outcome_text == "Appeal rejected: the citation stands; the motorist owes £70.00."


def test_the_workspace_says_each_appeals_currency_from_its_profile(app, actors) -> None:
    """The hearing officer's workspace formats amounts in the case's profile currency (read from the profile,
    not guessed from its code)."""
    english = appeals.file_appeal(app, actors[Role.CLERK], request(app, make_case(app, profile="ENG", fine_cents=7000)))
    us = appeals.file_appeal(app, actors[Role.CLERK], request(app, make_case(app)))
    officer = actors[Role.HEARING_OFFICER]
    assert load_workspace(app, officer, english.appeal_id).currency == "GBP"
    assert load_workspace(app, officer, us.appeal_id).currency == "USD"


def test_the_intake_preview_says_the_balance_in_its_profiles_currency(app, actors) -> None:
    """The intake dialog's balance is in the currency of the case's profile version (an English case's in pounds),
    as the workspace's is."""
    clerk = actors[Role.CLERK]
    english = appeals.intake_preview(app, clerk, number_of(app, make_case(app, profile="ENG", fine_cents=7000)))
    us = appeals.intake_preview(app, clerk, number_of(app, make_case(app)))
    assert (english.currency, english.balance_cents) == ("GBP", 7000)
    assert (us.currency, us.balance_cents) == ("USD", 6300)


def test_overdue_appeals_elsewhere_are_surfaced_not_changed(app, actors, clock) -> None:
    cid, aid = _filed(app, actors)
    clock.now += timedelta(days=35)
    summary = appeals.apply_appeal_deadlines(app, Actor.system("escalate"))
    assert [(d.appeal_id, d.days_left) for d in summary.overdue] == [(aid, -5)]
    assert summary.deemed_accepted == [] and case_row(app, cid).status == "under_appeal"
    rows = appeals.list_appeals(app, actors[Role.CLERK])
    assert rows[0].overdue


def test_running_the_deadline_rule_needs_the_escalation_permission(app, actors) -> None:
    with pytest.raises(PermissionDenied):
        appeals.apply_appeal_deadlines(app, actors[Role.CLERK])


def test_docket_sorted_by_days_left(app, actors, clock) -> None:
    first = _filed(app, actors)[1]
    clock.now += timedelta(days=3)
    second = _filed(app, actors)[1]
    third_cid = make_case(app, profile="ENG", issued_at=datetime(2026, 9, 1, 10, 0, tzinfo=UTC),
                          notice_mailed=datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    appeals.file_appeal(app, actors[Role.CLERK], request(app, third_cid, grounds=["did_not_occur"]))
    clock.now += timedelta(days=28)
    rows = appeals.list_appeals(app, actors[Role.CLERK])
    assert [r.appeal_id for r in rows][:2] == [first, second]
    # the English one: received Fri 27 Nov, its decision must be served by Thu 21 Jan (56 days beginning with
    # receipt), so posted by Tue 19 Jan: 25 days after 25 Dec
    assert [r.days_left for r in rows] == [-1, 2, 25]
    assert rows[2].deemed_rule and rows[2].statutory
    assert appeals.list_appeals(app, actors[Role.CLERK], text="KX19")[0].profile_code == "ENG"


def test_contest_events_feed_the_escalation_schedule(app, actors) -> None:
    cid, aid = _filed(app, actors)
    appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], aid, "reduced", "Partly justified, see notes.", 3000)
    with app.db.reading() as s:
        events = appeals.contest_events(s, cid)
    assert [type(e).__name__ for e in events] == ["ContestFiled", "ContestDecided"]
    assert events[1].reduced_fine_cents == 3000


def test_paid_while_under_appeal_then_dismissed_is_refunded_and_closed(app, actors) -> None:
    cid, aid = _filed(app, actors)
    with app.db.write_session() as s:  # the payments office posted a payment that cleared the case
        s.add(LedgerEntry(citation_id=cid, kind="payment", amount_cents=-6300, at=datetime(2026, 11, 25, tzinfo=UTC),
                          effective_date=datetime(2026, 11, 25).date(), dedupe_key="payment:late"))
        s.get(Citation, cid).status = "paid"
        s.commit()
    result = appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], aid, "dismissed", "The sign was missing that day.")
    assert result.case_status == "dismissed" and result.refund_cents == 6300 and balance(app, cid) == 0
