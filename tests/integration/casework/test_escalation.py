"""The daily escalation walks a case through every stage of each profile on the calendar, day by day,
and agrees with the pure calculator (profiles.plan_case) every single day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from desktop.domain.case_plan import Hold as PlanHold
from desktop.domain.case_plan import NoticeMailed, plan_case
from desktop.domain.ladder import ladder
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, Citation, HotlistEntry, LedgerEntry, Notice, OwnerLookup
from desktop.services.admin import profiles as profile_store
from desktop.services.cases import escalation
from desktop.services.cases import steps as case_ops
from desktop.services.core import sqltext
from desktop.services.core.context import AppContext
from tests.conftest import seed_users
from tests.helpers.casework import TZ, add_owner, escalate, mail_queued
from tests.helpers.factories import add_citation

PLATES = {"CA": ("7ABC123", "CA"), "NYC": ("HXK4821", "NY"), "ENG": ("LB07SEO", "GB")}
ENG_ADDRESS = "10 Downing St, Washington, DC 20500"  # a US-parseable address stands in for a UK one


def _profile(app: AppContext, code: str):  # type: ignore[no-untyped-def]
    with app.db.reading() as s:
        return profile_store.in_force(s, code, date(2024, 1, 1)).profile


def _snapshot(app: AppContext, cid: int) -> tuple:  # type: ignore[type-arg]
    with app.db.reading() as s:
        c = s.get(Citation, cid)
        penalties = [(e.dedupe_key, e.amount_cents, e.effective_date) for e in s.scalars(
            select(LedgerEntry).where(LedgerEntry.citation_id == cid, LedgerEntry.kind == "penalty")
            .order_by(LedgerEntry.effective_date))]
        notices = [(n.stage, n.kind, n.status, n.mailed_at) for n in s.scalars(
            select(Notice).where(Notice.citation_id == cid).order_by(Notice.id))]
        return c, penalties, notices


def _plan_code(code: str) -> str:
    if code.startswith("mail_"):
        return "mail:" + code[len("mail_"):]
    return code


def _compare_with_plan(app: AppContext, cid: int, profile, day: date, holds: list[PlanHold],  # type: ignore[no-untyped-def]
                       catching_up: bool = False) -> str:
    """``catching_up``: runs are days apart, so a notice is queued on the run after its stage date (the
    calculator dates "mail it" on the stage date itself)."""
    c, penalties, notices = _snapshot(app, cid)
    tz = ZoneInfo(profile.timezone)
    events: list = [NoticeMailed(stage, mailed.astimezone(tz).date())
                    for stage, _k, _s, mailed in notices if mailed is not None]
    events += [h for h in holds if h.start <= day]
    sched = plan_case(profile, c.issued_at, c.fine_cents, events, day)
    assert sum(p[1] for p in penalties) == sched.penalties_cents, (day, penalties, sched.penalties)
    assert [(f"penalty:{p.stage_key}", p.amount_cents, p.as_of_date) for p in sched.penalties] == penalties
    assert c.next_action and c.next_action_date, (day, c.next_action)
    if sched.on_hold:
        assert c.on_hold and c.next_action.startswith("hold:")
        return "hold"
    if c.stage.startswith("final:"):
        assert sched.current_stage == profile.stages[-1].key
        assert sched.next_action is not None and sched.next_action.due_on <= day
        assert c.next_action in ("collections_follow_up", "review")
        return c.stage
    assert c.stage == sched.current_stage, (day, c.stage, sched.current_stage)
    assert sched.next_action is not None
    assert c.next_action == _plan_code(sched.next_action.code), (day, c.next_action, sched.next_action)
    if catching_up and c.next_action.startswith(("mail:", "owner:")):
        assert sched.next_action.due_on <= c.next_action_date <= day, (day, c.next_action_date, sched.next_action)
    else:
        assert c.next_action_date == sched.next_action.due_on, (day, c.next_action_date, sched.next_action)
    return c.stage


def _walk(app: AppContext, clock, code: str, issued: datetime, fine: int, days: int,  # type: ignore[no-untyped-def]
          hold: tuple[int, int] | None = None) -> tuple[int, list[tuple[date, str]]]:
    actors = seed_users(app)
    supervisor = actors[Role.SUPERVISOR]
    plate, jur = PLATES[code]
    add_owner(app, plate, "SMITH, JANE", ENG_ADDRESS if code == "ENG" else
              "350 5th Ave, New York, NY 10118" if code == "NYC" else
              "1234 W Olympic Blvd Apt 5, Los Angeles, CA 90015", jurisdiction=jur)
    cid = add_citation(app, plate=plate, jurisdiction=jur, profile_code=code, issued_at=issued, fine_cents=fine)
    profile = _profile(app, code)
    tz = ZoneInfo(TZ[code])
    first = issued.astimezone(tz).date()
    holds: list[PlanHold] = []
    stages: list[tuple[date, str]] = []
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        if hold and offset == hold[0]:
            clock.now = datetime.combine(day, datetime.min.time(), tzinfo=tz).replace(hour=10)
            with app.uow(supervisor) as uow:
                case_ops.place_hold(uow, case_ops.load_case(uow, cid), "supervisor", "owner in hospital")
                uow.commit()
        if hold and offset == hold[1]:
            clock.now = datetime.combine(day, datetime.min.time(), tzinfo=tz).replace(hour=10)
            with app.uow(supervisor) as uow:
                case = case_ops.load_case(uow, cid)
                case_ops.release_hold(uow, case, case_ops.active_holds(uow, cid)[0], "back home")
                uow.commit()
            holds = [PlanHold(first + timedelta(days=hold[0]), day, "supervisor hold")]
        escalate(app, clock, supervisor, day, code)
        if hold and hold[0] <= offset < hold[1]:
            holds = [PlanHold(first + timedelta(days=hold[0]), None, "supervisor hold")]
        stage = _compare_with_plan(app, cid, profile, day, holds)
        if not stages or stages[-1][1] != stage:
            stages.append((day, stage))
        assert escalation.cases_without_next_action(app) == []
        # The mail office mails what was queued, the same afternoon.
        mail_queued(app, day, code)
    return cid, stages


def test_california_case_through_every_stage(app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    issued = datetime(2024, 1, 10, 9, 15, tzinfo=ZoneInfo(TZ["CA"]))
    cid, stages = _walk(app, clock, "CA", issued, 6300, 90)
    assert stages == [
        (date(2024, 1, 10), "citation"),
        (date(2024, 1, 31), "delinquent_notice"),   # 21 days: delinquent, penalty = the fine
        (date(2024, 3, 1), "final_notice"),         # 30 days after the delinquent notice was mailed
        (date(2024, 3, 31), "collections"),         # 30 days after the final notice: referred
    ]
    c, penalties, notices = _snapshot(app, cid)
    assert c.status == "in_collections" and c.next_action == "review"
    assert c.next_action_date == date(2024, 9, 27)  # reviewed 180 days after the referral
    assert penalties == [("penalty:delinquent_notice", 6300, date(2024, 1, 31))]
    assert [(s, k, st) for s, k, st, _m in notices] == [
        ("delinquent_notice", "notice_of_delinquent_violation", "mailed"), ("final_notice", "final_notice", "mailed")]
    with app.db.reading() as s:
        moved = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(cid),
                                                   AuditEntry.action == "citation.in_collections")).all()
        assert len(moved) == 1 and moved[0].after["stage"] == "collections"
        assert s.scalar(select(func.count()).select_from(OwnerLookup).where(OwnerLookup.citation_id == cid)) == 1
        assert {lk.purpose for lk in s.scalars(select(OwnerLookup))} == {escalation.NOTICE_PURPOSE}


def test_new_york_case_through_every_stage(app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    issued = datetime(2024, 1, 1, 8, 0, tzinfo=ZoneInfo(TZ["NYC"]))
    cid, stages = _walk(app, clock, "NYC", issued, 6500, 132)
    assert stages == [
        (date(2024, 1, 1), "citation"),
        (date(2024, 1, 31), "penalty_30"),
        (date(2024, 3, 1), "penalty_60"),
        (date(2024, 3, 31), "penalty_90"),
        (date(2024, 4, 10), "judgment"),            # day 100
        (date(2024, 5, 10), "final:collections_referral"),
    ]
    c, penalties, notices = _snapshot(app, cid)
    assert [p[1] for p in penalties] == [1000, 2000, 3000]
    assert c.status == "in_collections" and c.next_action == "collections_follow_up"
    assert [k for _s, k, _st, _m in notices] == ["penalty_notice", "notice_of_impending_default_judgment"]
    with app.db.reading() as s:
        actions = [a for (a,) in s.execute(select(AuditEntry.action).where(AuditEntry.entity_id == str(cid))
                                           .order_by(AuditEntry.id))]
    assert "escalation.judgment" in actions and "citation.in_collections" in actions


def test_england_case_through_every_stage(app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    issued = datetime(2024, 3, 1, 14, 0, tzinfo=ZoneInfo(TZ["ENG"]))
    cid, stages = _walk(app, clock, "ENG", issued, 7000, 105)
    # each notice is mailed the day it is due and served on the second working day after (Easter 2024: Good
    # Friday 29 March, Easter Monday 1 April; Friday 17 May is served Tuesday 21 May)
    assert stages == [
        (date(2024, 3, 1), "pcn"),
        (date(2024, 3, 29), "notice_to_owner"),     # 28 days after the PCN
        (date(2024, 5, 1), "charge_certificate"),   # after the 28 days beginning with the NtO's service, 3 April
        (date(2024, 5, 17), "order_for_recovery"),  # 14 days after the charge certificate's service, 3 May
        (date(2024, 6, 11), "final:collections_referral"),  # 21 days for a witness statement
    ]
    c, penalties, notices = _snapshot(app, cid)
    assert penalties == [("penalty:charge_certificate", 3500, date(2024, 5, 1))]  # +50 %
    assert [k for _s, k, _st, _m in notices] == ["notice_to_owner", "charge_certificate", "order_for_recovery"]
    assert c.status == "in_collections"


def test_hold_moves_every_date_by_its_length(app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    issued = datetime(2024, 1, 1, 8, 0, tzinfo=ZoneInfo(TZ["NYC"]))
    cid, stages = _walk(app, clock, "NYC", issued, 6500, 112, hold=(10, 20))
    # Ten days on hold: every step is ten days later than without it.
    assert stages[:4] == [
        (date(2024, 1, 1), "citation"), (date(2024, 1, 11), "hold"), (date(2024, 1, 21), "citation"),
        (date(2024, 2, 10), "penalty_30"),
    ]
    assert (date(2024, 4, 20), "judgment") in stages
    c, penalties, _n = _snapshot(app, cid)
    assert c.held_days == 10
    assert [p[2] for p in penalties] == [date(2024, 2, 10), date(2024, 3, 11), date(2024, 4, 10)]


@pytest.mark.parametrize("code", ["CA", "NYC", "ENG"])
def test_a_batch_of_every_age_lands_where_the_calculator_puts_each_case(any_app: AppContext, clock, code: str) -> None:  # type: ignore[no-untyped-def]
    """The set-based run over many cases at once (the first run of an office moves old cases several
    rungs in one go), then every few days: each case agrees with plan_case at every run."""
    _batch_of_every_age(any_app, clock, code)


@pytest.mark.parametrize("code", ["CA", "NYC"])
def test_indexes_rebuilt_around_a_large_rewrite_change_nothing(app: AppContext, clock, monkeypatch, code: str) -> None:  # type: ignore[no-untyped-def]
    """On a large office the rewrite of most cases drops the next-step indexes and builds them again
    (inside the run's transaction): here made to happen on a small one, with the same results."""
    monkeypatch.setattr(sqltext.Sql, "REBUILD_MIN_ROWS", 1)
    with app.db.reading() as s:
        before = sorted(s.execute(text("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'citations'")).all())
    rebuilt: list[str] = []
    real_run = sqltext.Sql.run

    def run(self, sql: str, **params):  # type: ignore[no-untyped-def]
        if sql.startswith("CREATE INDEX"):
            rebuilt.append(sql)
        return real_run(self, sql, **params)

    monkeypatch.setattr(sqltext.Sql, "run", run)
    _batch_of_every_age(app, clock, code)
    assert rebuilt  # the path was taken
    with app.db.reading() as s:
        assert sorted(s.execute(text("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'citations'")).all()) \
            == before
        assert s.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def _batch_of_every_age(app: AppContext, clock, code: str) -> None:  # type: ignore[no-untyped-def]
    supervisor = seed_users(app)[Role.SUPERVISOR]
    tz = ZoneInfo(TZ[code])
    profile = _profile(app, code)
    first = date(2024, 6, 3)
    plate, jur = PLATES[code]
    cases = []
    for n, age in enumerate((0, 12, 25, 33, 45, 64, 75, 95, 110, 160, 400)):
        add_owner(app, f"{plate[:-2]}{n:02d}", "SMITH, JANE", ENG_ADDRESS if code == "ENG" else
                  "350 5th Ave, New York, NY 10118", jurisdiction=jur)
        issued = datetime.combine(first - timedelta(days=age), datetime.min.time(), tzinfo=tz).replace(hour=9)
        cases.append(add_citation(app, plate=f"{plate[:-2]}{n:02d}", jurisdiction=jur, profile_code=code,
                                  issued_at=issued, fine_cents=6500 + n))
    stages: set[str] = set()
    for offset in range(0, 121, 6):
        day = first + timedelta(days=offset)
        escalate(app, clock, supervisor, day, code)
        for cid in cases:
            stages.add(_compare_with_plan(app, cid, profile, day, [], catching_up=True))
        assert escalation.cases_without_next_action(app) == []
        mail_queued(app, day, code)
    assert {r.key for r in ladder(profile)} <= stages  # every rung was reached by some case


@pytest.mark.parametrize("code", ["CA", "NYC", "ENG"])
def test_running_twice_for_the_same_day_changes_nothing(app: AppContext, clock, code: str) -> None:  # type: ignore[no-untyped-def]
    _twice(app, clock, code)


@pytest.mark.postgres
def test_running_twice_changes_nothing_on_postgresql(pg_app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    _twice(pg_app, clock, "CA")


def _twice(app: AppContext, clock, code: str) -> None:  # type: ignore[no-untyped-def]
    actor = seed_users(app)[Role.SUPERVISOR]
    plate, jur = PLATES[code]
    add_owner(app, plate, jurisdiction=jur)
    tz = ZoneInfo(TZ[code])
    ids = [add_citation(app, plate=plate, jurisdiction=jur, profile_code=code,
                        issued_at=datetime(2024, 1, 1, 12, tzinfo=tz) + timedelta(days=7 * i)) for i in range(12)]
    add_citation(app, plate="NOOWNER1", jurisdiction=jur, profile_code=code,
                 issued_at=datetime(2024, 1, 1, 12, tzinfo=tz))

    def state() -> tuple:  # type: ignore[type-arg]
        with app.db.reading() as s:
            return (
                sorted((c.id, c.version, c.stage, c.status, c.next_action, c.next_action_date, c.next_stage_on)
                       for c in s.scalars(select(Citation))),
                s.scalar(select(func.count()).select_from(LedgerEntry)),
                sorted((n.id, n.status, n.hold_reason) for n in s.scalars(select(Notice))),
                s.scalar(select(func.count()).select_from(AuditEntry)),
                s.scalar(select(func.count()).select_from(OwnerLookup)),
                s.scalar(select(func.count()).select_from(HotlistEntry)),
            )

    for day in (date(2024, 2, 15), date(2024, 4, 1), date(2024, 8, 1)):
        first = escalate(app, clock, actor, day, code)
        assert first.changed
        before = state()
        clock.now += timedelta(hours=3)
        second = escalation.run_escalation(app, actor, day)
        assert not second.changed, second.summary()
        assert state() == before
        assert second.without_next_action == 0
        mail_queued(app, day, code)
    assert len(ids) == 12


def test_every_open_case_has_a_next_action_even_without_a_profile(app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    actor = seed_users(app)[Role.SUPERVISOR]
    known = add_citation(app, plate="7ABC123", issued_at=datetime(2024, 1, 1, 18, tzinfo=ZoneInfo("UTC")))
    unknown = add_citation(app, plate="7ABC124", profile_code="XX",
                           issued_at=datetime(2024, 1, 1, 18, tzinfo=ZoneInfo("UTC")))
    appealed = add_citation(app, plate="7ABC125", status="under_appeal")
    pending = add_citation(app, plate="7ABC126", status="pending_review")
    result = escalate(app, clock, actor, date(2024, 2, 1))
    assert result.without_next_action == 0 and escalation.cases_without_next_action(app) == []
    with app.db.reading() as s:
        assert s.get(Citation, known).next_action == "owner:notice_of_delinquent_violation"
        assert s.get(Citation, unknown).next_action == "review:unscheduled"
        assert s.get(Citation, appealed).next_action == "hold:appeal"
        assert s.get(Citation, pending).next_action is None  # not a case yet: review's queue
    # A case someone reopened by hand, without a next action, is listed until the next run places it.
    with app.db.write_session() as s:
        c = s.get(Citation, known)
        c.next_action = c.next_action_date = None
        s.commit()
    assert [m.id for m in escalation.cases_without_next_action(app)] == [known]
    escalate(app, clock, actor, date(2024, 2, 2))
    assert escalation.cases_without_next_action(app) == []


def test_notice_to_a_case_without_owner_is_held_then_released(any_app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    app = any_app
    actor = seed_users(app)[Role.SUPERVISOR]
    cid = add_citation(app, plate="8XYZ001", issued_at=datetime(2024, 1, 1, 18, tzinfo=ZoneInfo("UTC")))
    bad = add_citation(app, plate="8XYZ002", issued_at=datetime(2024, 1, 1, 18, tzinfo=ZoneInfo("UTC")))
    good = add_citation(app, plate="8XYZ003", issued_at=datetime(2024, 1, 1, 18, tzinfo=ZoneInfo("UTC")))
    bad_owner = add_owner(app, "8XYZ002", "DOE, JOHN", "GENERAL DELIVERY")
    good_owner = add_owner(app, "8XYZ003", "ROE, JANE", "55 Main St, Santa Monica, CA 90405")
    result = escalate(app, clock, actor, date(2024, 1, 23))
    assert (result.notices_held, result.notices_queued, result.owner_lookups) == (2, 1, 3)
    with app.db.reading() as s:
        held = {n.citation_id: n for n in s.scalars(select(Notice))}
        assert held[cid].status == "held" and "No registered owner" in held[cid].hold_reason
        assert held[bad].status == "held" and held[bad].hold_reason.startswith("Owner address cannot be mailed")
        assert held[good].status == "queued"
        # the step, the owner looked up and the next action are written together, each case once
        assert [(c.owner_id, c.next_action, c.stage) for c in (s.get(Citation, i) for i in (cid, bad, good))] == [
            (None, "owner:notice_of_delinquent_violation", held[cid].stage),
            (bad_owner, "owner:notice_of_delinquent_violation", held[cid].stage),
            (good_owner, "mail:notice_of_delinquent_violation", held[cid].stage)]
    # The registry now answers for the first plate: the next run looks again and releases the notice.
    add_owner(app, "8XYZ001", "ROE, RICHARD", "55 Main St, Santa Monica, CA 90405")
    result = escalate(app, clock, actor, date(2024, 1, 24))
    assert result.notices_released == 1 and result.owner_lookups == 1
    with app.db.reading() as s:
        n = s.scalars(select(Notice).where(Notice.citation_id == cid)).one()
        assert n.status == "queued" and n.address_snapshot["line1"] == "55 MAIN ST"
        assert s.get(Citation, cid).next_action == "mail:notice_of_delinquent_violation"


def test_a_case_whose_stage_notice_was_mailed_before_it_reached_the_stage(any_app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    """A case taken over with its Notice to Owner already mailed (by the system before, say; the demo's
    England appeal AV80412003 is one): when the run moves it onto that stage, the stage's clock started at
    that mailing. Recent mailing: dated as the calculator dates it. Mailed long ago: moved on in the same run.
    Neither is left without a date for its next action (it was, for a day, before)."""
    app = any_app
    supervisor = seed_users(app)[Role.SUPERVISOR]
    tz = ZoneInfo(TZ["ENG"])
    profile = _profile(app, "ENG")
    day = date(2024, 6, 3)
    cases = {}
    for n, mailed_ago in enumerate((10, 45)):
        plate = f"LB07SE{n}"
        owner = add_owner(app, plate, "SMITH, JANE", ENG_ADDRESS, jurisdiction="GB")
        issued = datetime.combine(day - timedelta(days=90), datetime.min.time(), tzinfo=tz).replace(hour=9)
        cid = add_citation(app, plate=plate, jurisdiction="GB", profile_code="ENG", issued_at=issued, fine_cents=7000)
        mailed = datetime.combine(day - timedelta(days=mailed_ago), datetime.min.time(), tzinfo=tz).replace(hour=16)
        with app.db.write_session() as s:
            s.add(Notice(citation_id=cid, kind="notice_to_owner", stage="notice_to_owner", status="mailed",
                         queued_at=mailed, mailed_at=mailed, owner_id=owner, dedupe_key="stage:notice_to_owner"))
            s.commit()
        cases[mailed_ago] = cid
    escalate(app, clock, supervisor, day, "ENG")
    assert escalation.cases_without_next_action(app) == []
    recent, old = cases[10], cases[45]
    assert _compare_with_plan(app, recent, profile, day, [], catching_up=True) == "notice_to_owner"
    assert _compare_with_plan(app, old, profile, day, [], catching_up=True) == "charge_certificate"
    c, penalties, notices = _snapshot(app, old)
    # +50 %, dated the day it fell due (the calculator agreed above), not the day of the run
    assert [p[:2] for p in penalties] == [("penalty:charge_certificate", 3500)] and penalties[0][2] < day
    assert [(k, st) for _s, k, st, _m in notices] == [("notice_to_owner", "mailed"), ("charge_certificate", "queued")]
    c, penalties, notices = _snapshot(app, recent)
    assert c.next_stage_on == c.next_action_date and c.next_action_date > day and penalties == []
    assert [k for _s, k, _st, _m in notices] == ["notice_to_owner"]  # not queued a second time


def test_closed_case_notices_are_cancelled(app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    actor = seed_users(app)[Role.SUPERVISOR]
    add_owner(app, "7ABC123")
    cid = add_citation(app, plate="7ABC123", issued_at=datetime(2024, 1, 1, 18, tzinfo=ZoneInfo("UTC")))
    escalate(app, clock, actor, date(2024, 1, 23))
    with app.db.write_session() as s:
        s.get(Citation, cid).status = "paid"
        s.commit()
    result = escalate(app, clock, actor, date(2024, 1, 24))
    assert result.notices_cancelled == 1


def test_scofflaw_goes_on_the_hot_list_and_comes_off_when_paid(app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    actor = seed_users(app)[Role.SUPERVISOR]
    add_owner(app, "HXK4821", jurisdiction="NY", address="350 5th Ave, New York, NY 10118")
    ny = ZoneInfo(TZ["NYC"])
    ids = [add_citation(app, plate="HXK4821", jurisdiction="NY", profile_code="NYC",
                        issued_at=datetime(2024, 1, 1 + i, 12, tzinfo=ny)) for i in range(4)]
    other = add_citation(app, plate="TWO1234", jurisdiction="NY", profile_code="NYC",
                         issued_at=datetime(2024, 1, 1, 12, tzinfo=ny))
    for day in (date(2024, 2, 1), date(2024, 5, 1), date(2024, 6, 1)):
        escalate(app, clock, actor, day, "NYC")
    with app.db.reading() as s:
        entries = s.scalars(select(HotlistEntry)).all()
        assert [(e.plate, e.reason, e.active) for e in entries] == [("HXK4821", "boot-eligible", True)]
        assert s.get(Citation, other).status == "in_collections"
    # Paying one case leaves three unpaid: not more than the threshold (3), so the plate comes off.
    with app.uow(actor) as uow:
        case = case_ops.load_case(uow, ids[0])
        from desktop.domain.ledger import EntryKind

        case_ops.post(uow, case, EntryKind.PAYMENT, -case_ops.balance(uow, ids[0]), memo="paid at the counter")
        uow.commit()
    result = escalate(app, clock, actor, date(2024, 6, 2), "NYC")
    assert result.hotlist_cleared == 1
    with app.db.reading() as s:
        assert not s.scalars(select(HotlistEntry)).one().active


def test_profile_version_in_force_on_the_issue_date(app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    actors = seed_users(app)
    admin = actors[Role.ADMIN]
    clock.now = datetime(2024, 6, 1, 12, tzinfo=ZoneInfo("UTC"))
    with app.db.reading() as s:
        current = profile_store.in_force(s, "NYC", date(2024, 6, 1)).definition
    changed = dict(current)
    changed["stages"] = [dict(st) for st in current["stages"]]
    changed["stages"][1] = dict(changed["stages"][1], penalty={"fixed_cents": 1500})
    stored = profile_store.save_new_version(app, admin, "NYC", changed, date(2024, 7, 1), "council raised the fee")
    assert stored.version == 2
    ny = ZoneInfo(TZ["NYC"])
    before = add_citation(app, plate="OLD1234", jurisdiction="NY", profile_code="NYC",
                          issued_at=datetime(2024, 6, 30, 12, tzinfo=ny))
    after = add_citation(app, plate="NEW1234", jurisdiction="NY", profile_code="NYC",
                         issued_at=datetime(2024, 7, 1, 12, tzinfo=ny))
    escalate(app, clock, actors[Role.SUPERVISOR], date(2024, 8, 15), "NYC")
    with app.db.reading() as s:
        assert s.get(Citation, before).profile_version == 1 and s.get(Citation, after).profile_version == 2
        fees = dict(s.execute(select(LedgerEntry.citation_id, LedgerEntry.amount_cents)
                              .where(LedgerEntry.kind == "penalty")).all())
    assert fees == {before: 1000, after: 1500}


def test_hold_on_a_case_never_escalated_schedules_it_on_release(app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    actors = seed_users(app)
    supervisor = actors[Role.SUPERVISOR]
    la = ZoneInfo(TZ["CA"])
    cid = add_citation(app, plate="7HLD001", issued_at=datetime(2024, 1, 2, 9, tzinfo=la))
    clock.now = datetime(2024, 1, 3, 10, tzinfo=la)
    with app.uow(supervisor) as uow:
        case_ops.place_hold(uow, case_ops.load_case(uow, cid), "supervisor", "owner disputes by phone")
        uow.commit()
    with app.db.reading() as s:
        c = s.get(Citation, cid)
        assert c.next_action == "hold:supervisor" and c.next_action_date == date(2024, 2, 2)
    clock.now = datetime(2024, 1, 8, 10, tzinfo=la)  # five days on hold
    with app.uow(supervisor) as uow:
        case = case_ops.load_case(uow, cid)
        case_ops.release_hold(uow, case, case_ops.active_holds(uow, cid)[0], "resolved")
        uow.commit()
    with app.db.reading() as s:
        c = s.get(Citation, cid)
        assert (c.stage, c.held_days) == ("citation", 5)
        assert (c.next_action, c.next_action_date) == ("next_stage:delinquent_notice", date(2024, 1, 28))
    # The daily run agrees and changes nothing more.
    result = escalate(app, clock, supervisor, date(2024, 1, 8))
    assert not result.changed
