"""NACHA ACH file reader: a hand-written parser for the 94-character fixed-width record format.

Records (first character): 1 file header, 5 batch header, 6 entry detail, 7 addenda,
8 batch control, 9 file control (and ``9999...`` block padding after it).

Perspective: the agency *originates* ACH debits to collect fines (e.g. e-check payments made on
the web portal, payment-plan instalments) and receives *return files* for those debits.
So entries are classified by transaction code (second digit):

* ``x7`` debits (27 checking, 37 savings, 47 GL): money collected from a payer -> ``ImportedPayment``
  (external id from the trace number, reference from the individual id, payer from the name).
* ``x2`` credits (22, 32, 42, 52): money the agency sends out (refunds) -> ``skipped``.
* ``x3``/``x8`` prenotes and ``x4``/``x9`` zero-dollar entries -> ``skipped``.
* ``x1``/``x6`` returns and notifications of change: with an addenda ``99`` -> ``AchReturn`` (reason
  code looked up in ``RETURN_REASONS``); with an addenda ``98`` -> ``notices_of_change``.

Accepted leniencies, all seen in real bank files: right-trimmed records shorter than 94
characters (padded with blanks), trailing blanks past column 94, CRLF line ends, a missing final
newline, and records run together on one line when the line length is a multiple of 94.

Everything else is refused whole with ``ImportRejected`` naming the line: non-ASCII bytes, a
record out of order, a bad routing check digit, non-numeric amounts, and any batch or file
control total (entry/addenda count, entry hash, total debits, total credits, batch count, block
count) that does not match the entries. ``.gz`` files are read transparently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from functools import lru_cache
from pathlib import Path

from desktop.domain.payment_identity import ach_id
from desktop.services.payments.importers.common import (
    AchReturn,
    FileKind,
    ImportedFile,
    ImportedPayment,
    ImportRejected,
    PaymentMethod,
    SkippedRecord,
    file_digest,
    gunzip_bounded,
    make_external_id,
    parse_hhmm,
    read_bounded,
)

RECORD_LENGTH = 94

RETURN_REASONS: dict[str, str] = {
    "R01": "Insufficient funds",
    "R02": "Account closed",
    "R03": "No account / unable to locate account",
    "R04": "Invalid account number",
    "R05": "Unauthorised debit to consumer account using corporate SEC code",
    "R06": "Returned per originating bank's request",
    "R07": "Authorisation revoked by customer",
    "R08": "Payment stopped",
    "R09": "Uncollected funds",
    "R10": "Customer advises not authorised, improper or ineligible",
    "R11": "Customer advises entry not in accordance with the terms of the authorisation",
    "R12": "Account sold to another bank",
    "R13": "Invalid ACH routing number",
    "R14": "Representative payee deceased or unable to continue",
    "R15": "Beneficiary or account holder deceased",
    "R16": "Account frozen / entry returned per OFAC instruction",
    "R17": "File record edit criteria (entry with invalid account number initiated under questionable circumstances)",
    "R18": "Improper effective entry date",
    "R19": "Amount field error",
    "R20": "Non-transaction account",
    "R21": "Invalid company identification",
    "R22": "Invalid individual ID number",
    "R23": "Credit entry refused by receiver",
    "R24": "Duplicate entry",
    "R25": "Addenda error",
    "R26": "Mandatory field error",
    "R27": "Trace number error",
    "R28": "Routing number check digit error",
    "R29": "Corporate customer advises not authorised",
    "R30": "Receiving bank not a participant in check truncation program",
    "R31": "Permissible return entry (CCD and CTX only)",
    "R32": "Receiving bank non-settlement",
    "R33": "Return of XCK entry",
    "R34": "Limited participation bank",
    "R35": "Return of improper debit entry",
    "R36": "Return of improper credit entry",
    "R37": "Source document presented for payment",
    "R38": "Stop payment on source document",
    "R39": "Improper source document / source document presented for payment",
    "R40": "Return of ENR entry by federal government agency",
    "R41": "Invalid transaction code (ENR)",
    "R42": "Routing number / check digit error (ENR)",
    "R43": "Invalid bank account number (ENR)",
    "R44": "Invalid individual ID number (ENR)",
    "R45": "Invalid individual name / company name (ENR)",
    "R46": "Invalid representative payee indicator (ENR)",
    "R47": "Duplicate enrolment (ENR)",
    "R50": "State law affecting RCK acceptance",
    "R51": "Item related to RCK entry is ineligible or RCK entry is improper",
    "R52": "Stop payment on item related to RCK entry",
    "R53": "Item and RCK entry presented for payment",
    "R61": "Misrouted return",
    "R62": "Return of erroneous or reversing debit",
    "R67": "Duplicate return",
    "R68": "Untimely return",
    "R69": "Field error(s)",
    "R70": "Permissible return entry not accepted / return not requested by originating bank",
    "R71": "Misrouted dishonored return",
    "R72": "Untimely dishonored return",
    "R73": "Timely original return",
    "R74": "Corrected return",
    "R75": "Return not a duplicate",
    "R76": "No errors found",
    "R77": "Non-acceptance of R62 dishonored return",
    "R80": "IAT entry coding error",
    "R81": "Non-participant in IAT program",
    "R82": "Invalid foreign receiving bank identification",
    "R83": "Foreign receiving bank unable to settle",
    "R84": "Entry not processed by gateway",
    "R85": "Incorrectly coded outbound international payment",
}

CHANGE_CODES: dict[str, str] = {
    "C01": "Incorrect bank account number",
    "C02": "Incorrect routing number",
    "C03": "Incorrect routing number and bank account number",
    "C05": "Incorrect transaction code",
    "C06": "Incorrect bank account number and transaction code",
    "C07": "Incorrect routing number, bank account number and transaction code",
    "C08": "Incorrect receiving bank identification (IAT)",
    "C09": "Incorrect individual identification number",
    "C13": "Addenda format error",
    "C14": "Incorrect SEC code for outbound international payment",
}

_VALID_TRANSACTION_CODES = frozenset(
    {21, 22, 23, 24, 26, 27, 28, 29, 31, 32, 33, 34, 36, 37, 38, 39, 41, 42, 43, 44, 46, 47, 48, 49,
     51, 52, 53, 54, 55, 56}
)
_NOT_ALLOWED = re.compile(rb"[^\x20-\x7e\r\n]")
_PADDING = "9" * RECORD_LENGTH


def return_reason(code: str) -> str:
    """Description of a return reason code; unknown (bank-specific) codes are said to be so."""
    known = RETURN_REASONS.get(code)
    if known is not None:
        return known
    return f"Return reason {code} is not in the NACHA table (a bank-specific code); ask the bank what it means"


@lru_cache(maxsize=4096)
def routing_check_digit(first_eight: str) -> int:
    """ABA check digit for the first eight digits of a routing number (weights 3, 7, 1)."""
    weights = (3, 7, 1, 3, 7, 1, 3, 7)
    total = sum(int(digit) * weight for digit, weight in zip(first_eight, weights, strict=True))
    return (10 - total % 10) % 10


@dataclass(slots=True)
class _Entry:
    line: int
    transaction_code: int
    rdfi: str
    account: str
    amount_cents: int
    individual_id: str
    name: str
    trace: str
    addenda_expected: bool
    addenda: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Batch:
    line: int
    service_class: str
    company_name: str
    company_id: str
    sec_code: str
    entry_description: str
    effective_date: date | None
    batch_number: str
    entries: list[_Entry] = field(default_factory=list)
    addenda_count: int = 0


def _yymmdd(text: str) -> date | None:
    if len(text) != 6 or not text.isdigit():
        return None
    try:
        return date(2000 + int(text[0:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None


def _number(text: str, what: str, line: int) -> int:
    stripped = text.strip()
    if not stripped.isdigit():
        raise ImportRejected(f"the {what} {text!r} is not a number.", line)
    return int(stripped)


def _records(text: str) -> list[tuple[int, str]]:
    """Split the decoded file into (physical line number, 94-character record) pairs."""
    records: list[tuple[int, str]] = []
    append = records.append
    for line_no, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        length = len(line)
        if length == RECORD_LENGTH:
            append((line_no, line))
        elif length == 0:
            continue
        elif length < RECORD_LENGTH:
            append((line_no, line.ljust(RECORD_LENGTH)))
        elif not line[RECORD_LENGTH:].strip():
            append((line_no, line[:RECORD_LENGTH]))
        elif length % RECORD_LENGTH == 0:
            for start in range(0, length, RECORD_LENGTH):
                append((line_no, line[start:start + RECORD_LENGTH]))
        else:
            raise ImportRejected(
                f"this line is {length} characters long; NACHA records are {RECORD_LENGTH} characters "
                f"(or several of them run together).",
                line_no,
            )
    return records


def parse_nacha_bytes(
    data: bytes, file_name: str = "", bank_tz: tzinfo = UTC
) -> ImportedFile:
    """Parse a NACHA file's raw bytes (already un-gzipped) into an ``ImportedFile``."""
    try:
        return _parse(data, file_name, bank_tz)
    except ImportRejected as rejected:
        if rejected.file_name is None and file_name:
            raise ImportRejected(rejected.reason, rejected.line, file_name) from None
        raise


