"""The dates and terms a letter about an appeal prints, counted the way its profile's law counts them.

Shared by the mail office's run (``desktop.services.notices.documents``) and the letters printed on demand
(``desktop.services.appeals.packet``), so both print the same dates for the same letter on the same day.

Every period after a decision runs from the SERVICE of its letter: the letter's date is the day it is mailed
(a batch printed later than planned is counted again on the day it prints), moved on by the profile's
service rule (England: the second working day after posting). So:

* California: an administrative hearing may be asked for within 21 days after the mailing of the initial
  review's result (Vehicle Code 40215(b)); the superior court within 30 days after the mailing of the
  hearing decision (VC 40230(a)). Counted from the letter's mailing, not from the decision.
* England: after a notice of rejection of representations the owner has 28 days beginning with its service
  to pay or to appeal to the adjudicator (Traffic Penalty Tribunal outside London, London Tribunals in
  London: the authority's own tribunal, from its identity), and the 50 % discount is offered again for 14
  days beginning with that service where the profile's level re-offers it (Statutory Guidance); the Charge
  Certificate may only follow those 28 days (reg. 21 of the 2007 General Regulations).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from desktop.domain.profiles import AppealLevel, ContestOutcome, JurisdictionProfile
from reports.data import AgencyInfo


@dataclass(frozen=True)
class DecisionTerms:
    """What a decision letter mailed on `letter_date` states beyond the decision itself."""

    served_on: date
    next_level: str  # "" when there is none (dismissed, or the last level)
    next_level_deadline: date | None
    next_level_instructions: str
    pay_by: date | None
    discount_cents: int | None
    discount_deadline: date | None


def _external(profile: JurisdictionProfile, level: AppealLevel) -> bool:
    """The level is heard outside the authority (a tribunal or court): the last level of the profile."""
    return level.key == profile.appeal_levels[-1].key and len(profile.appeal_levels) > 1


def decision_terms(profile: JurisdictionProfile, agency: AgencyInfo, level_key: str, outcome: ContestOutcome,
                   letter_date: date, amount_due_cents: int, fine_cents: int, quote: str) -> DecisionTerms:
    """The next level and its deadline, the pay-by date and any re-offered discount of a decision letter
    mailed on `letter_date` (its service date per the profile starts every period)."""
    served = profile.service.served_on(letter_date)
    level = profile.appeal_level(level_key)
    nxt: AppealLevel | None = None
    deadline: date | None = None
    if outcome is not ContestOutcome.DISMISSED:
        for candidate in profile.appeal_levels:
            window = next((w for w in candidate.request_windows if w.counted_from == f"decision:{level_key}"), None)
            if window is not None:
                nxt, deadline = candidate, served + timedelta(days=window.days)
                break
    name = instructions = ""
    if nxt is not None:
        name = nxt.name
        where = ""
        if _external(profile, nxt) and agency.tribunal_name:
            name = agency.tribunal_name
            where = " ".join(p for p in (", ".join(agency.tribunal_address_lines), agency.tribunal_web_url) if p)
        elif agency.contest_lines:
            where = ", ".join(agency.contest_lines)
        basis = f" ({nxt.legal_basis})" if nxt.legal_basis else ""
        instructions = (f"Quote {quote}.{basis}" + (f" Write to {where}." if where else "")
                        + (f" {nxt.note}" if nxt.note else ""))
    pay_by = None
    if amount_due_cents > 0:
        grace = level.rejection_grace_days
        # the last day before the next step may come (England: the 28 days beginning with service)
        pay_by = served + timedelta(days=(grace if grace is not None else 21) - 1)
    discount_cents = discount_deadline = None
    rule = profile.discount
    if (rule is not None and rule.reoffer_days_after_rejection is not None and level.reoffers_discount
            and outcome is not ContestOutcome.DISMISSED and amount_due_cents > 0):
        payable = fine_cents - (fine_cents * rule.percent + 50) // 100
        if payable < amount_due_cents:
            discount_cents, discount_deadline = payable, served + timedelta(days=rule.reoffer_days_after_rejection)
    return DecisionTerms(served, name, deadline, instructions.strip(), pay_by, discount_cents, discount_deadline)


def decision_expected(decide_by: date | None, letter_date: date) -> date | None:
    """The decision date an acknowledgement may print: never one already past on the day it is mailed."""
    return decide_by if decide_by is not None and decide_by >= letter_date else None


def reschedule_by(profile: JurisdictionProfile, hearing_day: date, letter_date: date,
                  days_before: int) -> date | None:
    """The last day to ask for another hearing date (`days_before` the hearing), or None when that day is
    already past on the day the notice is served: the notice then says there is no time left to ask."""
    served = profile.service.served_on(letter_date)
    last = hearing_day - timedelta(days=days_before)
    return last if last >= served else None
