"""Card processor settlement export (CSV): one row per settled card transaction.

Columns (header row required, exactly these names, in any order, extra columns refused)::

    transaction_id   processor's id, unique within the file (becomes the external id)
    settled_at       ISO 8601 with a UTC offset, e.g. 2024-03-05T14:30:00-08:00 (naive times refused)
    amount           positive amount in the currency's units: 75.00, 1,234.50 (never read as a float)
    currency         three-letter code (USD, GBP); one currency per file
    card_brand       visa, mastercard, amex, discover, ... (free text, no digits)
    card_last4       exactly four digits
    citation_number  citation the payer typed in (may be blank)
    plate            plate the payer typed in (may be blank)
    payer_name       cardholder or payer name (may be blank)
    status           settled | refunded | chargeback

``settled`` rows become payments (method ``card``). ``refunded`` and ``chargeback`` rows are listed
in ``skipped`` with the reason: the original payment must be reversed by a clerk.

Card data: a full card number (13-19 digits, spaces or dashes allowed between them) in a card
field, or a Luhn-valid one anywhere in the row, rejects the whole file, because storing it
would break PCI DSS; the message shows only the last four digits. Every other problem (missing
column, bad amount, bad date, duplicate transaction id) also rejects the file, naming the line.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from desktop.domain.errors import UserError
from desktop.domain.ledger import parse_money
from desktop.domain.payment_identity import processor_id
from desktop.services.payments.importers.common import (
    FileKind,
    ImportedFile,
    ImportedPayment,
    ImportRejected,
    PaymentMethod,
    SkippedRecord,
    file_digest,
    make_external_id,
)

COLUMNS: tuple[str, ...] = (
    "transaction_id", "settled_at", "amount", "currency", "card_brand", "card_last4",
    "citation_number", "plate", "payer_name", "status",
)
STATUSES = frozenset({"settled", "refunded", "chargeback"})
_CARD_FIELDS = ("card_brand", "card_last4")
_PAN_LIKE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _find_pan(value: str, card_field: bool) -> str | None:
    for match in _PAN_LIKE.finditer(value):
        digits = re.sub(r"\D", "", match.group())
        if card_field or _luhn_ok(digits):
            return digits
    return None


def looks_like_processor_csv(first_line: str) -> bool:
    """Whether a header line is this export's (used by the format sniffer)."""
    names = {name.strip().lower() for name in first_line.split(",")}
    return {"transaction_id", "settled_at", "amount"} <= names


def parse_processor_csv_bytes(data: bytes, file_name: str = "") -> ImportedFile:
    """Parse a processor settlement CSV; the whole file is refused on the first bad row."""
    try:
        return _parse(data, file_name)
    except ImportRejected as rejected:
        if rejected.file_name is None and file_name:
            raise ImportRejected(rejected.reason, rejected.line, file_name) from None
        raise


def _parse(data: bytes, file_name: str) -> ImportedFile:
    digest = file_digest(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(f"the file is not UTF-8 text (byte {exc.start + 1}).",
                             data.count(b"\n", 0, exc.start) + 1) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected("the file is empty.") from None
    except csv.Error as exc:
        raise ImportRejected(f"the header row is not valid CSV ({exc}).", 1) from None
    names = [name.strip().lower() for name in header]
    missing = [name for name in COLUMNS if name not in names]
    extra = [name for name in names if name not in COLUMNS]
    if missing or extra or len(set(names)) != len(names):
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unexpected " + ", ".join(repr(name) for name in extra))
        if len(set(names)) != len(names):
            parts.append("a column appears twice")
        raise ImportRejected(f"the header row is wrong ({'; '.join(parts)}). Expected: {','.join(COLUMNS)}.", 1)
    index = {name: position for position, name in enumerate(names)}
    result = ImportedFile(kind=FileKind.PROCESSOR_CSV, sha256=digest, file_name=file_name)
    seen: dict[str, int] = {}
    currency: str | None = None
    control_total = 0
    try:
        for row in reader:
            line_no = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise ImportRejected(f"this row has {len(row)} fields; the header has {len(names)}.", line_no)
            cells = {name: row[position].strip() for name, position in index.items()}
            for name, value in cells.items():
                pan = _find_pan(value, name in _CARD_FIELDS)
                if pan is not None:
                    raise ImportRejected(
                        f"the {name} field holds what looks like a full card number (ending {pan[-4:]}). "
                        f"Full card numbers must never be stored; ask the processor for an export with only "
                        f"the last four digits.", line_no)
            transaction_id = cells["transaction_id"]
            if not transaction_id:
                raise ImportRejected("the transaction_id is blank.", line_no)
            if transaction_id in seen:
                raise ImportRejected(
                    f"transaction {transaction_id!r} appears twice (first on line {seen[transaction_id]}).",
                    line_no)
            seen[transaction_id] = line_no
            settled_at = _parse_time(cells["settled_at"], line_no)
            try:
                amount = parse_money(cells["amount"])
            except UserError:
                raise ImportRejected(f"the amount {cells['amount']!r} is not an amount of money.", line_no) from None
            if amount <= 0:
                raise ImportRejected(f"the amount {cells['amount']!r} must be positive.", line_no)
            row_currency = cells["currency"].upper()
            if not _CURRENCY.match(row_currency):
                raise ImportRejected(f"the currency {cells['currency']!r} is not a three-letter code.", line_no)
            if currency is None:
                currency = row_currency
            elif row_currency != currency:
                raise ImportRejected(f"this row is in {row_currency} but the file is in {currency}.", line_no)
            if not re.fullmatch(r"\d{4}", cells["card_last4"]):
                raise ImportRejected(
                    f"card_last4 must be exactly four digits (got {len(cells['card_last4'])} characters).",
                    line_no)
            status = cells["status"].lower()
            if status not in STATUSES:
                raise ImportRejected(
                    f"the status {cells['status']!r} is not one of {', '.join(sorted(STATUSES))}.", line_no)
            reference = " ".join(part for part in (cells["citation_number"], cells["plate"]) if part)
            if status != "settled":
                result.skipped.append(SkippedRecord(
                    (line_no,), amount,
                    f"{status} card transaction {transaction_id}: reverse the original payment", status, reference,
                    row_currency))
                continue
            control_total += amount
            result.payments.append(ImportedPayment(
                external_id=make_external_id(FileKind.PROCESSOR_CSV, digest, transaction_id),
                amount_cents=amount,
                value_date=settled_at.date(),
                received_at=settled_at,
                reference_text=reference,
                payer=cells["payer_name"],
                method=PaymentMethod.CARD,
                line_numbers=(line_no,),
                currency=row_currency,
                type_code=cells["card_brand"].lower(),
                identity=processor_id(transaction_id),
            ))
    except csv.Error as exc:
        raise ImportRejected(f"this row is not valid CSV ({exc}).", reader.line_num) from None
    result.currency = currency or "USD"
    result.control_total_cents = control_total
    result.control_count = len(result.payments)
    result.number_identities()
    return result


def _parse_time(text: str, line_no: int) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ImportRejected(f"settled_at {text!r} is not an ISO 8601 date and time.", line_no) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ImportRejected(
            f"settled_at {text!r} has no UTC offset; add one (e.g. -08:00 or Z) so the time is unambiguous.",
            line_no)
    return moment.astimezone(UTC)
