"""England: after a rejection the daily escalation waits for the law before the Charge Certificate.

Reg. 21 of the Civil Enforcement of Parking Contraventions (England) General Regulations 2007 (2022): a Charge
Certificate may be served only after the 28 days beginning with the service of the notice of rejection (of
representations, or of the adjudicator's decision) have ended unpaid. A letter posted is served on the second
working day after posting (England and Wales bank holidays are not working days). The daily run is walked day
by day: no Charge Certificate stage, notice or 50 % increase before the legal day; all three on it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from desktop.domain.profiles import load_profile
from desktop.domain.roles import Role
from desktop.persistence.models import Appeal, Citation, LedgerEntry, Notice
from desktop.services import appeals
from desktop.services.cases.escalation import run_escalation
from desktop.services.cases.queries import case_detail
from desktop.services.core.context import Actor
from tests.integration.appeals.conftest import make_case
from tests.integration.appeals.test_intake_and_decisions import request
from tests.integration.appeals.test_law_dates import _run

ENG = load_profile("ENG")
RUN = Actor.system("escalate")


@pytest.fixture
def app(any_app):  # type: ignore[no-untyped-def]
    """Each walk on SQLite and on PostgreSQL (the run's floor step is SQL on both)."""
    return any_app


def _at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)


def _state(app, cid: int) -> tuple[str | None, bool, bool, date | None]:  # type: ignore[no-untyped-def]
    """(stage, a Charge Certificate notice exists, its 50 % increase is posted, next action date)."""
    with app.db.reading() as s:
        case = s.get_one(Citation, cid)
        cc = s.scalar(select(Notice.id).where(Notice.citation_id == cid, Notice.dedupe_key == "stage:charge_certificate"))
        increase = s.scalar(select(LedgerEntry.id).where(LedgerEntry.citation_id == cid,
                                                         LedgerEntry.dedupe_key == "penalty:charge_certificate"))
        return case.stage, cc is not None, increase is not None, case.next_action_date


def _mail_decision_letter(app, appeal_id: int, posted: date) -> None:  # type: ignore[no-untyped-def]
    with app.db.write_session() as s:
        letter = s.scalars(select(Notice).where(Notice.dedupe_key == f"decision_letter:{appeal_id}")).one()
        letter.status, letter.mailed_at = "mailed", _at(posted)
        s.commit()


def _to_notice_to_owner(app, clock) -> int:  # type: ignore[no-untyped-def]
    """An English case whose Notice to Owner was posted Monday 2 Nov 2026 (served Wednesday 4 Nov)."""
    cid = make_case(app, profile="ENG", fine_cents=7000, issued_at=datetime(2026, 10, 1, 10, 0, tzinfo=UTC),
                    notice_mailed=_at(date(2026, 11, 2)))
    for day in (date(2026, 11, 2), date(2026, 11, 3)):  # scheduled, moved onto the NtO rung, dated from service
        clock.now = _at(day)
        run_escalation(app, RUN, day)
    assert _state(app, cid)[0] == "notice_to_owner"
    with app.db.reading() as s:
        assert s.get_one(Citation, cid).next_stage_on == date(2026, 12, 2)  # served 4 Nov + 28
    return cid


def _walk(app, clock, cid: int, start: date, legal: date) -> None:  # type: ignore[no-untyped-def]
    day = start
    while day < legal:
        clock.now = _at(day)
        run_escalation(app, RUN, day)
        stage, cc, increase, _ = _state(app, cid)
        assert (stage, cc, increase) == ("notice_to_owner", False, False), f"{day}: CC before its legal day {legal}"
        day += timedelta(days=1)
    clock.now = _at(legal)
    run_escalation(app, RUN, legal)
    stage, cc, increase, _ = _state(app, cid)
    assert (stage, cc, increase) == ("charge_certificate", True, True), f"no CC on its legal day {legal}"


def _reject_representations(app, actors, clock, cid: int, decided: date) -> int:  # type: ignore[no-untyped-def]
    clock.now = _at(date(2026, 11, 20))
    filed = appeals.file_appeal(app, actors[Role.CLERK], request(
        app, cid, grounds=["did_not_occur"], appellant_address="14 Orchard Rise\nAshford TN23 7QT"))
    clock.now = _at(decided)
    appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], filed.appeal_id, "upheld", "The signs were in place.")
    return filed.appeal_id


