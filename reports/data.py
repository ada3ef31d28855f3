"""Plain, frozen data that the printed documents take.

The services layer fills these from the database; the documents in `reports`
never see SQLAlchemy or Qt. Everything a page prints is here, already decided:
amounts are integer cents, times are timezone-aware, deadlines are computed
dates (the domain computes them, the documents only print them).

Conventions:
- `*_cents: int` for money, never a float; the profile decides the currency sign.
- `datetime` values carry tzinfo; `timezone_name` (an IANA name such as
  "America/Los_Angeles") says in which zone to print them.
- Tuples, not lists, so every object is immutable and can cross a process
  boundary (batch rendering pickles them).
- `profile_code` is one of the jurisdiction profiles in `reports.profiles`
  ("CA", "NYC", "ENG").

Over 600 lines: the one module of plain data that every document takes; the services may import nothing
else of `reports` (the layer table of tests/unit/core/test_architecture.py), so it is not split.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from desktop.domain import postal


class NoticeKind(enum.StrEnum):
    """Which mailed notice of the escalation ladder a `NoticeData` is."""

    VIOLATION = "violation"  # CA/NYC first notice (England: use NOTICE_TO_OWNER)
    NOTICE_TO_OWNER = "notice_to_owner"  # England, TMA 2004 / Civil Enforcement regs
    DELINQUENT = "delinquent"  # CA notice of delinquent violation; NYC penalty notice
    FINAL = "final"  # last notice before collections / judgment
    CHARGE_CERTIFICATE = "charge_certificate"  # England: charge increased by 50 %


class Decision(enum.StrEnum):
    """Outcome of a review, representation or hearing."""

    UPHELD = "upheld"
    DISMISSED = "dismissed"
    REDUCED = "reduced"


class SignatureStatus(enum.StrEnum):
    """State of the handheld's signature over a citation's evidence."""

    VALID = "valid"
    INVALID = "invalid"
    MISSING = "missing"
    UNKNOWN_KEY = "unknown_key"


#: The words a printed document spells differently in British English (US spelling -> GB spelling).
_GB_SPELLING = {"check": "cheque", "checks": "cheques", "color": "colour", "colors": "colours",
                "license": "licence", "center": "centre", "canceled": "cancelled", "honoring": "honouring"}


@dataclass(frozen=True)
class AgencyInfo:
    """The issuing agency as its settings describe it (names, addresses, wording are settings, not code).

    `pay_url_template` is formatted with `citation_number=` (and may use `plate=`), e.g.
    "https://pay.example.gov/c/{citation_number}". `wording_overrides` replaces any wording key of the
    jurisdiction profile (see `reports.profiles.WORDING_KEYS`) for this agency.
    """

    name: str
    department: str
    return_address_lines: tuple[str, ...]
    phone: str
    pay_url_template: str
    web_url: str = ""
    email: str = ""
    logo_path: str | None = None
    office_hours: str = ""
    payee_name: str = ""  # "Make cheques payable to ..."; defaults to `name`
    pay_by_mail_lines: tuple[str, ...] = ()  # remittance address; defaults to the return address
    contest_address_lines: tuple[str, ...] = ()  # where written contests go; defaults to the return address
    contest_url: str = ""
    in_person_lines: tuple[str, ...] = ()  # counter address for paying in person
    signature_name: str = ""
    signature_title: str = ""
    wording_overrides: Mapping[str, str] = field(default_factory=dict, hash=False)
    currency: str = "USD"  # ISO 4217 code of the amounts this authority prints
    spelling: str = "US"  # "US" (check, color) or "GB" (cheque, colour)
    tribunal_name: str = ""  # the next, independent appeal level (court or tribunal) letters name
    tribunal_address_lines: tuple[str, ...] = ()
    tribunal_web_url: str = ""

    def spell(self, us_word: str) -> str:
        """`us_word` in this authority's spelling ("check" -> "cheque" for GB), keeping its capitals."""
        gb = _GB_SPELLING.get(us_word.lower()) if self.spelling.upper() == "GB" else None
        if gb is None:
            return us_word
        if us_word.isupper():
            return gb.upper()
        return gb.capitalize() if us_word[:1].isupper() else gb

    def pay_url(self, citation_number: str, plate: str = "") -> str:
        """The online payment address for one citation."""
        return self.pay_url_template.format(citation_number=citation_number, plate=plate)

    @property
    def remittance_lines(self) -> tuple[str, ...]:
        return self.pay_by_mail_lines or self.return_address_lines

    @property
    def contest_lines(self) -> tuple[str, ...]:
        return self.contest_address_lines or self.return_address_lines

    @property
    def payee(self) -> str:
        return self.payee_name or self.name


