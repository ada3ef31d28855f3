"""Sample data for every document: previews in the settings screen, the demo, and the tests.

Values are realistic (real violation codes and fines of each city, real-looking addresses) but invented;
nothing here is read by production code paths.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from reports.data import (
    AcknowledgementData,
    AgencyInfo,
    AppellantDocument,
    CitationFacts,
    Decision,
    DecisionLetterData,
    DigestRow,
    DocketData,
    DocketEntry,
    EvidencePhoto,
    ExifRow,
    HearingNoticeData,
    HearingPacketData,
    LedgerLine,
    MailPiece,
    NoticeData,
    NoticeKind,
    PenaltyStep,
    ReceiptAllocation,
    ReceiptData,
    Recipient,
    RefundLetterData,
    ReversalLetterData,
    SignatureState,
    SignatureStatus,
    TimelineRow,
)

AGENCIES: dict[str, AgencyInfo] = {
    "CA": AgencyInfo(
        name="City of Riverside Bay",
        department="Parking Services Division",
        return_address_lines=("PO Box 30420", "Riverside Bay CA 94501-0420"),
        phone="(510) 555-0142",
        pay_url_template="https://pay.riversidebay.example.gov/c/{citation_number}",
        web_url="pay.riversidebay.example.gov",
        contest_url="riversidebay.example.gov/contest",
        office_hours="Mon-Fri 8:00 a.m. to 5:00 p.m.",
        payee_name="City of Riverside Bay",
        pay_by_mail_lines=("Parking Citation Payments", "PO Box 30421", "Riverside Bay CA 94501-0421"),
        contest_address_lines=("Parking Adjudication", "PO Box 30422", "Riverside Bay CA 94501-0422"),
        signature_name="Maria Okafor",
        signature_title="Parking Services Manager",
    ),
    "NYC": AgencyInfo(
        name="City of New York",
        department="Department of Finance - Parking Violations",
        return_address_lines=("Church Street Station", "PO Box 3600", "New York NY 10008-3600"),
        phone="(212) 555-0311",
        pay_url_template="https://pay.example.nyc/v/{citation_number}",
        web_url="pay.example.nyc",
        contest_url="example.nyc/dispute",
        office_hours="Business Centers, Mon-Fri 8:30 a.m. to 4:30 p.m.",
        payee_name="NYC Department of Finance",
        pay_by_mail_lines=("Parking Violations Payments", "PO Box 3640", "New York NY 10008-3640"),
        signature_name="Daniel Reyes",
        signature_title="Director, Parking Operations",
    ),
    "ENG": AgencyInfo(
        name="Borough of Ashford Vale Council",
        department="Parking Services",
        return_address_lines=("Civic Centre, Tannery Lane", "Ashford Vale AV1 2PS"),
        phone="01632 960 401",
        pay_url_template="https://parking.ashfordvale.example.gov.uk/pcn/{citation_number}",
        web_url="parking.ashfordvale.example.gov.uk",
        contest_url="parking.ashfordvale.example.gov.uk/challenge",
        office_hours="Mon-Fri 9:00 to 17:00",
        payee_name="Ashford Vale Council",
        pay_by_mail_lines=("Parking Services (Payments)", "PO Box 412", "Ashford Vale AV1 9ZZ"),
        signature_name="Helen Marsh",
        signature_title="Head of Parking Services",
    ),
}

TIMEZONES = {"CA": "America/Los_Angeles", "NYC": "America/New_York", "ENG": "Europe/London"}

RECIPIENTS: dict[str, Recipient] = {
    "CA": Recipient("Jordan A. Whitfield", ("1847 Alameda Ave Apt 3B",), "Riverside Bay", "CA", "94501",
                    zip4="2210", delivery_point="47"),
    "NYC": Recipient("Priya Raman", ("410 W 58th St Apt 12C",), "New York", "NY", "10019", zip4="1134",
                     delivery_point="25"),
    "ENG": Recipient("Mr Thomas Ellery", ("14 Orchard Rise", "Little Wenham"), "Ashford Vale", "Kent",
                     "AV3 7QT"),
}


def sample_facts(profile: str, number: int = 1, photo: EvidencePhoto | None = None) -> CitationFacts:
    issued = datetime(2025, 3, 4, 17, 42, tzinfo=UTC) + timedelta(minutes=7 * number)
    if profile == "NYC":
        return CitationFacts(f"{8712345600 + number}", issued, TIMEZONES[profile], f"KMN{4400 + number}", "NY",
                             "TOYOT", "GRY", "760 Broadway, Brooklyn", "21",
                             "No parking - street cleaning", 6500, officer_badge="358127", body_style="SUBN",
                             plate_type="PAS", balance_cents=6500)
    if profile == "ENG":
        return CitationFacts(f"AV{80412000 + number}", issued, TIMEZONES[profile], f"KX19 {number:03d}", "GB",
                             "Vauxhall", "Silver", "High Street (outside No. 42), Ashford Vale", "01",
                             "Parked in a restricted street during prescribed hours", 7000,
                             officer_badge="CEO 2231", balance_cents=7000)
    return CitationFacts(f"4402{117000 + number}", issued, TIMEZONES[profile], f"8ABC{100 + number}", "CA",
                         "HOND", "WHT", "1200 Harbor Blvd", "88.13B+", "Meter expired", 6300,
                         officer_badge="4471", body_style="PA", meter_number="HB-1207", balance_cents=6300)


def sample_notice(profile: str = "CA", kind: NoticeKind = NoticeKind.VIOLATION, number: int = 1,
                  photo: EvidencePhoto | None = None, reprint: bool = False) -> NoticeData:
    facts = sample_facts(profile, number)
    mail = MailPiece(mailer_id="123456", serial=100000000 + number) if profile != "ENG" else MailPiece()
    nd = date(2025, 3, 10)
    if profile == "ENG":
        charge = 7000 if kind != NoticeKind.CHARGE_CERTIFICATE else 10500
        if kind == NoticeKind.CHARGE_CERTIFICATE:
            facts = CitationFacts(**{**facts.__dict__, "penalty_cents": 3500, "balance_cents": 10500})
        return NoticeData(
            kind=kind, profile_code="ENG", agency=AGENCIES["ENG"], recipient=RECIPIENTS["ENG"], facts=facts,
            notice_date=nd, amount_due_cents=charge, due_date=nd + timedelta(days=28 if charge == 7000 else 14),
            amount_due_after_cents=10500 if charge == 7000 else None,
            contest_deadline=nd + timedelta(days=28) if kind == NoticeKind.NOTICE_TO_OWNER else None,
            photo=photo, mail=mail, reprint=reprint,
            penalty_schedule=(PenaltyStep("Charge Certificate: charge increased by 50%", nd + timedelta(days=28),
                                          3500, 10500),) if charge == 7000 else (),
        )
    if profile == "NYC":
        due_after = {NoticeKind.VIOLATION: 7500, NoticeKind.DELINQUENT: 9500, NoticeKind.FINAL: 12500}[kind]
        due_now = {NoticeKind.VIOLATION: 6500, NoticeKind.DELINQUENT: 7500, NoticeKind.FINAL: 9500}[kind]
        if due_now != 6500:
            facts = CitationFacts(**{**facts.__dict__, "penalty_cents": due_now - 6500, "balance_cents": due_now})
        return NoticeData(
            kind=kind, profile_code="NYC", agency=AGENCIES["NYC"], recipient=RECIPIENTS["NYC"], facts=facts,
            notice_date=nd, amount_due_cents=due_now, due_date=date(2025, 4, 3),
            amount_due_after_cents=due_after, contest_deadline=date(2025, 4, 3), photo=photo, mail=mail,
            reprint=reprint,
            penalty_schedule=(
                PenaltyStep("30 days: penalty", date(2025, 4, 3), 1000, 7500),
                PenaltyStep("60 days: penalty", date(2025, 5, 3), 2000, 9500),
                PenaltyStep("90 days: penalty", date(2025, 6, 2), 3000, 12500),
            ),
        )
    due_now = 6300 if kind == NoticeKind.VIOLATION else 9300
    if due_now != 6300:
        facts = CitationFacts(**{**facts.__dict__, "penalty_cents": 3000, "balance_cents": 9300})
    return NoticeData(
        kind=kind, profile_code="CA", agency=AGENCIES["CA"], recipient=RECIPIENTS["CA"], facts=facts,
        notice_date=nd, amount_due_cents=due_now, due_date=date(2025, 3, 25), amount_due_after_cents=due_now + 3000,
        contest_deadline=date(2025, 3, 25), photo=photo, mail=mail, reprint=reprint,
        previous_notice_date=date(2025, 3, 4) if kind != NoticeKind.VIOLATION else None,
        penalty_schedule=(PenaltyStep("Late payment penalty", date(2025, 3, 25), 3000, due_now + 3000),),
    )


def _ts(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def sample_receipt(profile: str = "CA") -> ReceiptData:
    return ReceiptData(
        profile_code=profile, agency=AGENCIES[profile], receipt_number="R-2025-0031877", received_at=_ts(18, 21, 5),
        timezone_name=TIMEZONES[profile], payer_name=RECIPIENTS[profile].name, method="Check",
        method_detail="no. 1042", amount_cents=12600,
        allocations=(ReceiptAllocation(sample_facts(profile, 1).citation_number, sample_facts(profile, 1).plate,
                                       6300, 0),
                     ReceiptAllocation(sample_facts(profile, 2).citation_number, sample_facts(profile, 2).plate,
                                       6300, 3000)),
        cashier="E. Navarro (enavarro)", workstation="CASH-02", recipient=RECIPIENTS[profile],
        mail=MailPiece(mailer_id="123456", serial=200000001) if profile != "ENG" else MailPiece(),
    )


def sample_refund(profile: str = "CA") -> RefundLetterData:
    return RefundLetterData(
        profile_code=profile, agency=AGENCIES[profile], recipient=RECIPIENTS[profile], letter_date=date(2025, 4, 2),
        citation_number=sample_facts(profile).citation_number, refund_cents=6300,
        reason="The citation was dismissed after initial review, and the payment you made on March 12, 2025 "
               "is returned in full.",
        refund_method="Check", refund_reference="Check no. 551203", payment_date=date(2025, 3, 12),
        payment_cents=6300,
        ledger=(LedgerLine(date(2025, 3, 4), "Fine", 6300), LedgerLine(date(2025, 3, 12), "Payment, card", -6300),
                LedgerLine(date(2025, 3, 28), "Dismissed on review", -6300),
                LedgerLine(date(2025, 4, 2), "Refund, check 551203", 6300)),
        mail=MailPiece(mailer_id="123456", serial=300000001) if profile != "ENG" else MailPiece(),
    )


def sample_reversal(profile: str = "CA") -> ReversalLetterData:
    return ReversalLetterData(
        profile_code=profile, agency=AGENCIES[profile], recipient=RECIPIENTS[profile], letter_date=date(2025, 4, 2),
        citation_number=sample_facts(profile).citation_number, payment_date=date(2025, 3, 20), amount_cents=6300,
        instrument="ACH debit", instrument_reference="Trace 091000019876543", return_reason_code="R01",
        return_reason="Insufficient funds", returned_item_fee_cents=2500, balance_cents=8800,
        pay_by_date=date(2025, 4, 23),
        mail=MailPiece(mailer_id="123456", serial=400000001) if profile != "ENG" else MailPiece(),
    )


def sample_hearing_notice(profile: str = "CA") -> HearingNoticeData:
    return HearingNoticeData(
        profile_code=profile, agency=AGENCIES[profile], recipient=RECIPIENTS[profile], letter_date=date(2025, 4, 2),
        appeal_number="AP0000412", facts=sample_facts(profile), hearing_at=_ts(22, 17, 30), mode="In person",
        location_lines=("Hearing Room 2, City Hall Annex", "455 Marina Way, Riverside Bay CA"),
        join_instructions="Check in at the second-floor reception 15 minutes before your hearing.",
        reschedule_by=date(2025, 4, 15),
        what_to_bring=("This notice", "Photo identification", "Any evidence: photographs, receipts, permits",
                       "Witness statements, signed and dated"),
        mail=MailPiece(mailer_id="123456", serial=500000001) if profile != "ENG" else MailPiece(),
    )


def sample_decision(profile: str = "CA", decision: Decision = Decision.REDUCED) -> DecisionLetterData:
    new = {Decision.UPHELD: 6300, Decision.DISMISSED: 0, Decision.REDUCED: 2500}[decision]
    next_level = {"CA": "Superior Court (de novo review, Vehicle Code 40230)",
                  "NYC": "Parking Violations Appeals Board",
                  "ENG": "Traffic Penalty Tribunal (independent adjudicator)"}[profile]
    return DecisionLetterData(
        profile_code=profile, agency=AGENCIES[profile], recipient=RECIPIENTS[profile], letter_date=date(2025, 4, 24),
        appeal_number="AP0000412", facts=sample_facts(profile), level="Administrative hearing",
        decision=decision,
        reason_text="The meter log shows a payment of 40 minutes at 17:05 and the citation was issued at 17:49, "
                    "four minutes after expiry. The appellant's receipt supports a grace period under the "
                    "agency's policy for a malfunctioning pay station on that block; the fine is reduced.",
        decided_by="Hearing Officer R. Castellanos", original_amount_cents=6300, new_amount_cents=new,
        amount_due_cents=new, pay_by_date=date(2025, 5, 15) if new else None,
        next_level=next_level if decision != Decision.DISMISSED else "",
        next_level_deadline=date(2025, 5, 24) if decision != Decision.DISMISSED else None,
        next_level_instructions="File a notice of appeal with the court clerk and pay the filing fee; a copy of "
                                "this decision must be attached.",
        mail=MailPiece(mailer_id="123456", serial=600000001) if profile != "ENG" else MailPiece(),
    )


def sample_acknowledgement(profile: str = "CA") -> AcknowledgementData:
    return AcknowledgementData(
        profile_code=profile, agency=AGENCIES[profile], recipient=RECIPIENTS[profile], letter_date=date(2025, 3, 20),
        appeal_number="AP0000412", facts=sample_facts(profile), received_at=_ts(19, 16, 12), channel="Online",
        level="Initial review" if profile != "ENG" else "Representation",
        grounds="The pay station on the block was out of order; I paid by app for the wrong zone.",
        documents_received=("statement.pdf", "pay-station-photo.jpg"), decision_due_by=date(2025, 5, 14),
        mail=MailPiece(mailer_id="123456", serial=700000001) if profile != "ENG" else MailPiece(),
    )


def sample_docket(profile: str = "CA", entries: int = 14) -> DocketData:
    rows = []
    modes = ("In person", "Video", "Telephone", "Written")
    names = ("Jordan A. Whitfield", "Li Wei", "Maria Gonzalez-Ortega", "Samuel O'Neill", "Aisha Bello",
             "Tomasz Kowalski", "Grace Nakamura")
    for i in range(entries):
        f = sample_facts(profile, i + 1)
        rows.append(DocketEntry(_ts(22, 16, 0) + timedelta(minutes=20 * i), f"AP{412 + i:07d}",
                                f.citation_number, f.plate, names[i % len(names)], modes[i % 4], f.violation_code,
                                f.fine_cents, notes="Interpreter: Spanish" if i == 3 else ""))
    return DocketData(profile, AGENCIES[profile], date(2025, 3, 22), TIMEZONES[profile],
                      "Hearing Officer R. Castellanos", "Hearing Room 2, City Hall Annex", tuple(rows),
                      prepared_at=_ts(21, 23, 0))


def sample_packet(profile: str, photos: tuple[EvidencePhoto, ...], map_png: str | None,
                  appellant_docs: tuple[AppellantDocument, ...] = ()) -> HearingPacketData:
    facts = sample_facts(profile)
    digests = tuple(DigestRow(p.path.rsplit("/", 1)[-1], p.sha256, p.sha256 if i else p.sha256)
                    for i, p in enumerate(photos))
    return HearingPacketData(
        profile_code=profile, agency=AGENCIES[profile], appeal_number="AP0000412", facts=facts,
        appellant_name=RECIPIENTS[profile].name, prepared_at=_ts(21, 22, 10), prepared_by="K. Sato (ksato)",
        hearing_at=_ts(22, 17, 30), grounds="Pay station out of order",
        appellant_statement="I arrived at 9:40 and the pay station on Harbor Blvd showed an error. I used the "
                            "app but it put me in zone 12 instead of 14. I attach my app receipt.",
        photos=photos, map_png_path=map_png, map_caption="Officer GPS fix and the photos' EXIF positions",
        exif_rows=tuple(ExifRow(p.path.rsplit("/", 1)[-1], tag, value) for p in photos[:2] for tag, value in (
            ("DateTimeOriginal", "2025:03:04 09:49:12"), ("Model", "TC57 handheld"),
            ("GPSLatitude", "37.7712 N"), ("GPSLongitude", "122.2711 W"))),
        digests=digests,
        signature=SignatureState(SignatureStatus.VALID, signer="Device HH-0417 / badge 4471",
                                 key_id="ed25519:5f1c9a0e", algorithm="Ed25519",
                                 detail="Signature over the citation record and photo digests verified."),
        timeline=(TimelineRow(_ts(4, 17, 49), "Officer 4471", "Citation issued", "Handheld HH-0417"),
                  TimelineRow(_ts(4, 23, 2), "sync", "Received from field", "batch 2025-03-04/17"),
                  TimelineRow(_ts(5, 16, 30), "K. Sato", "Approved in review"),
                  TimelineRow(_ts(10, 12, 0), "notice run", "Notice of violation mailed", "serial 100000001"),
                  TimelineRow(_ts(19, 16, 12), "online", "Contest received", "AP0000412")),
        ledger=(LedgerLine(date(2025, 3, 4), "Fine", 6300),),
        appellant_documents=appellant_docs,
    )
