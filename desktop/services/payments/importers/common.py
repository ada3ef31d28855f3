"""Plain result types shared by the payment-file importers, and the rejection error.

The importers are pure parsing: they read bytes and return these dataclasses. The database
side (posting payments, reconciling, quarantining) is done elsewhere using these values.
A file imported twice is recognisable by ``ImportedFile.sha256`` and by each payment's
``external_id``, which is stable (derived from the file digest and the record's own
identifiers) and unique within the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import Enum

from desktop.domain.errors import UserError


class PaymentMethod(str, Enum):
    """How the money reached the agency."""

    ACH = "ach"
    CHECK = "check"
    WIRE = "wire"
    LOCKBOX = "lockbox"
    CARD = "card"


class FileKind(str, Enum):
    """Which payment-file format a file was read as."""

    BAI2 = "bai2"
    LOCKBOX = "lockbox"
    NACHA = "nacha"
    PROCESSOR_CSV = "processor_csv"


class ImportRejected(UserError):
    """The whole file is refused; nothing in it may be posted.

    ``line`` is the 1-based physical line the problem was found on (``None`` when the problem is
    the file as a whole, e.g. an unknown format); ``reason`` is the explanation without the file
    name and line, and ``str()`` is the full clerk message.
    """

    def __init__(self, reason: str, line: int | None = None, file_name: str | None = None) -> None:
        self.reason = reason
        self.line = line
        self.file_name = file_name
        where = ""
        if file_name:
            where = f"{file_name}: "
        if line is not None:
            where += f"line {line}: "
        super().__init__(f"{where}{reason} The file was not imported; nothing in it was posted.")


@dataclass(frozen=True)
class ImportedPayment:
    """One incoming payment found in a file, ready to be matched to a case.

    ``amount_cents`` is positive (money received). ``received_at`` is timezone-aware (UTC) when the
    file says when; ``value_date`` is the bank's value/deposit/settlement date.
    """

    external_id: str
    amount_cents: int
    value_date: date | None
    received_at: datetime | None
    reference_text: str
    payer: str
    method: PaymentMethod
    line_numbers: tuple[int, ...]
    currency: str = "USD"
    type_code: str = ""


@dataclass(frozen=True)
class AchReturn:
    """An ACH entry sent back by the receiving bank (NACHA addenda type 99).

    ``original_trace`` is the trace number of the entry being returned, which is the
    ``external_id`` suffix of the payment it undoes.
    """

    original_trace: str
    return_code: str
    description: str
    amount_cents: int
    date: date | None
    reference: str
    line_numbers: tuple[int, ...] = ()


@dataclass(frozen=True)
class SkippedRecord:
    """A record that is not a payment (a debit, a balance, an unknown credit), kept for the clerk."""

    line_numbers: tuple[int, ...]
    amount_cents: int
    reason: str
    type_code: str = ""
    text: str = ""


@dataclass
class ImportedFile:
    """Everything read from one payment file.

    ``control_total_cents``/``control_count`` are what the file's own trailer records declare
    (already checked against the content when the file was accepted).
    """

    kind: FileKind
    sha256: str
    file_name: str
    bank_id: str = ""
    account_ids: tuple[str, ...] = ()
    created_at: datetime | None = None
    currency: str = "USD"
    control_total_cents: int = 0
    control_count: int = 0
    control_credit_cents: int = 0
    control_debit_cents: int = 0
    payments: list[ImportedPayment] = field(default_factory=list)
    returns: list[AchReturn] = field(default_factory=list)
    skipped: list[SkippedRecord] = field(default_factory=list)
    notices_of_change: list[str] = field(default_factory=list)

    @property
    def payments_total_cents(self) -> int:
        """Sum of the payments found (what the clerk reconciles against the bank)."""
        return sum(payment.amount_cents for payment in self.payments)


def parse_hhmm(text: str) -> time | None:
    """``"1430"`` -> 14:30; anything that is not a valid four-digit clock time -> ``None``."""
    if len(text) != 4 or not text.isdigit():
        return None
    hours, minutes = int(text[:2]), int(text[2:])
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes)


def file_digest(data: bytes) -> str:
    """Hex SHA-256 of the raw file bytes: the same file imported twice has the same digest."""
    return hashlib.sha256(data).hexdigest()


def make_external_id(kind: FileKind, digest: str, *parts: str) -> str:
    """A stable id for one payment: kind, the first 16 hex digits of the file digest, its own ids."""
    cleaned = ":".join(part.strip() for part in parts)
    return f"{kind.value}:{digest[:16]}:{cleaned}"