@dataclass(frozen=True)
class Recipient:
    """Who a mailed document goes to, as the address will print in the envelope window.

    For US mail `zip_code` is the 5-digit ZIP, `zip4` the add-on and `delivery_point` the 2-digit delivery
    point; together they form the IMb routing code. For England `zip_code` holds the postcode and `state`
    the (optional) county.
    """

    name: str
    address_lines: tuple[str, ...]
    city: str
    state: str
    zip_code: str
    zip4: str | None = None
    delivery_point: str | None = None
    country: str = ""  # printed only when set (foreign mail)
    attention: str = ""  # e.g. "Registered owner" / "c/o ..."

    @property
    def routing_code(self) -> str:
        """IMb routing code: 5, 9 or 11 digits (ZIP, ZIP+4, ZIP+4+delivery point), or "" if no US ZIP."""
        return postal.routing_code(self.zip_code, self.zip4, self.delivery_point)

    def last_line(self, uk_style: bool = False) -> str:
        """City/state/ZIP line as USPS Pub. 28 wants it (or town + postcode for UK mail)."""
        if uk_style:
            return self.city.upper()
        zip_part = self.zip_code + (f"-{self.zip4}" if self.zip4 else "")
        return f"{self.city} {self.state}  {zip_part}".strip()


@dataclass(frozen=True)
class EvidencePhoto:
    """One evidence photo; `path` is the print-resolution derivative (see `reports.photos`)."""

    path: str
    caption: str = ""
    taken_at: datetime | None = None
    sha256: str = ""  # digest of the ORIGINAL evidence file, as stored


@dataclass(frozen=True)
class CitationFacts:
    """What the officer recorded, as it prints on every document about the citation."""

    citation_number: str
    issued_at: datetime  # tz-aware
    timezone_name: str  # IANA zone for printing, e.g. "America/Los_Angeles"
    plate: str
    plate_jurisdiction: str  # state / country of the plate, e.g. "CA", "NY", "GB"
    make: str
    color: str
    location: str
    violation_code: str
    violation_description: str
    fine_cents: int
    penalty_cents: int = 0
    paid_cents: int = 0
    balance_cents: int = 0
    officer_badge: str = ""
    body_style: str = ""
    plate_type: str = ""
    meter_number: str = ""
    plate_expiry: str = ""  # as printed on the registration sticker, e.g. "2026-03"


@dataclass(frozen=True)
class LedgerLine:
    """One ledger entry of a case: charges positive, credits (payments, adjustments) negative."""

    posted_on: date
    description: str
    amount_cents: int
    reference: str = ""


@dataclass(frozen=True)
class PenaltyStep:
    """One step of the penalty schedule printed on a notice ("If not paid by Mar 3: $90.00")."""

    description: str
    effective_on: date | None
    added_cents: int
    total_due_cents: int


@dataclass(frozen=True)
class MailPiece:
    """What the Intelligent Mail barcode of one mailed piece is built from (USPS-B-3200)."""

    mailer_id: str = ""  # 6 or 9 digits from USPS; a 6-digit MID never starts with 9; "" = no IMb
    serial: int = 0  # per-piece serial: 9 digits with a 6-digit MID, 6 digits with a 9-digit MID
    barcode_id: str = "00"  # 2 digits, second digit 0-4; "00" = no optional endorsement line
    service_type_id: str = "300"  # 3 digits; 300 = First-Class Mail, basic IMb, no services requested
    # How the piece prints (settings mail.colour, mail.envelope): black ink only unless `colour`; the
    # envelope, fold and paper named or described by `envelope` ("" = the profile's own; see
    # reports.geometry.insert_from_spec).
    colour: bool = False
    envelope: str = ""