def read_nacha(path: str | Path, bank_tz: tzinfo = UTC) -> ImportedFile:
    """Read a NACHA file from disk; ``.gz`` files are decompressed first."""
    path = Path(path)
    data = read_bounded(path)
    if data[:2] == b"\x1f\x8b":
        data = gunzip_bounded(data, path.name)
    return parse_nacha_bytes(data, path.name, bank_tz)


def _parse(data: bytes, file_name: str, bank_tz: tzinfo) -> ImportedFile:
    digest = file_digest(data)
    bad = _NOT_ALLOWED.search(data)
    if bad is not None:
        line_no = data.count(b"\n", 0, bad.start()) + 1
        column = bad.start() - (data.rfind(b"\n", 0, bad.start()) + 1) + 1
        raise ImportRejected(
            f"column {column} holds the byte 0x{bad.group()[0]:02X}, which is not allowed: NACHA files are "
            f"plain ASCII (letters, digits, spaces and punctuation only).",
            line_no,
        )
    records = _records(data.decode("ascii"))
    if not records:
        raise ImportRejected("the file is empty.")

    first_line, header = records[0]
    if header[0] != "1":
        raise ImportRejected(
            f"the file starts with a record of type {header[0]!r}; a NACHA file must start with a file "
            f"header record (type 1).",
            first_line,
        )
    if header[34:37] != "094":
        raise ImportRejected(
            f"the file header gives a record size of {header[34:37]!r}; only 094 is valid.", first_line
        )
    created_day = _yymmdd(header[23:29])
    if created_day is None:
        raise ImportRejected(f"the file creation date {header[23:29]!r} is not a YYMMDD date.", first_line)
    created_at = datetime.combine(created_day, parse_hhmm(header[29:33]) or time(0, 0), tzinfo=bank_tz)
    created_at = created_at.astimezone(UTC)
    result = ImportedFile(
        kind=FileKind.NACHA,
        sha256=digest,
        file_name=file_name,
        bank_id=header[3:13].strip(),
        account_ids=(header[13:23].strip(),),
        created_at=created_at,
    )

    batches: list[_Batch] = []
    batch: _Batch | None = None
    entry: _Entry | None = None
    file_control: tuple[int, str] | None = None
    position = 1
    total = len(records)
    while position < total:
        line_no, record = records[position]
        position += 1
        kind = record[0]
        if file_control is not None:
            if record == _PADDING:
                continue
            raise ImportRejected(
                "there is data after the file control record (type 9); a NACHA file ends there "
                "(only 9999... padding may follow).",
                line_no,
            )
        if kind == "6":
            if batch is None:
                raise ImportRejected("an entry detail record (type 6) appears outside a batch.", line_no)
            entry = _parse_entry(record, line_no)
            batch.entries.append(entry)
        elif kind == "7":
            if entry is None:
                raise ImportRejected("an addenda record (type 7) does not follow an entry.", line_no)
            if not entry.addenda_expected:
                raise ImportRejected(
                    f"an addenda record follows the entry on line {entry.line}, whose addenda indicator is 0.",
                    line_no,
                )
            entry.addenda.append((line_no, record))
            assert batch is not None
            batch.addenda_count += 1
        elif kind == "5":
            if batch is not None:
                raise ImportRejected(
                    f"a batch header starts before the batch opened on line {batch.line} was closed by a "
                    f"batch control record (type 8).",
                    line_no,
                )
            batch = _parse_batch_header(record, line_no)
            entry = None
        elif kind == "8":
            if batch is None:
                raise ImportRejected("a batch control record (type 8) appears without a batch header.", line_no)
            _check_batch_control(batch, record, line_no)
            batches.append(batch)
            batch = None
            entry = None
        elif kind == "9":
            if batch is not None:
                raise ImportRejected(
                    f"the file control record comes before the batch opened on line {batch.line} was closed.",
                    line_no,
                )
            file_control = (line_no, record)
        elif kind == "1":
            raise ImportRejected("a second file header record (type 1) appears; only one is allowed.", line_no)
        else:
            raise ImportRejected(f"{kind!r} is not a NACHA record type (expected 1, 5, 6, 7, 8 or 9).", line_no)

    if batch is not None:
        raise ImportRejected(
            f"the file ends inside the batch opened on line {batch.line}: its batch control record (type 8) "
            f"is missing.",
            records[-1][0],
        )
    if file_control is None:
        raise ImportRejected("the file ends without a file control record (type 9).", records[-1][0])

    _check_file_control(batches, file_control, len(records))
    for each in batches:
        for item in each.entries:
            _classify(result, each, item, digest)
    _control_line, control = file_control
    result.control_count = int(control[13:21])
    result.control_debit_cents = int(control[31:43])
    result.control_credit_cents = int(control[43:55])
    result.control_total_cents = result.control_debit_cents + result.control_credit_cents
    result.number_identities()
    return result