def test_charge_certificate_waits_28_days_from_service_of_the_rejection(app, actors, clock) -> None:  # type: ignore[no-untyped-def]
    cid = _to_notice_to_owner(app, clock)
    # Representations 20 Nov, rejected Thursday 24 Dec 2026, the letter posted that day: Christmas (Fri 25) and
    # Boxing Day's substitute (Mon 28) are bank holidays, so it is served Wednesday 30 Dec (2nd working day).
    decided = date(2026, 12, 24)
    appeal_id = _reject_representations(app, actors, clock, cid, decided)
    _mail_decision_letter(app, appeal_id, decided)
    served = ENG.service.served_on(decided)
    assert served == date(2026, 12, 30)
    legal = served + timedelta(days=28)  # the 28 days beginning with 30 Dec end 26 Jan: CC from 27 Jan 2027
    assert legal == date(2027, 1, 27)
    # the hold alone would have put it on 2 Dec + 34 days held = 5 Jan 2027
    clock.now = _at(decided)
    run_escalation(app, RUN, decided)
    assert _state(app, cid)[3] == legal  # the date a clerk sees is the law's
    # and the case screen's calculator (plan_case) is fed the decision too: the same day
    detail = case_detail(app, actors[Role.CLERK], cid)
    assert detail.schedule is not None and detail.schedule.stage_start("charge_certificate") == legal
    _walk(app, clock, cid, decided, legal)


def test_an_unmailed_rejection_letter_holds_the_charge_certificate_until_it_is_served(app, actors, clock) -> None:  # type: ignore[no-untyped-def]
    cid = _to_notice_to_owner(app, clock)
    decided = date(2026, 12, 10)
    appeal_id = _reject_representations(app, actors, clock, cid, decided)
    posted = date(2027, 1, 4)  # the letter sat in the queue until Monday 4 Jan: served Wednesday 6 Jan
    day = decided
    while day < posted:
        clock.now = _at(day)
        run_escalation(app, RUN, day)
        assert _state(app, cid)[:3] == ("notice_to_owner", False, False)
        day += timedelta(days=1)
    _mail_decision_letter(app, appeal_id, posted)
    _walk(app, clock, cid, posted, ENG.service.served_on(posted) + timedelta(days=28))  # 3 Feb 2027


@pytest.mark.parametrize("tribunal_decided", [date(2027, 1, 14)])
def test_tribunal_refusal_also_waits_28_days_from_its_service(app, actors, clock, tribunal_decided: date) -> None:  # type: ignore[no-untyped-def]
    cid = _to_notice_to_owner(app, clock)
    rejected = date(2026, 12, 1)
    appeal_id = _reject_representations(app, actors, clock, cid, rejected)
    _mail_decision_letter(app, appeal_id, rejected)
    clock.now = _at(date(2026, 12, 15))
    tribunal = appeals.file_appeal(app, actors[Role.CLERK], request(
        app, cid, level="tribunal", grounds=["did_not_occur"], appellant_address="14 Orchard Rise\nAshford TN23 7QT"))
    with app.db.reading() as s:
        assert s.get_one(Appeal, tribunal.appeal_id).level == "tribunal"
    clock.now = _at(tribunal_decided)
    appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], tribunal.appeal_id, "upheld", "The adjudicator refused it.")
    _mail_decision_letter(app, tribunal.appeal_id, tribunal_decided)
    legal = ENG.service.served_on(tribunal_decided) + timedelta(days=28)  # Thu 14 Jan -> served Mon 18 Jan -> 15 Feb
    assert legal == date(2027, 2, 15)
    _walk(app, clock, cid, tribunal_decided, legal)


@pytest.mark.parametrize("late", [False, True])
def test_a_rejection_posted_after_its_last_day_is_held_not_printed(app, actors, clock, tmp_path, late: bool) -> None:  # type: ignore[no-untyped-def]
    """Reg. 6 (2022): a decision served after the 56 days beginning with receipt counts for nothing. Filed Tue
    24 Nov 2026: posted Thu 14 Jan 2027 it is served Mon 18 Jan (day 56); posted Fri 15 Jan, Tue 19 Jan."""
    cid = make_case(app, profile="ENG", fine_cents=7000, issued_at=datetime(2026, 9, 1, 10, 0, tzinfo=UTC),
                    notice_mailed=datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    filed = appeals.file_appeal(app, actors[Role.CLERK], request(
        app, cid, grounds=["did_not_occur"], appellant_address="14 Orchard Rise\nAshford TN23 7QT"))
    assert filed.decide_by == date(2027, 1, 14)
    clock.now = _at(date(2027, 1, 14))  # decided on the last day it can be posted
    appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], filed.appeal_id, "upheld", "The signs were in place.")
    printed_on = date(2027, 1, 15) if late else date(2027, 1, 14)
    clock.now = _at(printed_on)
    text, held = _run(app, actors, tmp_path / "d", "decision_letter")
    if not late:
        assert text is not None and not held
        return
    assert text is None and len(held) == 1
    assert "served on 19 Jan 2027" in held[0] and "last day to post it was 14 Jan 2027" in held[0]
    assert "deemed accepted" in held[0]