@dataclass(frozen=True)
class NoticeData:
    """One mailed notice of the escalation ladder (violation, NtO, delinquent, final, charge certificate)."""

    kind: NoticeKind
    profile_code: str
    agency: AgencyInfo
    recipient: Recipient
    facts: CitationFacts
    notice_date: date
    amount_due_cents: int  # due now, by `due_date`
    due_date: date
    amount_due_after_cents: int | None = None  # what it becomes after `due_date` (None: not stated)
    discount_cents: int | None = None  # England: the discounted amount payable by `discount_deadline`
    discount_deadline: date | None = None
    contest_deadline: date | None = None
    how_to_contest: str = ""  # agency text; "" = the profile's standard wording
    penalty_schedule: tuple[PenaltyStep, ...] = ()
    photo: EvidencePhoto | None = None
    ledger: tuple[LedgerLine, ...] = ()
    mail: MailPiece = field(default_factory=MailPiece)
    reprint: bool = False
    previous_notice_date: date | None = None  # the date of the notice this one follows


@dataclass(frozen=True)
class ReceiptAllocation:
    """How much of a payment went to one citation."""

    citation_number: str
    plate: str
    applied_cents: int
    balance_after_cents: int


@dataclass(frozen=True)
class ReceiptData:
    """A payment receipt (counter, mail or online)."""

    profile_code: str
    agency: AgencyInfo
    receipt_number: str
    received_at: datetime  # tz-aware
    timezone_name: str
    payer_name: str
    method: str  # "Cash", "Check", "Card", "ACH", ...
    amount_cents: int
    allocations: tuple[ReceiptAllocation, ...]
    method_detail: str = ""  # "Check 1042", "VISA ****1111 auth 02211A"
    tendered_cents: int | None = None  # cash handed over
    change_cents: int = 0
    cashier: str = ""
    workstation: str = ""
    recipient: Recipient | None = None  # set when the receipt is mailed
    mail: MailPiece = field(default_factory=MailPiece)
    reprint: bool = False

    @classmethod
    def from_plain(cls, plain: Mapping[str, Any]) -> ReceiptData:
        """The receipt from the plain values the payments service gives: its keys follow this class,
        `agency` and `allocations` are nested mappings, and `status` and `source` (shown on screen,
        not printed) are left out."""
        fields = {k: v for k, v in plain.items() if k not in ("status", "source", "agency", "allocations")}
        return cls(**fields, agency=AgencyInfo(**plain["agency"]),
                   allocations=tuple(ReceiptAllocation(**a) for a in plain["allocations"]))


@dataclass(frozen=True)
class RefundLetterData:
    """Letter that goes with (or announces) a refund of an overpayment or a dismissed citation."""

    profile_code: str
    agency: AgencyInfo
    recipient: Recipient
    letter_date: date
    citation_number: str
    refund_cents: int
    reason: str
    refund_method: str  # "Check", "Credit to original card", ...
    refund_reference: str = ""  # cheque number / card refund reference
    payment_date: date | None = None
    payment_cents: int | None = None
    ledger: tuple[LedgerLine, ...] = ()
    mail: MailPiece = field(default_factory=MailPiece)


@dataclass(frozen=True)
class ReversalLetterData:
    """Letter after a payment came back from the bank (returned cheque, ACH return)."""

    profile_code: str
    agency: AgencyInfo
    recipient: Recipient
    letter_date: date
    citation_number: str
    payment_date: date
    amount_cents: int
    instrument: str  # "Check" / "ACH debit"
    instrument_reference: str  # cheque number or ACH trace number
    return_reason_code: str  # e.g. "R01"
    return_reason: str  # e.g. "Insufficient funds"
    returned_item_fee_cents: int
    balance_cents: int  # balance now due, after the reversal and fee
    pay_by_date: date
    mail: MailPiece = field(default_factory=MailPiece)


@dataclass(frozen=True)
class HearingNoticeData:
    """Notice of the date, time and place (or means) of an administrative hearing."""

    profile_code: str
    agency: AgencyInfo
    recipient: Recipient
    letter_date: date
    appeal_number: str
    facts: CitationFacts
    hearing_at: datetime  # tz-aware
    mode: str  # "In person", "Video", "Telephone", "Written"
    location_lines: tuple[str, ...] = ()
    join_instructions: str = ""
    reschedule_by: date | None = None
    what_to_bring: tuple[str, ...] = ()
    mail: MailPiece = field(default_factory=MailPiece)