def _parse_batch_header(record: str, line_no: int) -> _Batch:
    service_class = record[1:4]
    if service_class not in ("200", "220", "225", "280"):
        raise ImportRejected(
            f"the batch service class code {service_class!r} is not valid (200 mixed, 220 credits, 225 debits).",
            line_no,
        )
    batch_number = record[87:94]
    if not batch_number.strip().isdigit():
        raise ImportRejected(f"the batch number {batch_number!r} is not a number.", line_no)
    return _Batch(
        line=line_no,
        service_class=service_class,
        company_name=record[4:20].strip(),
        company_id=record[40:50].strip(),
        sec_code=record[50:53],
        entry_description=record[53:63].strip(),
        effective_date=_yymmdd(record[69:75]),
        batch_number=batch_number,
    )


def _parse_entry(record: str, line_no: int) -> _Entry:
    code_text = record[1:3]
    if not code_text.isdigit() or int(code_text) not in _VALID_TRANSACTION_CODES:
        raise ImportRejected(f"the transaction code {code_text!r} is not a valid ACH transaction code.", line_no)
    rdfi = record[3:11]
    if not rdfi.isdigit():
        raise ImportRejected(f"the receiving bank routing number {rdfi!r} is not eight digits.", line_no)
    check = record[11]
    if not check.isdigit() or int(check) != routing_check_digit(rdfi):
        raise ImportRejected(
            f"the routing number {rdfi}{check} fails its check digit (expected {routing_check_digit(rdfi)}).",
            line_no,
        )
    amount_text = record[29:39]
    if not amount_text.isdigit():
        raise ImportRejected(f"the entry amount {amount_text!r} is not a number of cents.", line_no)
    indicator = record[78]
    if indicator not in "01":
        raise ImportRejected(f"the addenda record indicator {indicator!r} must be 0 or 1.", line_no)
    trace = record[79:94]
    if not trace.isdigit():
        raise ImportRejected(f"the trace number {trace!r} is not fifteen digits.", line_no)
    return _Entry(
        line=line_no,
        transaction_code=int(code_text),
        rdfi=rdfi,
        account=record[12:29].strip(),
        amount_cents=int(amount_text),
        individual_id=record[39:54].strip(),
        name=record[54:76].strip(),
        trace=trace,
        addenda_expected=indicator == "1",
    )


