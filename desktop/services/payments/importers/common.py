"""Plain result types shared by the payment-file importers, and the rejection error.

The importers are pure parsing: they read bytes and return these dataclasses. The database
side (posting payments, reconciling, quarantining) is done elsewhere using these values.
A file imported twice is recognisable by ``ImportedFile.sha256``; a payment, in whatever file it
comes, by its ``identity`` (the bank's own identifiers, ``desktop.domain.payment_identity``).
``external_id`` (file digest and position) only tells the records of one file apart.

Files are bounded: ``read_bounded`` refuses a file larger than the limit before reading it and
``gunzip_bounded`` stops undoing gzip as soon as the result passes it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import zlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from enum import Enum
from pathlib import Path

from desktop.domain.errors import UserError
from desktop.domain.payment_identity import number_repeats

#: A clerk's error line is at most this long; a longer excerpt of the file is cut (a binary or
#: hostile file must not print a 20,000-character line).
MAX_REASON = 300
_LONG_RUN = re.compile(r"\S{61,}")
#: The largest payment file read, before and after gzip is undone (the ``payments.max_file_mb`` setting
#: overrides it in the import service). Measured: a BAI2 statement of 100,000 payments is 5.5 MB and
#: takes 7 s and 155 MB of memory to read (the bai2 package's objects), so 20 MB costs about 30 s and
#: 600 MB at worst; the shared NACHA file of 100,000 entries is 9.5 MB.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_CHUNK = 1024 * 1024


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
        reason = readable(reason)
        file_name = readable(file_name, 120, cut_runs=False) if file_name else file_name
        self.reason = reason
        self.line = line
        self.file_name = file_name
        where = ""
        if file_name:
            where = f"{file_name}: "
        if line is not None:
            where += f"line {line}: "
        super().__init__(f"{where}{reason} The file was not imported; nothing in it was posted.")


def too_large(size: int, max_bytes: int, what: str = "the file") -> str:
    return (f"{what} is larger than {max_bytes / 1048576:,.0f} MB ({size / 1048576:,.1f} MB or more); a payment "
            f"file is never this large. Ask the bank for the day's file, or raise the payments.max_file_mb "
            f"setting.")


def read_bounded(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A file's bytes, refused (before reading) when it is larger than ``max_bytes``."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise ImportRejected(too_large(size, max_bytes), None, path.name)
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ImportRejected(f"the file could not be read ({exc.strerror or exc}).", None, path.name) from None
    if len(data) > max_bytes:  # it grew while we looked
        raise ImportRejected(too_large(len(data), max_bytes), None, path.name)
    return data


def gunzip_bounded(data: bytes, file_name: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Undo gzip, streamed a megabyte at a time: refused as soon as the result passes ``max_bytes``,
    so a small file that expands to gigabytes costs no more memory than ``max_bytes``."""
    chunks: list[bytes] = []
    size = 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(_CHUNK):
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    raise ImportRejected(too_large(size, max_bytes, "the file once uncompressed"), None,
                                         file_name or None)
    except (OSError, EOFError, zlib.error) as exc:
        raise ImportRejected(f"the compressed file is damaged ({exc}).", None, file_name or None) from None
    return b"".join(chunks)


def readable(text: str, limit: int = MAX_REASON, *, cut_runs: bool = True) -> str:
    """``text`` fit for one line of a clerk's message: control characters shown as ``?``, any run of
    more than 60 characters without a blank cut to its first 40, the whole cut to ``limit``."""
    text = "".join(char if char.isprintable() else "?" for char in text)
    if cut_runs:
        text = _LONG_RUN.sub(lambda m: m.group()[:40] + f"…({len(m.group()):,} characters)", text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


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
    #: the payment's identity from the bank's own identifiers (``desktop.domain.payment_identity``), the
    #: same in any file that carries it; stored as ``Payment.external_id``
    identity: str = ""


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
    #: the account's (a statement of another currency's account, with no payment in it, still imports)
    currency: str = "USD"


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

    def number_identities(self) -> None:
        """Mark the n-th repeat of one identity within this file ``#n`` (see ``number_repeats``)."""
        numbered = number_repeats(payment.identity for payment in self.payments)
        self.payments = [replace(payment, identity=identity) for payment, identity in zip(self.payments, numbered,
                                                                                         strict=True)]

    def refuse_other_currencies(self, currency: str) -> None:
        """Refuse the file when a payment in it is in a currency other than the office's."""
        for payment in self.payments:
            if payment.currency.strip().upper() != currency.strip().upper():
                raise ImportRejected(
                    f"{payment.currency or 'unnamed currency'} amounts cannot be posted: this office takes "
                    f"{currency}.", payment.line_numbers[0] if payment.line_numbers else None, self.file_name or None)

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
