"""Bank statement (BAI2) and lockbox (BAI fixed-width) files: incoming payments with control totals.

(Over 600 lines, knowingly: BAI2 statements and lockbox files share one record reader and its checks.)

BAI2 files are parsed with the ``bai2`` package (``bai2.bai2.parse_from_lines``: note the module
path, ``import bai2`` alone does not expose it). We first rebuild logical records ourselves,
keeping physical line numbers, because the package does not report positions and trips on real
files:

* several records on one physical line, separated by ``/`` and blanks (fixed-block layout);
* a record wrapped onto the next physical line without an ``88`` continuation;
* a ``/`` at the end of a physical record ends the field, so the continuation starts a new one
  (the package glues ``...,190/`` + ``88,500000`` into the type code ``190500000``).

The package then parses fields (type codes, funds types and availability, dates, clock or
military times) with ``check_integrity=False``; the control totals and record counts of the
account (49), group (98) and file (99) trailers are checked here so a mismatch names its line.

Which detail (16) records are payments: the credit type codes in ``PAYMENT_TYPE_CODES``:
115/116 lockbox, 142/143/165 ACH credits, 147 card deposits, 175/301 check deposits,
158/191/195/208 incoming transfers (wire). Debits and every other credit (e.g. 108
"Credit (any type)", 218 foreign collection, 257 ACH return items) are listed in
``ImportedFile.skipped`` with the reason, for a clerk to look at; they are never posted.

Lockbox files (``1``, ``2``, ``5``, ``6``, ``4``, ``7``, ``8``, ``9`` records, up to 104 columns):
each ``6`` record is a check (``4`` overflow records carry its memo); batch (``7``), lockbox
service (``8``) totals and the destination trailer record count (``9``) are checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from itertools import pairwise
from typing import Any

from bai2 import bai2 as bai2_api
from bai2.constants import TypeCodes, TypeCodeTransaction

from desktop.domain.payment_identity import bai2_id, lockbox_id
from desktop.services.payments.importers.common import (
    FileKind,
    ImportedFile,
    ImportedPayment,
    ImportRejected,
    PaymentMethod,
    SkippedRecord,
    file_digest,
    make_external_id,
    parse_hhmm,
)

PAYMENT_TYPE_CODES: dict[str, PaymentMethod] = {
    "115": PaymentMethod.LOCKBOX,  # Lockbox Deposit
    "116": PaymentMethod.LOCKBOX,  # Item in Lockbox Deposit
    "142": PaymentMethod.ACH,  # ACH Credit Received
    "143": PaymentMethod.ACH,  # Item in ACH Deposit
    "165": PaymentMethod.ACH,  # Preauthorized ACH Credit
    "147": PaymentMethod.CARD,  # Individual Bank Card Deposit
    "175": PaymentMethod.CHECK,  # Check Deposit Package
    "301": PaymentMethod.CHECK,  # Commercial Deposit
    "158": PaymentMethod.WIRE,  # Real Time Payment Credit
    "191": PaymentMethod.WIRE,  # Individual Incoming Internal Money Transfer
    "195": PaymentMethod.WIRE,  # Incoming Money Transfer
    "208": PaymentMethod.WIRE,  # Individual International Money Transfer Credit
}

_RECORD_CODES = frozenset({"01", "02", "03", "16", "49", "88", "98", "99"})
_RECORD_START = re.compile(r"^(\d\d),")
_MULTI_RECORD_SPLIT = re.compile(r"(?<=/)\s+(?=\d\d,)")


@dataclass
class _Logical:
    """One logical BAI2 record: its code, merged text and the physical lines it came from."""

    code: str
    text: str
    first_line: int
    last_line: int
    physical_records: int = 1
    lines: list[int] = field(default_factory=list)
    ordinal: int = 0


def _append_continuation(record: _Logical, piece: str) -> None:
    """Glue an 88 continuation onto its record; a ``/`` before it ended the previous field."""
    text = record.text.rstrip()
    if record.code == "16" and _detail_text_started(text):
        # The free-text field runs to the end of the record: a continuation just extends it.
        record.text = (text.removesuffix("/")).rstrip() + " " + piece.strip()
        return
    if text.endswith("/"):
        text = text[:-1]
        if record.code == "03":
            # Some banks put a trailing comma before the slash, some do not; a summary is 4 fields.
            summary_commas = text.count(",") - 2
            if not text.endswith(",") or summary_commas % 4 != 0:
                text += ","
        else:
            text += ","
    else:
        text += " "
    record.text = text + piece


def _detail_fields_before_text(fields: list[str]) -> int:
    """How many comma-separated fields a 16 record has before its free text (needs the funds type)."""
    if len(fields) < 3:
        return 10**6
    funds_type = fields[2].strip()
    extra = {"S": 3, "V": 2}.get(funds_type, 0)
    if funds_type == "D":
        count = fields[3].strip() if len(fields) > 3 else ""
        if not count.isdigit():
            return 10**6
        extra = 1 + 2 * int(count)
    return 5 + extra


def _detail_text_started(text: str) -> bool:
    fields = text.split(",")
    return len(fields) > _detail_fields_before_text(fields)


def _normalise_detail(text: str) -> str:
    """Blank distributed-availability amounts (funds type S) mean zero; the package needs digits."""
    fields = text.split(",")
    if len(fields) > 5 and fields[2].strip() == "S":
        for index in (3, 4, 5):
            if not fields[index].strip():
                fields[index] = "0"
    return ",".join(fields)


def _logical_records(text: str) -> list[_Logical]:
    records: list[_Logical] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        for piece in _MULTI_RECORD_SPLIT.split(line):
            match = _RECORD_START.match(piece)
            if match is None:
                if not records:
                    raise ImportRejected(
                        f"the file does not start with a BAI2 record (\"01,\"); it starts with {piece[:20]!r}.",
                        line_no,
                    )
                # A physical record wrapped onto the next line (fixed-length blocks).
                records[-1].text += piece
                records[-1].last_line = line_no
                records[-1].lines.append(line_no)
                continue
            code = match.group(1)
            if code not in _RECORD_CODES:
                raise ImportRejected(
                    f"record type {code} is not a BAI2 record type (01, 02, 03, 16, 49, 88, 98, 99).", line_no
                )
            body = piece[3:]
            if code == "88":
                if not records:
                    raise ImportRejected("a continuation record (88) has nothing to continue.", line_no)
                previous = records[-1]
                _append_continuation(previous, body)
                previous.physical_records += 1
                previous.last_line = line_no
                previous.lines.append(line_no)
            else:
                records.append(_Logical(code, body, line_no, line_no, 1, [line_no], len(records) + 1))
    if not records:
        raise ImportRejected("the file is empty.")
    if records[0].code != "01":
        raise ImportRejected(
            f"a BAI2 file must start with a file header record (01); this one starts with {records[0].code}.",
            records[0].first_line,
        )
    return records


def _strip_record_end(text: str) -> str:
    text = text.rstrip()
    return text.removesuffix("/")


def _structure_check(records: list[_Logical]) -> None:
    """Check the nesting 01 (02 (03 16* 49)+ 98)+ 99 before handing the records to the package."""
    expected_next = {"01": {"02"}, "02": {"03"}, "03": {"16", "49"}, "16": {"16", "49"},
                     "49": {"03", "98"}, "98": {"02", "99"}, "99": set()}
    names = {"01": "file header", "02": "group header", "03": "account identifier", "16": "transaction detail",
             "49": "account trailer", "98": "group trailer", "99": "file trailer"}
    for previous, current in pairwise(records):
        allowed = expected_next[previous.code]
        if current.code not in allowed:
            if not allowed:
                raise ImportRejected("there are records after the file trailer (99).", current.first_line)
            wanted = " or ".join(f"{names[code]} ({code})" for code in sorted(allowed))
            raise ImportRejected(
                f"a {names[current.code]} ({current.code}) comes after the {names[previous.code]} "
                f"({previous.code}) on line {previous.last_line}; expected {wanted}.",
                current.first_line,
            )
    if records[-1].code != "99":
        raise ImportRejected("the file ends without a file trailer record (99).", records[-1].last_line)


# BAI2 times. BAI, "Cash Management Balance Reporting Specifications, Version 2" (2005), Data Element
# Definitions, Time: "Military format, 24 hours ... 0000 indicates the beginning of the day and 2400
# indicates the end of the day for the date indicated. Some processors use 9999 to indicate the end
# of the day. Be prepared to recognize 9999 as end-of-day when receiving transmissions."
# End of day is meaningful for the Group Header (02) As-of-Time (field 5 after the record code) and
# the Transaction Detail (16) value time of funds type V; the File Header (01) Creation Time (field 4)
# is the moment the file was made, a clock time 0000-2359. The clock form hh:mm:ss some banks send
# (NatWest) is accepted as a clock time.
_END_OF_DAY = frozenset({"2400", "9999"})
_CLOCK = re.compile(r"^(\d\d):(\d\d):(\d\d)$")


def _time_problem(text: str, end_of_day_allowed: bool) -> str | None:
    """Why a BAI2 time field is not a time (``None`` when it is, or is blank)."""
    text = text.strip()
    if not text:
        return None
    if text in _END_OF_DAY:
        return None if end_of_day_allowed else f"{text} (end of day) is only allowed as an as-of or value time"
    clock = _CLOCK.match(text)
    if clock is not None:
        hours, minutes, seconds = (int(part) for part in clock.groups())
        return None if hours <= 23 and minutes <= 59 and seconds <= 59 else "it is not a time of day"
    if len(text) != 4 or not text.isdigit():
        return "it is not four digits (hhmm)"
    if int(text[:2]) > 23 or int(text[2:]) > 59:
        return "it is not a time between 0000 and 2359" + (" (or 2400/9999 for the end of the day)"
                                                           if end_of_day_allowed else "")
    return None


def _check_times(records: list[_Logical]) -> None:
    """Validate the 01 creation time, the 02 as-of time and the 16 value times (see the comment above)."""
    for record in records:
        fields = record.text.split(",")
        if record.code == "01" and len(fields) > 3:
            what, text, end_of_day = "creation time", fields[3], False
        elif record.code == "02" and len(fields) > 4:
            what, text, end_of_day = "as-of time", fields[4], True
        elif record.code == "16" and len(fields) > 4 and fields[2].strip() == "V":
            what, text, end_of_day = "value time", fields[4], True
        else:
            continue
        problem = _time_problem(_strip_record_end(text), end_of_day)
        if problem is not None:
            raise ImportRejected(f"the {what} {text.strip()!r} is not valid: {problem}.", record.first_line)


def _local_to_utc(day: date | None, moment: time | None, bank_tz: tzinfo) -> datetime | None:
    if day is None:
        return None
    moment = moment or time(0, 0)
    if moment == time.max:
        moment = time(23, 59, 59)
    return datetime.combine(day, moment, tzinfo=bank_tz).astimezone(UTC)


def parse_bai2_bytes(data: bytes, file_name: str = "", bank_tz: tzinfo = UTC) -> ImportedFile:
    """Parse a BAI2 bank file; reject it whole (``ImportRejected``) on any structural or total error."""
    try:
        return _parse_bai2(data, file_name, bank_tz)
    except ImportRejected as rejected:
        if rejected.file_name is None and file_name:
            raise ImportRejected(rejected.reason, rejected.line, file_name) from None
        raise


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_no = data.count(b"\n", 0, exc.start) + 1
        raise ImportRejected(
            f"byte 0x{data[exc.start]:02X} is not text; this is not a readable bank file.", line_no
        ) from None


def _parse_bai2(data: bytes, file_name: str, bank_tz: tzinfo) -> ImportedFile:
    digest = file_digest(data)
    records = _logical_records(_decode(data))
    _structure_check(records)
    _check_times(records)
    normalised = [
        f"{record.code},{_normalise_detail(_strip_record_end(record.text)) if record.code == '16' else _strip_record_end(record.text)}/"
        for record in records
    ]
    consumed = 0

    def feed() -> Any:
        nonlocal consumed
        for line in normalised:
            consumed += 1
            yield line

    try:
        parsed = bai2_api.parse_from_lines(feed(), check_integrity=False)
    except Exception as exc:  # noqa: BLE001 - the package raises ValueError, KeyError, its own exceptions...
        index = max(0, min(consumed - 2, len(records) - 1))
        message = str(exc) or type(exc).__name__
        raise ImportRejected(f"this {records[index].code} record could not be read: {message}.",
                             records[index].first_line) from None

    by_code: dict[str, list[_Logical]] = {}
    for record in records:
        by_code.setdefault(record.code, []).append(record)
    detail_records = iter(by_code.get("16", []))
    account_headers = iter(by_code.get("03", []))
    account_trailers = iter(by_code.get("49", []))
    group_headers = iter(by_code.get("02", []))
    group_trailers = iter(by_code.get("98", []))
    header = parsed.header
    result = ImportedFile(
        kind=FileKind.BAI2,
        sha256=digest,
        file_name=file_name,
        bank_id=str(header.sender_id or ""),
        created_at=_local_to_utc(header.creation_date, header.creation_time, bank_tz),
    )
    accounts: list[str] = []
    file_total = 0
    file_records = 2
    for group in parsed.children:
        group_header_record = next(group_headers)
        group_trailer_record = next(group_trailers)
        group_total = 0
        group_records = group_header_record.physical_records + group_trailer_record.physical_records
        group_currency = group.header.currency or "USD"
        for account in group.children:
            account_header_record = next(account_headers)
            account_trailer_record = next(account_trailers)
            number = str(account.header.customer_account_number or "").strip()
            if number and number not in accounts:
                accounts.append(number)
            currency = account.header.currency or group_currency
            result.currency = currency
            account_total = sum(summary.amount or 0 for summary in account.header.summary_items)
            account_records = account_header_record.physical_records + account_trailer_record.physical_records
            for detail in account.children:
                detail_record = next(detail_records)
                account_records += detail_record.physical_records
                account_total += detail.amount or 0
                _classify_detail(result, digest, number, currency, group, detail, detail_record, bank_tz)
            trailer = account.trailer
            _check_total("account trailer (49)", account_trailer_record, trailer.account_control_total or 0,
                         account_total, trailer.number_of_records, account_records)
            group_total += trailer.account_control_total or 0
            group_records += account_records
        trailer = group.trailer
        if trailer.number_of_accounts is not None and trailer.number_of_accounts != len(group.children):
            raise ImportRejected(
                f"the group trailer declares {trailer.number_of_accounts} accounts but the group has "
                f"{len(group.children)}.",
                group_trailer_record.first_line,
            )
        _check_total("group trailer (98)", group_trailer_record, trailer.group_control_total or 0,
                     group_total, trailer.number_of_records, group_records)
        file_total += trailer.group_control_total or 0
        file_records += group_records
    file_trailer_record = records[-1]
    trailer = parsed.trailer
    if trailer.number_of_groups is not None and trailer.number_of_groups != len(parsed.children):
        raise ImportRejected(
            f"the file trailer declares {trailer.number_of_groups} groups but the file has "
            f"{len(parsed.children)}.",
            file_trailer_record.first_line,
        )
    _check_total("file trailer (99)", file_trailer_record, trailer.file_control_total or 0, file_total,
                 trailer.number_of_records, file_records)
    result.account_ids = tuple(accounts)
    result.control_total_cents = trailer.file_control_total or 0
    result.control_count = trailer.number_of_records or 0
    result.number_identities()
    return result


def _check_total(what: str, record: _Logical, declared_total: int, actual_total: int,
                 declared_records: int | None, actual_records: int) -> None:
    if declared_total != actual_total:
        raise ImportRejected(
            f"the {what} declares a control total of {declared_total} but the amounts it covers add up to "
            f"{actual_total}.",
            record.first_line,
        )
    if declared_records is not None and declared_records != actual_records:
        raise ImportRejected(
            f"the {what} declares {declared_records} records but there are {actual_records}.",
            record.first_line,
        )


def _classify_detail(result: ImportedFile, digest: str, account_number: str, currency: str, group: Any,
                     detail: Any, record: _Logical, bank_tz: tzinfo) -> None:
    type_code = detail.type_code
    code = str(type_code.code)
    amount = int(detail.amount or 0)
    text = " ".join(str(detail.text or "").split())
    bank_reference = str(detail.bank_reference or "").strip()
    customer_reference = str(detail.customer_reference or "").strip()
    lines = tuple(record.lines)
    method = PAYMENT_TYPE_CODES.get(code)
    if type_code.transaction is TypeCodeTransaction.debit:
        result.skipped.append(SkippedRecord(lines, amount, f"debit ({type_code.description})", code, text, currency))
        return
    if method is None:
        result.skipped.append(SkippedRecord(
            lines, amount,
            f"credit type {code} ({type_code.description}) is not treated as a payment; check it by hand",
            code, text, currency))
        return
    if amount <= 0:
        result.skipped.append(SkippedRecord(lines, amount, "zero-amount credit", code, text, currency))
        return
    value_date = group.header.as_of_date
    availability = detail.availability or {}
    if isinstance(availability, dict) and isinstance(availability.get("date"), date):
        value_date = availability["date"]
    reference = " ".join(part for part in (customer_reference, text) if part)
    result.payments.append(ImportedPayment(
        external_id=make_external_id(FileKind.BAI2, digest, account_number, f"R{record.ordinal}",
                                     bank_reference),
        amount_cents=amount,
        value_date=value_date,
        received_at=_local_to_utc(group.header.as_of_date, group.header.as_of_time, bank_tz),
        reference_text=reference,
        payer=_payer_from_text(text),
        method=method,
        line_numbers=lines,
        currency=currency,
        type_code=code,
        identity=bai2_id(account_number, value_date, amount, bank_reference, code, customer_reference),
    ))


_PAYER_TAGS = re.compile(r"\b(?:DBNM|OB|BO1|From):\s*([^,]+?)(?=\s+[A-Z0-9]{2,4}:|,|$)")


def _payer_from_text(text: str) -> str:
    match = _PAYER_TAGS.search(text)
    return match.group(1).strip() if match else ""


def is_known_type_code(code: str) -> bool:
    """Whether the ``bai2`` package knows a type code (unknown ones make a file unreadable)."""
    return code in TypeCodes


# --- Lockbox (BAI fixed-width) -------------------------------------------------------------------

LOCKBOX_RECORD_LENGTH = 104


@dataclass
class _Check:
    line: int
    batch: str
    item: str
    amount_cents: int
    routing: str
    account: str
    check_number: str
    check_date: date | None
    remitter: str
    payee: str
    memo_lines: list[tuple[int, str]] = field(default_factory=list)


def _digits(record: str, start: int, end: int, what: str, line_no: int) -> int:
    text = record[start:end]
    if not text.isdigit():
        raise ImportRejected(f"the {what} {text.strip()!r} (columns {start + 1}-{end}) is not a number.", line_no)
    return int(text)


def _lockbox_date(text: str, mmddyy: bool = False) -> date | None:
    if len(text) != 6 or not text.isdigit():
        return None
    year, month, day = (text[4:6], text[0:2], text[2:4]) if mmddyy else (text[0:2], text[2:4], text[4:6])
    try:
        return date(2000 + int(year), int(month), int(day))
    except ValueError:
        return None


def parse_lockbox_bytes(data: bytes, file_name: str = "", bank_tz: tzinfo = UTC) -> ImportedFile:
    """Parse a BAI lockbox file: one payment per check, with batch and lockbox totals checked."""
    try:
        return _parse_lockbox(data, file_name, bank_tz)
    except ImportRejected as rejected:
        if rejected.file_name is None and file_name:
            raise ImportRejected(rejected.reason, rejected.line, file_name) from None
        raise


def _parse_lockbox(data: bytes, file_name: str, bank_tz: tzinfo) -> ImportedFile:
    digest = file_digest(data)
    text = _decode(data)
    lines = [(number, raw.rstrip()) for number, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
    if not lines:
        raise ImportRejected("the file is empty.")
    result = ImportedFile(kind=FileKind.LOCKBOX, sha256=digest, file_name=file_name)
    lockbox_number = ""
    deposit_date: date | None = None
    batch_checks: list[_Check] = []
    lockbox_checks: list[_Check] = []
    lockbox_batch_total = 0
    lockbox_batch_count = 0
    seen_trailer = False
    in_lockbox = False
    for position, (line_no, record) in enumerate(lines):
        if len(record) > LOCKBOX_RECORD_LENGTH:
            raise ImportRejected(
                f"this line is {len(record)} characters long; lockbox records are at most "
                f"{LOCKBOX_RECORD_LENGTH}.", line_no)
        kind = record[0]
        if seen_trailer:
            raise ImportRejected("there are records after the destination trailer (9).", line_no)
        if position == 0 and kind != "1":
            raise ImportRejected("a lockbox file must start with an immediate address header (1).", line_no)
        if kind == "1":
            if position != 0:
                raise ImportRejected("only one immediate address header (1) is allowed, at the top.", line_no)
            created = _lockbox_date(record[23:29])
            if created is None:
                raise ImportRejected(f"the processing date {record[23:29]!r} is not a YYMMDD date.", line_no)
            moment = parse_hhmm(record[29:33])
            result.created_at = _local_to_utc(created, moment, bank_tz)
            result.bank_id = record[13:23].strip()
        elif kind == "2":
            if position != 1:
                raise ImportRejected("the service record (2) must come right after the header.", line_no)
        elif kind == "5":
            if in_lockbox:
                raise ImportRejected("a lockbox detail header (5) starts before the previous lockbox was "
                                     "closed by its service total (8).", line_no)
            in_lockbox = True
            lockbox_number = record[7:14].strip()
            deposit_date = _lockbox_date(record[14:20])
            if deposit_date is None:
                raise ImportRejected(f"the deposit date {record[14:20]!r} is not a YYMMDD date.", line_no)
            if lockbox_number not in result.account_ids:
                result.account_ids = (*result.account_ids, lockbox_number)
            lockbox_checks = []
            lockbox_batch_total = 0
            lockbox_batch_count = 0
        elif kind == "6":
            if not in_lockbox:
                raise ImportRejected("a check record (6) appears outside a lockbox.", line_no)
            batch_checks.append(_Check(
                line=line_no,
                batch=record[1:4],
                item=record[4:7],
                amount_cents=_digits(record, 7, 17, "check amount", line_no),
                routing=record[17:26].strip(),
                account=record[26:36].strip(),
                check_number=record[36:46].strip().lstrip("0"),
                check_date=_lockbox_date(record[46:52], mmddyy=True),
                remitter=record[52:82].strip(),
                payee=record[82:102].strip(),
            ))
        elif kind == "4":
            if not batch_checks:
                raise ImportRejected("an overflow record (4) does not follow a check record (6).", line_no)
            batch_checks[-1].memo_lines.append((line_no, record[11:41].strip()))
        elif kind == "7":
            if not in_lockbox:
                raise ImportRejected("a batch total (7) appears outside a lockbox.", line_no)
            count = _digits(record, 20, 23, "number of remittances", line_no)
            total = _digits(record, 23, 33, "batch dollar total", line_no)
            actual_total = sum(check.amount_cents for check in batch_checks)
            if count != len(batch_checks) or total != actual_total:
                raise ImportRejected(
                    f"the batch total declares {count} checks for {total} cents, but the batch holds "
                    f"{len(batch_checks)} checks for {actual_total} cents.", line_no)
            lockbox_checks.extend(batch_checks)
            lockbox_batch_total += total
            lockbox_batch_count += count
            batch_checks = []
        elif kind == "8":
            if not in_lockbox:
                raise ImportRejected("a lockbox service total (8) appears without a lockbox header (5).", line_no)
            if batch_checks:
                raise ImportRejected("checks before this service total are not closed by a batch total (7).",
                                     line_no)
            count = _digits(record, 20, 24, "number of checks", line_no)
            total = _digits(record, 24, 34, "lockbox dollar total", line_no)
            if count != lockbox_batch_count or total != lockbox_batch_total:
                raise ImportRejected(
                    f"the lockbox service total declares {count} checks for {total} cents, but its batches "
                    f"hold {lockbox_batch_count} checks for {lockbox_batch_total} cents.", line_no)
            result.control_total_cents += total
            result.control_count += count
            for check in lockbox_checks:
                _lockbox_payment(result, digest, lockbox_number, deposit_date, check, bank_tz)
            in_lockbox = False
        elif kind == "9":
            declared = _digits(record, 1, 7, "total number of records", line_no)
            if declared != len(lines):
                raise ImportRejected(
                    f"the destination trailer declares {declared} records but the file has {len(lines)}.", line_no)
            seen_trailer = True
        else:
            raise ImportRejected(f"{kind!r} is not a lockbox record type (1, 2, 4, 5, 6, 7, 8, 9).", line_no)
    if in_lockbox:
        raise ImportRejected("the file ends inside a lockbox: its service total record (8) is missing.",
                             lines[-1][0])
    if not seen_trailer:
        raise ImportRejected("the file ends without its destination trailer record (9).", lines[-1][0])
    result.number_identities()
    return result


def _lockbox_payment(result: ImportedFile, digest: str, lockbox_number: str, deposit_date: date | None,
                     check: _Check, bank_tz: tzinfo) -> None:
    memo = " ".join(text for _, text in check.memo_lines if text)
    reference = " ".join(part for part in (memo, f"check {check.check_number}" if check.check_number else "")
                         if part)
    result.payments.append(ImportedPayment(
        external_id=make_external_id(FileKind.LOCKBOX, digest, lockbox_number, check.batch, check.item,
                                     check.check_number),
        amount_cents=check.amount_cents,
        value_date=deposit_date,
        received_at=_local_to_utc(deposit_date, None, bank_tz),
        reference_text=reference,
        payer=check.remitter,
        method=PaymentMethod.LOCKBOX,
        line_numbers=(check.line, *(line for line, _ in check.memo_lines)),
        identity=lockbox_id(lockbox_number, deposit_date, check.batch, check.item, check.check_number),
    ))