def _is_debit(code: int) -> bool:
    return code % 10 >= 5


def _check_batch_control(batch: _Batch, record: str, line_no: int) -> None:
    if record[1:4] != batch.service_class:
        raise ImportRejected(
            f"the batch control's service class {record[1:4]!r} differs from its header's "
            f"{batch.service_class!r} (line {batch.line}).",
            line_no,
        )
    count = _number(record[4:10], "entry/addenda count", line_no)
    entry_hash = _number(record[10:20], "entry hash", line_no)
    debits = _number(record[20:32], "total debit amount", line_no)
    credits = _number(record[32:44], "total credit amount", line_no)
    actual_count = len(batch.entries) + batch.addenda_count
    actual_hash = sum(int(item.rdfi) for item in batch.entries) % 10**10
    actual_debits = sum(item.amount_cents for item in batch.entries if _is_debit(item.transaction_code))
    actual_credits = sum(item.amount_cents for item in batch.entries if not _is_debit(item.transaction_code))
    for what, declared, actual in (
        ("entry/addenda count", count, actual_count),
        ("entry hash", entry_hash, actual_hash),
        ("total debit amount (cents)", debits, actual_debits),
        ("total credit amount (cents)", credits, actual_credits),
    ):
        if declared != actual:
            raise ImportRejected(
                f"the batch control for the batch starting on line {batch.line} declares {what} {declared}, "
                f"but the batch holds {actual}.",
                line_no,
            )
    if record[87:94] != batch.batch_number:
        raise ImportRejected(
            f"the batch control's batch number {record[87:94]!r} differs from its header's "
            f"{batch.batch_number!r} (line {batch.line}).",
            line_no,
        )