@dataclass(frozen=True)
class DecisionLetterData:
    """The decision on a review, representation or hearing, and what the motorist can do next."""

    profile_code: str
    agency: AgencyInfo
    recipient: Recipient
    letter_date: date
    appeal_number: str
    facts: CitationFacts
    level: str  # "Initial review", "Administrative hearing", "Formal representation"
    decision: Decision
    reason_text: str
    decided_by: str
    original_amount_cents: int
    new_amount_cents: int  # amount owed after the decision (0 when dismissed)
    amount_due_cents: int  # still to pay after what was paid
    pay_by_date: date | None = None
    refund_due_cents: int = 0
    next_level: str = ""  # "Administrative hearing", "Superior Court", "Traffic Penalty Tribunal"
    next_level_deadline: date | None = None
    next_level_instructions: str = ""
    mail: MailPiece = field(default_factory=MailPiece)
    discount_cents: int | None = None  # England: the discounted amount offered again after a rejection
    discount_deadline: date | None = None


@dataclass(frozen=True)
class AcknowledgementData:
    """Acknowledgement that a contest / representation / appeal was received."""

    profile_code: str
    agency: AgencyInfo
    recipient: Recipient
    letter_date: date
    appeal_number: str
    facts: CitationFacts
    received_at: datetime
    channel: str  # "Mail", "Online", "In person"
    level: str  # "Initial review", "Representation", ...
    grounds: str = ""
    documents_received: tuple[str, ...] = ()
    decision_due_by: date | None = None
    penalties_paused: bool = True
    mail: MailPiece = field(default_factory=MailPiece)


@dataclass(frozen=True)
class ExifRow:
    """One EXIF field of one evidence photo, as read from the original file."""

    photo_name: str
    tag: str
    value: str


@dataclass(frozen=True)
class DigestRow:
    """An evidence file's recorded digest against the one computed when the packet was built."""

    file_name: str
    recorded_sha256: str
    computed_sha256: str

    @property
    def verified(self) -> bool:
        return bool(self.recorded_sha256) and self.recorded_sha256.lower() == self.computed_sha256.lower()


@dataclass(frozen=True)
class SignatureState:
    """The device signature over the citation record and its evidence digests."""

    status: SignatureStatus
    signer: str = ""  # device / officer
    key_id: str = ""
    algorithm: str = ""
    detail: str = ""


@dataclass(frozen=True)
class TimelineRow:
    """One audit-trail event of the case."""

    at: datetime
    actor: str
    event: str
    detail: str = ""


@dataclass(frozen=True)
class AppellantDocument:
    """A document the appellant submitted. Images are reproduced; PDFs are listed with their digest."""

    file_name: str
    path: str
    sha256: str
    media_type: str  # "image/jpeg", "image/png", "application/pdf", ...
    received_at: datetime | None = None
    page_count: int | None = None

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")


@dataclass(frozen=True)
class PlateReadingRow:
    """The plate read from the evidence photo (issue 20): the enlarged crop and one line saying what it reads."""

    summary: str
    crop_png_path: str | None = None
    engine: str = ""


@dataclass(frozen=True)
class HearingPacketData:
    """Everything a hearing officer sees about one appeal, printed as one evidence packet."""

    profile_code: str
    agency: AgencyInfo
    appeal_number: str
    facts: CitationFacts
    appellant_name: str
    prepared_at: datetime
    prepared_by: str
    hearing_at: datetime | None = None
    grounds: str = ""
    appellant_statement: str = ""
    photos: tuple[EvidencePhoto, ...] = ()
    map_png_path: str | None = None
    map_caption: str = ""
    exif_rows: tuple[ExifRow, ...] = ()
    digests: tuple[DigestRow, ...] = ()
    signature: SignatureState = field(default_factory=lambda: SignatureState(SignatureStatus.MISSING))
    timeline: tuple[TimelineRow, ...] = ()
    ledger: tuple[LedgerLine, ...] = ()
    appellant_documents: tuple[AppellantDocument, ...] = ()
    plate_reading: PlateReadingRow | None = None


@dataclass(frozen=True)
class DocketEntry:
    """One hearing on a day's docket."""

    hearing_at: datetime
    appeal_number: str
    citation_number: str
    plate: str
    appellant_name: str
    mode: str
    violation_code: str
    amount_cents: int
    status: str = "Scheduled"
    notes: str = ""


