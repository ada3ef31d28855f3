"""Jurisdiction profiles: loading, validation, and a case walked through every stage on the calendar."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from desktop.domain.case_plan import (
    CaseSchedule,
    ContestDecided,
    ContestFiled,
    Hold,
    NoticeMailed,
    appeal_deadline,
    decision_deadline,
    payment_plan_installments,
    plan_case,
)
from desktop.domain.errors import UserError
from desktop.domain.profiles import (
    PROFILES_DIR,
    ContestOutcome,
    all_profiles,
    load_profile,
    load_profile_versions,
    profile_for,
)

LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")
LDN = ZoneInfo("Europe/London")


def test_all_three_profiles_load_with_their_stages() -> None:
    profiles = {p.code: p for p in all_profiles()}
    assert [s.key for s in profiles["CA"].stages] == ["citation", "delinquent_notice", "final_notice", "collections"]
    assert [s.key for s in profiles["NYC"].stages] == ["citation", "penalty_30", "penalty_60", "penalty_90", "judgment"]
    assert [s.key for s in profiles["ENG"].stages] == [
        "pcn", "notice_to_owner", "charge_certificate", "order_for_recovery"
    ]
    assert len([g for g in profiles["ENG"].grounds if g.statutory]) >= 6
    assert profiles["CA"].cancel_on_vehicle_description_mismatch
    assert "40206.5" in profiles["CA"].vehicle_description_mismatch_rule


def test_utc_issue_time_is_read_on_the_local_calendar() -> None:
    # 03:30 UTC on 2 July is still 1 July in Los Angeles.
    schedule = plan_case(load_profile("CA"), datetime(2024, 7, 2, 3, 30, tzinfo=ZoneInfo("UTC")), 6300, [])
    assert schedule.issue_date == date(2024, 7, 1)


# ---------------------------------------------------------------- California


def test_california_case_through_every_stage() -> None:
    ca = load_profile("CA")
    issued = datetime(2024, 1, 10, 9, 15, tzinfo=LA)
    fine = 6300

    s = plan_case(ca, issued, fine, [], date(2024, 1, 10))
    assert s.current_stage == "citation"
    assert s.contest_deadline == date(2024, 1, 31)
    assert s.appeal_deadlines["initial_review"] == date(2024, 1, 31)
    assert s.next_action is not None and s.next_action.code == "next_stage:delinquent_notice"
    assert s.next_action.due_on == date(2024, 1, 31)
    assert s.penalties == ()

    # Day 21: delinquent, penalty added, notice to mail.
    s = plan_case(ca, issued, fine, [], date(2024, 1, 31))
    assert s.current_stage == "delinquent_notice"
    assert [(p.stage_key, p.amount_cents, p.as_of_date) for p in s.penalties] == [
        ("delinquent_notice", 6300, date(2024, 1, 31))
    ]
    assert s.next_action is not None and s.next_action.code == "mail_notice_of_delinquent_violation"
    assert s.overdue_notices == ("delinquent_notice",)

    # Mailed on 2 Feb: review may be requested 14 days after it; final notice 30 days after it.
    events: list = [NoticeMailed("delinquent_notice", date(2024, 2, 2))]
    s = plan_case(ca, issued, fine, events, date(2024, 2, 5))
    assert s.contest_deadline == date(2024, 2, 16)
    assert s.appeal_deadlines["initial_review"] == date(2024, 2, 16)
    assert s.next_action is not None and s.next_action.due_on == date(2024, 3, 3)
    assert s.amount_due_cents == 12600

    s = plan_case(ca, issued, fine, events, date(2024, 3, 3))
    assert s.current_stage == "final_notice"
    assert s.next_action is not None and s.next_action.code == "mail_final_notice"

    events.append(NoticeMailed("final_notice", date(2024, 3, 4)))
    s = plan_case(ca, issued, fine, events, date(2024, 3, 4))
    assert s.next_action is not None and s.next_action.code == "collections_referral"
    assert s.next_action.due_on == date(2024, 4, 3)

    s = plan_case(ca, issued, fine, events, date(2024, 4, 3))
    assert s.current_stage == "collections"
    assert s.next_action is not None and s.next_action.code == "review"
    assert s.next_action.due_on == date(2024, 9, 30)
    assert s.stage_start("collections") == date(2024, 4, 3)


def _plan_after_ca_review(decided_on: date, outcome: ContestOutcome, as_of: date) -> CaseSchedule:
    """A $63 California citation of 10 Jan 2024 whose initial review, filed on 20 Jan, was decided."""
    events = [
        ContestFiled("initial_review", date(2024, 1, 20)),
        ContestDecided("initial_review", decided_on, outcome),
    ]
    return plan_case(load_profile("CA"), datetime(2024, 1, 10, 9, 15, tzinfo=LA), 6300, events, as_of)


def test_california_review_and_hearing_deadlines() -> None:
    ca = load_profile("CA")
    s = _plan_after_ca_review(date(2024, 2, 9), ContestOutcome.UPHELD, date(2024, 2, 9))
    # Hearing within 21 days of the review result.
    assert s.appeal_deadlines["administrative_hearing"] == date(2024, 3, 1)
    assert appeal_deadline(ca, "administrative_hearing", date(2024, 2, 9)) == date(2024, 3, 1)
    assert appeal_deadline(ca, "superior_court", date(2024, 5, 1)) == date(2024, 5, 31)
    assert appeal_deadline(ca, "initial_review", date(2024, 2, 2), "notice:delinquent_notice") == date(2024, 2, 16)
    # The review (20 days on hold) moved the delinquent date from 31 Jan, and the rejection grace keeps
    # it at least 21 days after the decision.
    assert s.stage_start("delinquent_notice") == date(2024, 3, 1)


def test_california_indigent_plan_limits() -> None:
    plan = load_profile("CA").payment_plans[0]
    assert plan.max_installment_cents == 2500 and plan.max_months == 24
    assert plan.waives_penalties_on_enrolment and plan.reinstates_penalties_on_default
    installments = payment_plan_installments(plan, 6300)
    assert installments == [2100, 2100, 2100]
    assert sum(payment_plan_installments(plan, 60000)) == 60000
    assert max(payment_plan_installments(plan, 59999)) <= 2500
    with pytest.raises(UserError, match="24 months"):
        payment_plan_installments(plan, 60001)


def test_dismissed_review_closes_the_case() -> None:
    s = _plan_after_ca_review(date(2024, 1, 25), ContestOutcome.DISMISSED, date(2024, 2, 1))
    assert s.closed and s.next_action is None


# ---------------------------------------------------------------- New York City


def test_nyc_penalties_at_30_60_90_and_judgment_at_100_days() -> None:
    nyc = load_profile("NYC")
    issued = datetime(2024, 1, 1, 8, 0, tzinfo=NY)
    fine = 6500
    s = plan_case(nyc, issued, fine, [], date(2024, 1, 1))
    assert s.contest_deadline == date(2024, 1, 31)
    assert s.appeal_deadlines == {"dispute": date(2024, 1, 31)}

    s = plan_case(nyc, issued, fine, [], date(2024, 1, 30))
    assert s.current_stage == "citation" and s.penalties_cents == 0

    events = [NoticeMailed("penalty_30", date(2024, 1, 31))]
    s = plan_case(nyc, issued, fine, events, date(2024, 1, 31))
    assert s.current_stage == "penalty_30"
    assert s.penalties_cents == 1000
    assert s.next_action is not None and s.next_action.due_on == date(2024, 3, 1)

    s = plan_case(nyc, issued, fine, events, date(2024, 3, 1))
    assert s.current_stage == "penalty_60" and s.penalties_cents == 3000

    s = plan_case(nyc, issued, fine, events, date(2024, 3, 31))
    assert s.current_stage == "penalty_90" and s.penalties_cents == 6000
    assert s.next_action is not None and s.next_action.code == "mail_notice_of_impending_default_judgment"
    events.append(NoticeMailed("penalty_90", date(2024, 3, 31)))
    s = plan_case(nyc, issued, fine, events, date(2024, 4, 1))
    assert s.next_action is not None and s.next_action.code == "judgment"
    assert s.next_action.due_on == date(2024, 4, 10)  # day 100

    s = plan_case(nyc, issued, fine, events, date(2024, 4, 10))
    assert s.current_stage == "judgment"
    assert [(p.stage_key, p.amount_cents, p.as_of_date) for p in s.penalties] == [
        ("penalty_30", 1000, date(2024, 1, 31)),
        ("penalty_60", 2000, date(2024, 3, 1)),
        ("penalty_90", 3000, date(2024, 3, 31)),
    ]
    assert s.amount_due_cents == 12500
    assert s.next_action is not None and s.next_action.code == "collections_referral"
    assert s.next_action.due_on == date(2024, 5, 10)


def test_nyc_hold_moves_every_deadline_by_its_length() -> None:
    nyc = load_profile("NYC")
    issued = datetime(2024, 1, 1, 8, 0, tzinfo=NY)
    hold = Hold(date(2024, 1, 10), date(2024, 1, 20), "supervisor hold")
    s = plan_case(nyc, issued, 6500, [hold], date(2024, 1, 15))
    assert s.on_hold and s.next_action is not None and s.next_action.code == "review_hold"
    s = plan_case(nyc, issued, 6500, [hold], date(2024, 2, 5))
    assert s.contest_deadline == date(2024, 2, 10)
    assert s.stage_start("penalty_30") == date(2024, 2, 10)
    assert s.stage_start("judgment") == date(2024, 4, 20)
    assert s.penalties_cents == 0
    # An open hold leaves later dates unknown and the case is paused, with a review date.
    open_hold = Hold(date(2024, 1, 10), None, "bankruptcy stay", review_on=date(2024, 4, 1))
    s = plan_case(nyc, issued, 6500, [open_hold], date(2024, 3, 1))
    assert s.stage_start("penalty_30") is None and s.penalties_cents == 0
    assert s.next_action is not None and s.next_action.due_on == date(2024, 4, 1)


def test_nyc_dispute_then_appeal_deadline() -> None:
    nyc = load_profile("NYC")
    issued = datetime(2024, 1, 1, 8, 0, tzinfo=NY)
    events = [ContestFiled("dispute", date(2024, 1, 20)),
              ContestDecided("dispute", date(2024, 2, 15), ContestOutcome.UPHELD)]
    s = plan_case(nyc, issued, 6500, events, date(2024, 2, 16))
    assert s.appeal_deadlines["appeal"] == date(2024, 3, 16)
    # 26 days on hold: the first penalty moves from 31 Jan to 26 Feb, then the 30-day grace after the decision.
    assert s.stage_start("penalty_30") == date(2024, 3, 16)


# ---------------------------------------------------------------- England


def test_england_case_through_every_stage_with_discount() -> None:
    """Every date under the 2007 regulations' counting: periods of N days BEGINNING WITH the day of service
    end on day N-1 after it, and a posted notice is served on the second working day after posting."""
    eng = load_profile("ENG")
    issued = datetime(2024, 3, 1, 14, 0, tzinfo=LDN)
    fine = 7000
    s = plan_case(eng, issued, fine, [], date(2024, 3, 1))
    assert s.discount is not None  # 14 days beginning with 1 March (the PCN served on the vehicle)
    assert (s.discount.amount_payable_cents, s.discount.until) == (3500, date(2024, 3, 14))
    s = plan_case(eng, issued, fine, [], date(2024, 3, 15))
    assert s.discount is None

    s = plan_case(eng, issued, fine, [], date(2024, 3, 29))
    assert s.current_stage == "notice_to_owner"
    assert s.next_action is not None and s.next_action.code == "mail_notice_to_owner"

    # posted on Good Friday 29 March 2024: Easter Monday is no working day either, served Wednesday 3 April
    events: list = [NoticeMailed("notice_to_owner", date(2024, 3, 29))]
    s = plan_case(eng, issued, fine, events, date(2024, 3, 30))
    assert s.appeal_deadlines["representations"] == date(2024, 4, 30)  # 28 days beginning with 3 April
    assert s.contest_deadline == date(2024, 4, 30)
    assert s.next_action is not None and s.next_action.code == "charge_certificate"
    assert s.next_action.due_on == date(2024, 5, 1)  # only after those 28 days (reg. 21)

    s = plan_case(eng, issued, fine, events, date(2024, 4, 30))
    assert s.current_stage == "notice_to_owner"  # the last day to pay or make representations
    s = plan_case(eng, issued, fine, events, date(2024, 5, 1))
    assert s.current_stage == "charge_certificate"
    assert [(p.stage_key, p.amount_cents) for p in s.penalties] == [("charge_certificate", 3500)]
    assert s.amount_due_cents == 10500
    events.append(NoticeMailed("charge_certificate", date(2024, 5, 1)))  # Wednesday: served Friday 3 May
    s = plan_case(eng, issued, fine, events, date(2024, 5, 2))
    assert s.next_action is not None and s.next_action.code == "order_for_recovery"
    assert s.next_action.due_on == date(2024, 5, 17)

    events.append(NoticeMailed("order_for_recovery", date(2024, 5, 17)))  # Friday: served Tuesday 21 May
    s = plan_case(eng, issued, fine, events, date(2024, 5, 17))
    assert s.current_stage == "order_for_recovery"
    assert s.next_action is not None and s.next_action.code == "collections_referral"
    assert s.next_action.due_on == date(2024, 6, 11)


def test_england_representations_deemed_accepted_after_56_days() -> None:
    eng = load_profile("ENG")
    issued = datetime(2024, 3, 1, 14, 0, tzinfo=LDN)
    events = [NoticeMailed("notice_to_owner", date(2024, 3, 29)), ContestFiled("representations", date(2024, 4, 10))]
    # the 56 days beginning with Wed 10 Apr end Tue 4 Jun; the decision must be SERVED by then (reg. 6), so
    # posted by Fri 31 May (served Tue 4 Jun, the second working day); posted Mon 3 Jun it is served Wed 5 Jun
    # (a Sunday posting would count as served Tue 4 Jun too, but the deadline never relies on weekend post)
    assert decision_deadline(eng, "representations", date(2024, 4, 10)) == date(2024, 5, 31)

    s = plan_case(eng, issued, 7000, events, date(2024, 5, 31))  # the last day to post: still open
    assert not s.closed and s.on_hold
    assert s.next_action is not None and s.next_action.code == "decide_representations"
    assert s.next_action.due_on == date(2024, 5, 31)
    assert s.penalties == ()

    s = plan_case(eng, issued, 7000, events, date(2024, 6, 1))  # no decision can be served in time: accepted
    assert s.closed and s.closed_reason == "deemed_accepted"
    assert s.next_action is not None and s.next_action.code == "cancel_deemed_accepted"


def test_england_rejection_reoffers_discount_and_moves_charge_certificate() -> None:
    eng = load_profile("ENG")
    issued = datetime(2024, 3, 1, 14, 0, tzinfo=LDN)
    events = [
        NoticeMailed("notice_to_owner", date(2024, 3, 29)),
        ContestFiled("representations", date(2024, 4, 10)),
        ContestDecided("representations", date(2024, 5, 1), ContestOutcome.UPHELD),
    ]
    # the notice of rejection not mailed yet: counted from the decision itself, the earliest it could be
    s = plan_case(eng, issued, 7000, events, date(2024, 5, 2))
    assert s.discount is not None and s.discount.until == date(2024, 5, 14)
    assert s.appeal_deadlines["tribunal"] == date(2024, 5, 28)
    # 28 days to pay or appeal after the Notice of Rejection before the Charge Certificate.
    assert s.stage_start("charge_certificate") == date(2024, 5, 29)
    s = plan_case(eng, issued, 7000, events, date(2024, 5, 15))
    assert s.discount is None
    # mailed Thursday 2 May 2024: Monday 6 May is a bank holiday, so it is served Tuesday 7 May; every
    # period after the rejection begins then (the issue's Charge Certificate 13 days after a rejection)
    events[2] = ContestDecided("representations", date(2024, 5, 1), ContestOutcome.UPHELD,
                               letter_mailed_on=date(2024, 5, 2))
    s = plan_case(eng, issued, 7000, events, date(2024, 5, 8))
    assert s.discount is not None and s.discount.until == date(2024, 5, 20)
    assert s.appeal_deadlines["tribunal"] == date(2024, 6, 3)
    assert s.stage_start("charge_certificate") == date(2024, 6, 4)


def test_english_working_days_and_deemed_service() -> None:
    from desktop.domain.service_days import bank_holidays_england

    assert bank_holidays_england(2026) == {date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4),
                                           date(2026, 5, 25), date(2026, 8, 31), date(2026, 12, 25),
                                           date(2026, 12, 28)}  # Boxing Day on a Saturday: Monday 28th
    assert {date(2022, 12, 26), date(2022, 12, 27)} <= bank_holidays_england(2022)  # Christmas on a Sunday
    assert date(2027, 1, 1) in bank_holidays_england(2027) and date(2028, 1, 3) in bank_holidays_england(2028)
    rule = load_profile("ENG").service
    assert rule.served_on(date(2026, 11, 24)) == date(2026, 11, 26)  # Tuesday -> Thursday
    assert rule.served_on(date(2026, 11, 26)) == date(2026, 11, 30)  # Thursday -> Monday
    assert rule.served_on(date(2026, 12, 23)) == date(2026, 12, 29)  # Christmas and Boxing Day (moved) skipped
    assert load_profile("CA").service.served_on(date(2026, 11, 24)) == date(2026, 11, 24)  # from the mailing


# ---------------------------------------------------------------- versions and validation


def _write(tmp_path: Path, code: str, data: object) -> None:
    (tmp_path / f"{code}.json").write_text(json.dumps(data), encoding="utf-8")


def test_profile_for_picks_the_version_in_force_on_the_issue_date(tmp_path: Path) -> None:
    base = json.loads((PROFILES_DIR / "NYC.json").read_text(encoding="utf-8"))
    old = dict(base, version="2019", effective_from="2019-01-01")
    new = dict(base, version="2025", effective_from="2025-07-01")
    _write(tmp_path, "NYC", {"versions": [new, old]})
    versions = load_profile_versions("NYC", tmp_path)
    assert [v.version for v in versions] == ["2019", "2025"]
    assert profile_for("NYC", datetime(2025, 6, 30, 23, 0, tzinfo=NY), versions).version == "2019"
    assert profile_for("NYC", datetime(2025, 7, 1, 0, 30, tzinfo=NY), versions).version == "2025"
    # 03:00 UTC on 1 July is still 30 June in New York.
    assert profile_for("NYC", datetime(2025, 7, 1, 3, 0, tzinfo=ZoneInfo("UTC")), versions).version == "2019"
    with pytest.raises(UserError, match="no version in effect"):
        profile_for("NYC", datetime(2018, 1, 1, tzinfo=NY), versions)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("timezone"), "'timezone' is missing"),
        (lambda d: d.update(timezone="Mars/Olympus"), "unknown time zone"),
        (lambda d: d["stages"][1]["trigger"].update(kind="someday"), "expected one of"),
        (lambda d: d["stages"][1].update(on_deadline="shrug"), "on_deadline"),
        (lambda d: d["stages"][2]["trigger"].update(days=-3), "must not be negative"),
        (lambda d: d["stages"][1].update(key="citation"), "stage keys repeat"),
        (lambda d: d["appeal_levels"][1]["request_windows"][0].update(counted_from="moon"), "counted_from"),
        (lambda d: d["stages"][-1].pop("final_deadline_days"), "final_deadline_days"),
        (lambda d: d["stages"][1].update(penalty={"fixed_cents": "ten"}), "must be int"),
    ],
)
def test_broken_profiles_are_refused_with_a_clear_message(tmp_path: Path, mutate: object, message: str) -> None:
    data = json.loads((PROFILES_DIR / "NYC.json").read_text(encoding="utf-8"))
    mutate(data)  # type: ignore[operator]
    _write(tmp_path, "NYC", data)
    with pytest.raises(UserError, match=message):
        load_profile("NYC", tmp_path)


def test_unknown_profile_and_bad_json(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="known profiles: CA, ENG, NYC"):
        load_profile("XX")
    (tmp_path / "BAD.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match="not valid JSON"):
        load_profile("BAD", tmp_path)