def _check_file_control(batches: list[_Batch], file_control: tuple[int, str], record_count: int) -> None:
    line_no, record = file_control
    batch_count = _number(record[1:7], "batch count", line_no)
    block_count = _number(record[7:13], "block count", line_no)
    count = _number(record[13:21], "entry/addenda count", line_no)
    entry_hash = _number(record[21:31], "entry hash", line_no)
    debits = _number(record[31:43], "total debit amount", line_no)
    credits = _number(record[43:55], "total credit amount", line_no)
    entries = [item for each in batches for item in each.entries]
    checks = (
        ("batch count", batch_count, len(batches)),
        ("entry/addenda count", count, sum(len(each.entries) + each.addenda_count for each in batches)),
        ("entry hash", entry_hash, sum(int(item.rdfi) for item in entries) % 10**10),
        ("total debit amount (cents)", debits,
         sum(item.amount_cents for item in entries if _is_debit(item.transaction_code))),
        ("total credit amount (cents)", credits,
         sum(item.amount_cents for item in entries if not _is_debit(item.transaction_code))),
    )
    for what, declared, actual in checks:
        if declared != actual:
            raise ImportRejected(
                f"the file control declares {what} {declared}, but the file holds {actual}.", line_no
            )
    # Block count: records up to and including the file control, in blocks of ten (padding may be absent).
    expected_blocks = -(-record_count // 10)
    if block_count not in (expected_blocks, -(-_records_through_control(batches) // 10)):
        raise ImportRejected(
            f"the file control declares {block_count} blocks of ten records, but the file has "
            f"{record_count} records ({expected_blocks} blocks).",
            line_no,
        )


def _records_through_control(batches: list[_Batch]) -> int:
    """Records from the file header to the file control inclusive (for unpadded files)."""
    return 2 + sum(2 + len(each.entries) + each.addenda_count for each in batches)


def _classify(result: ImportedFile, batch: _Batch, item: _Entry, digest: str) -> None:
    code = item.transaction_code
    kind_digit = code % 10
    lines = (item.line, *[line for line, _ in item.addenda]) if item.addenda else (item.line,)
    if kind_digit in (1, 6):
        _classify_return(result, batch, item, lines)
    elif kind_digit == 7 or code == 55:
        if item.amount_cents == 0:
            result.skipped.append(SkippedRecord(lines, 0, "zero-amount debit entry", str(code), item.name))
            return
        memo = " ".join(record[3:83].strip() for _, record in item.addenda if record[1:3] == "05")
        reference = " ".join(part for part in (item.individual_id, memo) if part)
        received_at = None
        if batch.effective_date is not None:
            effective = batch.effective_date
            received_at = datetime(effective.year, effective.month, effective.day, tzinfo=UTC)
        result.payments.append(
            ImportedPayment(
                external_id=make_external_id(FileKind.NACHA, digest, batch.batch_number, item.trace),
                amount_cents=item.amount_cents,
                value_date=batch.effective_date,
                received_at=received_at,
                reference_text=reference,
                payer=item.name,
                method=PaymentMethod.ACH,
                line_numbers=lines,
                type_code=str(code),
                identity=ach_id(item.trace, batch.effective_date),
            )
        )
    elif kind_digit == 2:
        result.skipped.append(
            SkippedRecord(lines, item.amount_cents,
                          "credit entry: money paid out by the agency (e.g. a refund), not a payment received",
                          str(code), item.name)
        )
    else:
        result.skipped.append(
            SkippedRecord(lines, item.amount_cents, "prenote or zero-dollar entry (no money moves)",
                          str(code), item.name)
        )


def _classify_return(result: ImportedFile, batch: _Batch, item: _Entry, lines: tuple[int, ...]) -> None:
    for _line_no, record in item.addenda:
        addenda_type = record[1:3]
        if addenda_type == "99":
            code = record[3:6]
            original_trace = record[6:21].strip()
            result.returns.append(
                AchReturn(
                    original_trace=original_trace,
                    return_code=code,
                    description=return_reason(code),
                    amount_cents=item.amount_cents,
                    date=batch.effective_date,
                    reference=" ".join(part for part in (item.individual_id, item.name) if part),
                    line_numbers=lines,
                )
            )
            return
        if addenda_type == "98":
            code = record[3:6]
            corrected = record[35:64].strip()
            description = CHANGE_CODES.get(code, "change code not in the NACHA table")
            result.notices_of_change.append(
                f"{code} ({description}) for trace {record[6:21].strip()} ({item.name}): corrected data "
                f"{corrected!r}"
            )
            return
    raise ImportRejected(
        f"the return/notification entry (transaction code {item.transaction_code}) has no return (99) or "
        f"notification-of-change (98) addenda record.",
        item.line,
    )
