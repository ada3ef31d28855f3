"""Jurisdiction profiles as the printed documents see them: page, envelope, currency, and the wording.

The numbers (days, penalty amounts) are computed by the domain and arrive in the data objects; what lives
here is the standing wording each law requires a notice to carry, with the statute it comes from. Wording
is data: an agency replaces any key through `AgencyInfo.wording_overrides`.

Placeholders in wording are filled from agency settings only (never from one citation), so a batch can
lay a paragraph out once and print it on every page: {agency}, {department}, {phone}, {web}, {payee},
{hours}, {contest_url}.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reports.data import AgencyInfo
from reports.geometry import A4_DL, US_LETTER_NO10, FoldedInsert

_CA = {
    "title.violation": "NOTICE OF PARKING VIOLATION",
    "title.delinquent": "NOTICE OF DELINQUENT PARKING VIOLATION",
    "title.final": "FINAL NOTICE OF DELINQUENT PARKING VIOLATION",
    "pay": (
        "<b>How to pay.</b> Pay online at {web} or by scanning the code on this notice. Payment may be sent by "
        "mail: return the coupon below with a check or money order payable to <b>{payee}</b>; write the "
        "citation number on it and do not send cash. You may also pay in person during office hours ({hours}) "
        "or by telephone at {phone}."
    ),
    "contest": (
        "<b>How to contest.</b> You may contest this citation by requesting an initial review within "
        "<b>21 days</b> of the date the citation was issued, or within <b>14 days</b> of the mailing of the "
        "Notice of Delinquent Parking Violation (California Vehicle Code 40215). Request it online at "
        "{contest_url}, by mail to the contest address below, by telephone or in person. No payment is "
        "required for an initial review. If you disagree with its result you may request an administrative "
        "hearing within 21 days of the mailing of the result."
    ),
    "plan": (
        "<b>Payment plan.</b> If you cannot afford to pay, you may qualify for a payment plan: no more than "
        "$25 a month over up to 24 months, with late payment penalties waived (Vehicle Code 40220). "
        "Call {phone}."
    ),
    "consequence.violation": (
        "If the penalty is not paid or contested by the due date, a delinquent penalty will be added as shown."
    ),
    "consequence.delinquent": (
        "If this penalty is not paid or contested, a hold may be placed on the vehicle's registration with "
        "the Department of Motor Vehicles, which will collect the penalty and fees on renewal "
        "(Vehicle Code 4760, 40220)."
    ),
    "consequence.final": (
        "This is your final notice. Unpaid penalties may be referred for collection, including offset of "
        "state tax refunds (Vehicle Code 40220), and a hold will remain on the vehicle's registration."
    ),
    "mismatch": (
        "If the vehicle described is not yours, or the make does not match your registration, tell us: the "
        "citation will be cancelled (Vehicle Code 40209)."
    ),
    "non_liability": (
        "<b>Not your vehicle?</b> If you had sold or transferred the vehicle before the date of the violation, "
        "or it was rented or leased to someone else, you are not liable: send us an affidavit of non-liability "
        "(Vehicle Code 40209) with the name and address of the buyer, renter or lessee and the date of the "
        "transfer, and this notice will be cancelled as to you. Forms: {web} or {phone}."
    ),
    "footer": "Issued under California Vehicle Code Sections 40200-40230.",
}

_NYC = {
    "title.violation": "NOTICE OF PARKING VIOLATION",
    "title.delinquent": "NOTICE OF PENALTY - PARKING VIOLATION",
    "title.final": "FINAL NOTICE BEFORE JUDGMENT",
    "pay": (
        "<b>How to pay.</b> Pay online at {web} or by scanning the code on this notice, by phone at {phone}, "
        "or in person at a Business Center ({hours}). Payment may be sent by mail with the coupon below: "
        "check or money order payable to <b>{payee}</b>, with the violation number written on it."
    ),
    "contest": (
        "<b>How to dispute.</b> You have <b>30 days</b> from the date the violation was issued to pay or "
        "dispute it. Request a hearing online at {contest_url}, by mail to the address below, or in person. "
        "Send copies, not originals, of any evidence; a hearing decision is mailed to you."
    ),
    "penalties": (
        "<b>Penalties.</b> If not paid or disputed within 30 days, a penalty of <b>$10</b> is added; after "
        "60 days, <b>$20</b> more; after 90 days, <b>$30</b> more, plus interest once judgment is entered "
        "(about 100 days after issue)."
    ),
    "consequence.violation": "Respond within 30 days to avoid penalties.",
    "consequence.delinquent": (
        "Penalties have been added because this violation was not paid or disputed within 30 days."
    ),
    "consequence.final": (
        "If this violation is not paid or disputed, a judgment will be entered against you. A judgment can "
        "lead to booting or towing of your vehicle, and interest at the legal rate."
    ),
    "footer": "New York City Department of Finance rules, Title 19 RCNY Chapter 39.",
}

_ENG = {
    "title.notice_to_owner": "NOTICE TO OWNER",
    "title.charge_certificate": "CHARGE CERTIFICATE",
    "title.final": "FINAL REMINDER",
    "pay": (
        "<b>How to pay.</b> Online at {web} or by scanning the code, by telephone on {phone}, or by post with "
        "the slip below and a cheque payable to <b>{payee}</b> (write the PCN number on the back; do not "
        "send cash). Payment may be sent by post but allow time for delivery."
    ),
    "contest": (
        "<b>Making representations.</b> You may make representations against this Notice to Owner within "
        "<b>28 days</b> beginning with the date of service, online at {contest_url} or in writing to the "
        "address below, on one or more of these grounds: (a) that you were never the owner of the vehicle, "
        "had ceased to be its owner before, or became its owner after the date of the contravention; "
        "(b) that the alleged contravention did not occur; (c) that the vehicle was in the control of a "
        "person without the owner's consent; (d) that you are a vehicle-hire firm and the vehicle was on "
        "hire under a hiring agreement; (e) that the penalty charge exceeded the amount applicable; "
        "(f) that there has been a procedural impropriety on the part of the enforcement authority; "
        "(g) that the traffic order is invalid; (h) that the penalty charge had already been paid in full, "
        "or by the discounted amount within the time allowed. You may also make representations on the "
        "basis of compelling reasons. If the authority does not serve notice of its decision within "
        "56 days, your representations are deemed accepted. If they are rejected you may appeal to the "
        "independent adjudicator within 28 days of the notice of rejection."
    ),
    "discount": (
        "The penalty charge is reduced by <b>50%</b> if paid within <b>14 days</b> of the date on which the "
        "Penalty Charge Notice was served."
    ),
    "consequence.notice_to_owner": (
        "If, at the end of 28 days beginning with the date of service of this notice, the penalty charge "
        "has not been paid and no representations have been made, the authority may increase the charge "
        "by <b>50%</b> and serve a Charge Certificate."
    ),
    "consequence.charge_certificate": (
        "The penalty charge has been increased by <b>50%</b> because it was not paid and no representations "
        "or appeal were made within the time allowed. If the increased charge is not paid within 14 days, "
        "the authority may register it as a debt at the Traffic Enforcement Centre and recover it through "
        "enforcement agents."
    ),
    "consequence.final": "Pay now to avoid the charge being increased and enforcement action.",
    "footer": (
        "Traffic Management Act 2004, Part 6; Civil Enforcement of Parking Contraventions (England) "
        "General Regulations 2007."
    ),
}

WORDING_KEYS: frozenset[str] = frozenset(_CA) | frozenset(_NYC) | frozenset(_ENG)


@dataclass(frozen=True)
class PrintProfile:
    """How documents print for one jurisdiction profile."""

    code: str
    name: str
    insert: FoldedInsert  # page size + envelope
    currency_symbol: str
    uses_imb: bool
    date_format: str
    citation_label: str  # "Citation", "Violation", "PCN"
    wording: Mapping[str, str] = field(default_factory=dict)

    @property
    def page_size(self) -> tuple[float, float]:
        return (self.insert.page_width, self.insert.page_height)


PROFILES: dict[str, PrintProfile] = {
    "CA": PrintProfile("CA", "California", US_LETTER_NO10, "$", True, "%B %-d, %Y", "Citation", _CA),
    "NYC": PrintProfile("NYC", "New York City", US_LETTER_NO10, "$", True, "%B %-d, %Y", "Violation", _NYC),
    "ENG": PrintProfile("ENG", "England (TMA 2004)", A4_DL, "\u00a3", False, "%-d %B %Y", "PCN", _ENG),
}


def print_profile(code: str) -> PrintProfile:
    """The print profile for a jurisdiction code; unknown codes raise KeyError with the known ones."""
    try:
        return PROFILES[code.upper()]
    except KeyError:
        raise KeyError(f"unknown jurisdiction profile {code!r}; known: {', '.join(PROFILES)}") from None


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def wording(profile: PrintProfile, agency: AgencyInfo, key: str) -> str:
    """The wording for `key`, agency override first, with agency placeholders filled ("" if none)."""
    text = agency.wording_overrides.get(key) or profile.wording.get(key, "")
    if not text:
        return ""
    values = _Blank(
        agency=agency.name,
        department=agency.department,
        phone=agency.phone,
        web=agency.web_url or agency.pay_url_template.split("{")[0].rstrip("/"),
        payee=agency.payee,
        hours=agency.office_hours or "see our website",
        contest_url=agency.contest_url or agency.web_url,
    )
    return text.format_map(values)
