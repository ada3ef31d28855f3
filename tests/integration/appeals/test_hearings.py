"""Hearing officers' availability, scheduling without double booking, adjournments, the day's docket."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from desktop.domain.appeals import appeal_number
from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.persistence.models import Appeal, AuditEntry, Hearing, Notice
from desktop.services import appeals
from tests.conftest import seed_users
from tests.integration.appeals.conftest import make_case
from tests.integration.appeals.test_intake_and_decisions import request

LA = ZoneInfo("America/Los_Angeles")
DAY = date(2026, 11, 26)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LA)


def setup(app, actors, n: int = 2) -> tuple[int, list[int]]:
    officer = actors[Role.HEARING_OFFICER].user_id
    appeals.add_slot(app, actors[Role.SUPERVISOR], officer, at(9), at(12))
    ids = []
    for _ in range(n):
        cid = make_case(app)
        ids.append(appeals.file_appeal(app, actors[Role.CLERK], request(app, cid)).appeal_id)
    return officer, ids


def test_schedule_in_a_free_time_and_queue_the_hearing_notice(app, actors) -> None:
    officer, (a1, _a2) = setup(app, actors)
    free = appeals.free_times(app, actors[Role.CLERK], officer, DAY, 20)
    assert free[0] == at(9) and free[-1] == at(11, 40) and len(free) == 9
    hid = appeals.schedule_hearing(app, actors[Role.HEARING_OFFICER], a1, officer, at(9, 20), "video")
    with app.db.reading() as s:
        h = s.get(Hearing, hid)
        assert (h.mode, h.status, h.minutes) == ("video", "scheduled", 20)
        assert s.get(Appeal, a1).status == "scheduled"
        assert s.scalar(select(Notice.kind).where(Notice.dedupe_key == f"hearing_notice:{hid}")) == "hearing_notice"
    assert at(9, 20) not in appeals.free_times(app, actors[Role.CLERK], officer, DAY, 20)
    day = appeals.officer_day(app, actors[Role.CLERK], officer, DAY)
    assert [b.appeal_number for b in day[0].bookings] == [appeal_number(a1)]


def test_no_double_booking_and_only_inside_availability(app, actors) -> None:
    officer, (a1, a2) = setup(app, actors)
    appeals.schedule_hearing(app, actors[Role.SUPERVISOR], a1, officer, at(10), "in_person")
    with pytest.raises(UserError, match="already has a hearing at 10:00"):
        appeals.schedule_hearing(app, actors[Role.SUPERVISOR], a2, officer, at(10, 10), "phone")
    with pytest.raises(UserError, match="not available on 2026-11-26 at 13:00"):
        appeals.schedule_hearing(app, actors[Role.SUPERVISOR], a2, officer, at(13), "phone")
    with pytest.raises(UserError, match="not available"):
        appeals.schedule_hearing(app, actors[Role.SUPERVISOR], a2, officer, at(11, 50), "phone")  # runs past noon
    with pytest.raises(UserError, match="already has a hearing"):
        appeals.schedule_hearing(app, actors[Role.SUPERVISOR], a1, officer, at(11), "phone")
    with pytest.raises(UserError, match="not a kind of hearing"):
        appeals.schedule_hearing(app, actors[Role.SUPERVISOR], a2, officer, at(11), "carrier pigeon")
    appeals.schedule_hearing(app, actors[Role.SUPERVISOR], a2, officer, at(10, 20), "phone")  # right after: fine


def test_availability_rules(app, actors) -> None:
    officer = actors[Role.HEARING_OFFICER].user_id
    appeals.add_slot(app, actors[Role.SUPERVISOR], officer, at(9), at(12))
    with pytest.raises(UserError, match="must not overlap"):
        appeals.add_slot(app, actors[Role.SUPERVISOR], officer, at(11), at(13))
    with pytest.raises(UserError, match="active hearing officer"):
        appeals.add_slot(app, actors[Role.SUPERVISOR], actors[Role.CLERK].user_id, at(13), at(15))
    with pytest.raises(PermissionDenied):
        appeals.add_slot(app, actors[Role.CLERK], officer, at(13), at(15))
    with pytest.raises(UserError, match="in the future"):
        cid = make_case(app)
        aid = appeals.file_appeal(app, actors[Role.CLERK], request(app, cid)).appeal_id
        appeals.add_slot(app, actors[Role.SUPERVISOR], officer, at(7, 0, date(2026, 11, 24)), at(11, 0, date(2026, 11, 24)))
        appeals.schedule_hearing(app, actors[Role.SUPERVISOR], aid, officer, at(8, 0, date(2026, 11, 24)), "phone")


def test_adjournment_moves_the_hearing_with_a_reason_and_a_new_notice(app, actors) -> None:
    officer, (a1, _a2) = setup(app, actors)
    appeals.add_slot(app, actors[Role.SUPERVISOR], officer, at(9, 0, DAY + timedelta(days=7)),
                     at(12, 0, DAY + timedelta(days=7)))
    hid = appeals.schedule_hearing(app, actors[Role.SUPERVISOR], a1, officer, at(9), "in_person")
    with pytest.raises(UserError, match="reason"):
        appeals.adjourn_hearing(app, actors[Role.SUPERVISOR], hid, at(10, 0, DAY + timedelta(days=7)), "")
    new = appeals.adjourn_hearing(app, actors[Role.HEARING_OFFICER], hid, at(10, 0, DAY + timedelta(days=7)),
                                  "Appellant's witness unavailable; asked by phone on 24 Nov")
    with app.db.reading() as s:
        old_h, new_h = s.get(Hearing, hid), s.get(Hearing, new)
        assert old_h.status == "adjourned" and "witness unavailable" in old_h.adjourned_reason
        assert new_h.status == "scheduled" and new_h.location and "Hearing Room" in new_h.location
        kinds = [k for k, in s.execute(select(Notice.dedupe_key).where(Notice.kind == "hearing_notice"))]
        assert kinds == [f"hearing_notice:{hid}", f"hearing_notice:{new}"]
        audit = s.scalar(select(AuditEntry).where(AuditEntry.action == "hearing.adjourned"))
        assert "witness unavailable" in audit.reason and audit.after["hearing"] == new
    # the freed time can be booked again
    assert at(9) in appeals.free_times(app, actors[Role.CLERK], officer, DAY, 20)
    rows = appeals.docket(app, actors[Role.CLERK], DAY)
    assert [(r.status, r.adjourned_reason is not None) for r in rows] == [("adjourned", True)]
    with pytest.raises(UserError, match="only a scheduled hearing"):
        appeals.adjourn_hearing(app, actors[Role.SUPERVISOR], hid, at(11), "second try")


def test_deciding_marks_the_hearing_held(app, actors, clock) -> None:
    officer, (a1, _a2) = setup(app, actors)
    hid = appeals.schedule_hearing(app, actors[Role.SUPERVISOR], a1, officer, at(9), "phone")
    clock.now = at(9, 30)
    appeals.decide_appeal(app, actors[Role.HEARING_OFFICER], a1, "dismissed", "Appellant showed a valid permit.")
    with app.db.reading() as s:
        assert s.get(Hearing, hid).status == "held"


def test_docket_lists_the_days_hearings_in_time_order(app, actors) -> None:
    officer, (a1, a2) = setup(app, actors)
    appeals.schedule_hearing(app, actors[Role.SUPERVISOR], a2, officer, at(11), "phone")
    appeals.schedule_hearing(app, actors[Role.SUPERVISOR], a1, officer, at(9, 40), "in_person")
    rows = appeals.docket(app, actors[Role.CLERK], DAY, officer)
    assert [r.appeal_id for r in rows] == [a1, a2]
    assert rows[0].officer_name == "Hearing officer" and rows[0].balance_cents == 6300
    assert appeals.docket(app, actors[Role.CLERK], DAY + timedelta(days=1)) == []


@pytest.mark.postgres
def test_two_clerks_booking_the_same_time_at_once_get_one_hearing(pg_app) -> None:
    actors = seed_users(pg_app)
    officer = actors[Role.HEARING_OFFICER].user_id
    appeals.add_slot(pg_app, actors[Role.SUPERVISOR], officer, at(9), at(12))
    ids = [appeals.file_appeal(pg_app, actors[Role.CLERK], request(pg_app, make_case(pg_app))).appeal_id
           for _ in range(4)]
    barrier = threading.Barrier(len(ids))
    results: list[str] = []

    def book(aid: int) -> None:
        barrier.wait()
        try:
            appeals.schedule_hearing(pg_app, actors[Role.SUPERVISOR], aid, officer, at(10), "phone")
            results.append("ok")
        except UserError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=book, args=(aid,)) for aid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count("ok") == 1
    assert all("already has a hearing" in r for r in results if r != "ok")
    with pg_app.db.reading() as s:
        assert len(list(s.scalars(select(Hearing).where(Hearing.status == "scheduled")))) == 1


def test_a_clash_is_found_among_several_hearings_nearby(app, actors) -> None:
    officer, ids = setup(app, actors, n=4)
    appeals.schedule_hearing(app, actors[Role.SUPERVISOR], ids[0], officer, at(9), "phone")
    appeals.schedule_hearing(app, actors[Role.SUPERVISOR], ids[1], officer, at(9, 40), "phone")
    appeals.schedule_hearing(app, actors[Role.SUPERVISOR], ids[2], officer, at(10, 20), "phone")
    with pytest.raises(UserError, match="already has a hearing at 10:20"):
        appeals.schedule_hearing(app, actors[Role.SUPERVISOR], ids[3], officer, at(10, 30), "phone", minutes=30)


@pytest.mark.postgres
def test_two_hearing_officers_deciding_at_once_record_one_decision(pg_app) -> None:
    from desktop.services.admin import users

    actors = seed_users(pg_app)
    users.add_user(pg_app, actors[Role.ADMIN], "hearing2", "Second Officer", "hearing_officer", "second-password-1")
    officers = [actors[Role.HEARING_OFFICER], users.actor_for(pg_app, "hearing2")]
    cid = make_case(pg_app, paid_cents=6300)
    aid = appeals.file_appeal(pg_app, actors[Role.CLERK], request(pg_app, cid)).appeal_id
    barrier = threading.Barrier(2)
    results: list[str] = []

    def decide(who, decision: str) -> None:
        barrier.wait()
        try:
            appeals.decide_appeal(pg_app, who, aid, decision, f"Decided {decision} after reading the file.")
            results.append(decision)
        except UserError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=decide, args=(officers[0], "upheld")),
               threading.Thread(target=decide, args=(officers[1], "dismissed"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    decided = [r for r in results if r in ("upheld", "dismissed")]
    assert len(decided) == 1, results
    assert any("cannot be taken twice" in r for r in results)
    with pg_app.db.reading() as s:
        appeal = s.get(Appeal, aid)
        assert appeal.decision == decided[0]
        from desktop.persistence.models import LedgerEntry

        kinds = [k for k, in s.execute(select(LedgerEntry.kind).where(LedgerEntry.citation_id == cid))]
    assert kinds.count("refund") == (1 if decided[0] == "dismissed" else 0)