@dataclass(frozen=True)
class DocketData:
    """A day's hearings for one hearing officer / room."""

    profile_code: str
    agency: AgencyInfo
    hearing_date: date
    timezone_name: str
    hearing_officer: str
    location: str
    entries: tuple[DocketEntry, ...]
    prepared_at: datetime


#: Every mailed letter's data (each prints as one letter of `reports.letters`).
LetterData = HearingNoticeData | DecisionLetterData | AcknowledgementData | RefundLetterData | ReversalLetterData


@dataclass(frozen=True)
class BatchResult:
    """What one print batch (one PDF of notices or letters) produced."""

    path: Path | None  # None when cancelled
    notices: int
    pages: int
    bytes_written: int
    seconds: float
    cancelled: bool = False
    citation_numbers: tuple[str, ...] = field(default=(), repr=False)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


class ColumnKind(enum.StrEnum):
    """How a column of a printed or exported list is typed: XLSX writes numbers, dates and money as
    real cells; the PDF aligns numbers and money to the right."""

    TEXT = "text"
    INT = "int"
    MONEY = "money"  # integer cents
    DATE = "date"
    DATETIME = "datetime"  # timezone-aware; shown in the table's timezone
    NUMBER = "number"  # a decimal figure (float), shown with one decimal (an average of days)
    PERCENT = "percent"  # a share as a fraction 0..1, shown as 82.5 %


@dataclass(frozen=True)
class TableColumn:
    """One column of a list: its heading, its kind, and its share of the page width (PDF)."""

    title: str
    kind: ColumnKind = ColumnKind.TEXT
    width: float = 1.0


@dataclass(frozen=True)
class TableData:
    """A list as printed: what it is, the filter it was made with, who made it and when. The rows come
    separately, as an iterator (a list of a million cases is never held in memory)."""

    title: str
    filter_text: str
    columns: tuple[TableColumn, ...]
    made_by: str
    made_at: datetime
    timezone_name: str
    agency_name: str = ""
    currency_symbol: str = "$"


# --------------------------------------------------------------------------- patrol plans


@dataclass(frozen=True)
class PatrolZoneShape:
    """A zone as the printed beat map draws it: its outer rings in (lon, lat), empty without geometry."""

    code: str
    name: str
    rings: tuple[tuple[tuple[float, float], ...], ...]
    priority: float


@dataclass(frozen=True)
class PatrolStopLine:
    zone: str
    zone_name: str
    minutes: int
    travel_minutes: int | None  # None: no travel estimate (a zone without geometry)
    arrive: str  # "HH:MM" local, "" when the shift start is unknown


@dataclass(frozen=True)
class PatrolBeatPage:
    badge: str
    officer_name: str
    shift_start: str | None
    shift_minutes: int
    stops: tuple[PatrolStopLine, ...]


@dataclass(frozen=True)
class PatrolPlanPrint:
    """A day's patrol plan as printed: one page per beat with a map of the beat's zones among the others."""

    agency_name: str
    day: date
    version: int
    saved_by: str
    saved_at: datetime
    timezone_name: str
    beats: tuple[PatrolBeatPage, ...]
    zones: tuple[PatrolZoneShape, ...]
    notes: tuple[str, ...] = ()

@dataclass(frozen=True)
class ChartSeries:
    """One series of a chart: its name (the legend) and one value per category."""

    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class ChartData:
    """A management report's chart: bars (stacked when there are several series) or a line, over
    categories (days, weeks, officers, kinds), with the axis titles and the unit of the values."""

    kind: str  # "bar", "stacked" or "line"
    categories: tuple[str, ...]
    series: tuple[ChartSeries, ...]
    x_title: str
    y_title: str  # with its unit: "Citations (count)", "Amount ($)"
    money: bool = False  # the values are currency units (dollars, not cents)


@dataclass(frozen=True)
class ReportTable:
    """One table of a report: a heading, typed columns and its (few, aggregated) rows."""

    title: str
    columns: tuple[TableColumn, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class ReportDocData:
    """A management report as printed: the heading, its period and filter, who and when, the chart, one
    or more tables and a few summary sentences; ``empty_text`` when there was nothing to chart."""

    title: str
    filter_text: str
    made_by: str
    made_at: datetime
    timezone_name: str
    agency_name: str
    chart: ChartData | None
    tables: tuple[ReportTable, ...]
    summary: tuple[str, ...] = ()
    empty_text: str = ""
    currency_symbol: str = "$"
