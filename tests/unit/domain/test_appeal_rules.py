"""Appeal rules per jurisdiction profile: levels, request windows, decision deadlines, money effects."""

from datetime import date, timedelta

import pytest

from desktop.domain import appeals as rules
from desktop.domain.appeals import CaseHistory
from desktop.domain.errors import UserError
from desktop.domain.profiles import ContestOutcome, load_profile
from desktop.domain.roles import Permission, Role, allowed

CA = load_profile("CA")
ENG = load_profile("ENG")
NYC = load_profile("NYC")
ISSUE = date(2026, 3, 1)


def test_california_starts_with_initial_review_within_21_days_of_issue() -> None:
    history = CaseHistory(ISSUE)
    level = rules.choose_level(CA, history)
    assert level.key == "initial_review"
    assert rules.request_deadline(CA, "initial_review", history) == date(2026, 3, 22)
    assert not rules.check_filing(CA, level, history, date(2026, 3, 22)).is_late
    late = rules.check_filing(CA, level, history, date(2026, 3, 25))
    assert late.is_late and late.late_by_days == 3
    assert "supervisor must override" in late.explanation()


def test_california_delinquent_notice_reopens_the_review_window_for_14_days() -> None:
    history = CaseHistory(ISSUE, notices_mailed={"delinquent_notice": date(2026, 3, 25)})
    assert rules.request_deadline(CA, "initial_review", history) == date(2026, 4, 8)


def test_california_hearing_only_after_the_review_was_decided_against_the_motorist() -> None:
    history = CaseHistory(ISSUE, filed={"initial_review": date(2026, 3, 5)})
    with pytest.raises(UserError, match="after the initial review has been decided"):
        rules.choose_level(CA, history, "administrative_hearing")
    decided = CaseHistory(ISSUE, filed={"initial_review": date(2026, 3, 5)},
                          decided={"initial_review": (date(2026, 3, 20), ContestOutcome.UPHELD)})
    level = rules.choose_level(CA, decided)
    assert level.key == "administrative_hearing"
    # requested within 21 days of the review result (VC 40215(b))
    assert rules.request_deadline(CA, "administrative_hearing", decided) == date(2026, 4, 10)
    assert rules.check_filing(CA, level, decided, date(2026, 4, 11)).is_late


def test_a_level_cannot_be_used_twice() -> None:
    history = CaseHistory(ISSUE, filed={"initial_review": date(2026, 3, 5)})
    with pytest.raises(UserError, match="cannot be asked for twice"):
        rules.choose_level(CA, history, "initial_review")


def test_england_informal_challenge_then_representations_after_the_notice_to_owner() -> None:
    before = CaseHistory(ISSUE)
    assert rules.choose_level(ENG, before).key == "informal_challenge"
    with pytest.raises(UserError, match="Notice to Owner has been mailed"):
        rules.choose_level(ENG, before, "representations")
    served = CaseHistory(ISSUE, notices_mailed={"notice_to_owner": date(2026, 4, 2)})
    level = rules.choose_level(ENG, served)
    assert level.key == "representations"
    # posted Thursday 2 April 2026: Good Friday and Easter Monday are not working days, so it is served on
    # Wednesday 8 April (the second working day after posting), and the 28 days beginning then end on 5 May
    assert rules.request_deadline(ENG, "representations", served) == date(2026, 5, 5)


@pytest.mark.parametrize(("received", "period_ends", "last_post"), [
    # Fri 1 May 2026: the 56 days beginning with it end Thu 25 Jun; posted Tue 23 Jun -> served Thu 25 Jun
    (date(2026, 5, 1), date(2026, 6, 25), date(2026, 6, 23)),
    # Tue 24 Nov 2026: the 56 days end Mon 18 Jan 2027; posted Thu 14 Jan -> served Mon 18 Jan (weekend skipped)
    (date(2026, 11, 24), date(2027, 1, 18), date(2027, 1, 14)),
    # Wed 3 Feb 2027: the 56 days end Tue 30 Mar; Good Friday 26 Mar and Easter Monday 29 Mar are bank
    # holidays, so the last posting is Wed 24 Mar (served Tue 30 Mar); Thu 25 Mar would be served Wed 31 Mar
    (date(2027, 2, 3), date(2027, 3, 30), date(2027, 3, 24)),
])
def test_england_decision_must_be_served_within_56_days_beginning_with_receipt(
        received: date, period_ends: date, last_post: date) -> None:
    """Reg. 6(3), (4)(b), (7) of the Representations and Appeals Regulations 2022: the decision notice must be
    SERVED within the 56 days beginning with receipt; decide_by is the last day it can be posted."""
    assert period_ends == received + timedelta(days=55)  # day 1 is the day received
    d = rules.decision_deadline(ENG, "representations", received, target_days=30)
    assert d.statutory and d.deemed_accepted_after
    assert d.decide_by == last_post
    # at the limit: posted on the last day it is served on or before the period's last day; a day later, after
    assert ENG.service.served_on(last_post) <= period_ends < ENG.service.served_on(last_post + timedelta(days=1))
    assert not rules.deemed_accepted(ENG, "representations", d.decide_by, last_post)
    assert rules.deemed_accepted(ENG, "representations", d.decide_by, last_post + timedelta(days=1))
    assert rules.days_left(d.decide_by, last_post + timedelta(days=1)) == -1


def test_england_tribunal_within_28_days_of_a_rejection() -> None:
    nxt = rules.next_level(ENG, "representations", date(2026, 6, 1), ContestOutcome.UPHELD)
    # 28 days beginning with the day of the rejection (the letter counts from its own service)
    assert nxt is not None and nxt.level.key == "tribunal" and nxt.deadline == date(2026, 6, 28)
    assert rules.next_level(ENG, "representations", date(2026, 6, 1), ContestOutcome.DISMISSED) is None


def test_levels_without_a_legal_limit_get_the_agency_target() -> None:
    d = rules.decision_deadline(ENG, "informal_challenge", date(2026, 3, 5), target_days=30)
    assert not d.statutory and not d.deemed_accepted_after
    assert d.decide_by == date(2026, 4, 4)
    assert not rules.deemed_accepted(ENG, "informal_challenge", d.decide_by, date(2027, 1, 1))


def test_california_and_new_york_deadlines_are_never_deemed_accepted() -> None:
    ca = rules.decision_deadline(CA, "administrative_hearing", date(2026, 3, 1), 30)
    assert ca.decide_by == date(2026, 5, 30) and not ca.deemed_accepted_after
    ny = rules.decision_deadline(NYC, "dispute", date(2026, 3, 1), 30)
    assert ny.decide_by == date(2026, 4, 30)
    nxt = rules.next_level(NYC, "dispute", date(2026, 4, 1), ContestOutcome.REDUCED)
    assert nxt is not None and nxt.level.key == "appeal" and nxt.deadline == date(2026, 5, 1)
    court = rules.next_level(CA, "administrative_hearing", date(2026, 4, 1), ContestOutcome.UPHELD)
    assert court is not None and court.level.key == "superior_court" and court.deadline == date(2026, 5, 1)


def test_money_effects_of_dismissal_and_reduction() -> None:
    dismissed = rules.dismissal_effect(charges_cents=12600, paid_cents=6300)
    assert (dismissed.adjustment_cents, dismissed.refund_cents) == (-12600, 6300)
    assert dismissed.balance_after(6300) == 0
    reduced = rules.reduction_effect(12600, 0, 6300)
    assert (reduced.adjustment_cents, reduced.refund_cents, reduced.balance_after(0)) == (-6300, 0, 6300)
    overpaid = rules.reduction_effect(12600, 10000, 6300)
    assert overpaid.refund_cents == 3700 and overpaid.balance_after(10000) == 0
    with pytest.raises(UserError, match="below the current amount"):
        rules.reduction_effect(6300, 0, 6300)
    with pytest.raises(UserError, match="more than zero"):
        rules.reduction_effect(6300, 0, 0)


def test_a_decision_needs_a_written_reason() -> None:
    with pytest.raises(UserError, match="reason"):
        rules.check_reason("  ok  ")
    assert rules.check_reason("The sign was missing on the day.") == "The sign was missing on the day."


@pytest.mark.parametrize("role", list(Role))
def test_only_the_hearing_officer_role_may_decide(role: Role) -> None:
    assert allowed(role, Permission.DECIDE_APPEALS) is (role is Role.HEARING_OFFICER)
    assert allowed(role, Permission.OVERRIDE_DEADLINES) is (role in (Role.SUPERVISOR, Role.ADMIN))


# --------------------------------------------------------------------------- the outcome in plain words


@pytest.mark.parametrize(("decision", "charges", "paid", "new", "currency", "expected"), [
    ("upheld", 7300, 0, None, "USD", "Appeal rejected: the citation stands; the motorist owes $73.00."),
    ("upheld", 7300, 7300, None, "USD", "Appeal rejected: the citation stands; it is paid in full; nothing more is "
                                        "owed."),
    ("dismissed", 7300, 0, None, "USD", "Appeal granted: the citation is cancelled; nothing is owed."),
    ("dismissed", 7000, 7000, None, "GBP", "Appeal granted: the citation is cancelled; nothing is owed and £70.00 "
                                           "is refunded to the motorist."),
    ("reduced", 12600, 0, 3500, "USD", "Appeal partly granted: the fine is reduced to $35.00; the motorist owes "
                                       "$35.00."),
    ("reduced", 12600, 5000, 3500, "USD", "Appeal partly granted: the fine is reduced to $35.00; nothing more is "
                                          "owed; $15.00 is refunded to the motorist."),
    ("reduced", 12600, 3500, 3500, "USD", "Appeal partly granted: the fine is reduced to $35.00; nothing more is "
                                          "owed."),
])
def test_a_decision_names_the_cases_outcome_in_plain_words(decision, charges, paid, new, currency,
                                                           expected) -> None:
    assert rules.outcome_text(decision, charges, paid, currency, new) == expected


def test_an_english_contest_is_deemed_accepted_on_the_57th_day() -> None:
    decide_by = date(2027, 1, 19)
    assert rules.deemed_accepted_on(decide_by) == date(2027, 1, 20)
    assert not rules.deemed_accepted(ENG, "representations", decide_by, decide_by)
    assert rules.deemed_accepted(ENG, "representations", decide_by, rules.deemed_accepted_on(decide_by))
