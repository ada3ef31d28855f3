"""Payment-file importers: bank BAI2 statements, lockbox files, NACHA ACH files, card processor CSV.

``read_payment_file(path)`` sniffs the format and returns an ``ImportedFile``, or raises
``ImportRejected`` (a ``UserError``) naming the line and the reason. Nothing here touches the
database; the posting service uses ``ImportedFile.sha256`` and ``ImportedPayment.external_id`` to
refuse a file imported twice.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from pathlib import Path

from desktop.services.payments.importers.bai2_files import parse_bai2_bytes, parse_lockbox_bytes
from desktop.services.payments.importers.common import (
    DEFAULT_MAX_BYTES,
    AchReturn,
    FileKind,
    ImportedFile,
    ImportedPayment,
    ImportRejected,
    PaymentMethod,
    SkippedRecord,
    gunzip_bounded,
    read_bounded,
    too_large,
)
from desktop.services.payments.importers.nacha import parse_nacha_bytes
from desktop.services.payments.importers.processor_csv import looks_like_processor_csv, parse_processor_csv_bytes

__all__ = [
    "DEFAULT_MAX_BYTES", "AchReturn", "FileKind", "ImportRejected", "ImportedFile", "ImportedPayment", "PaymentMethod",
    "SkippedRecord", "read_payment_bytes", "read_payment_file", "sniff_format",
]


def sniff_format(data: bytes) -> FileKind | None:
    """Guess the format from the first records; ``None`` when it is none of ours."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    lines = [line.rstrip(b"\r") for line in head.split(b"\n") if line.strip()]
    if not lines:
        return None
    first = lines[0]
    if len(first) >= 3 and first[:2].isdigit() and first[2:3] == b",":
        return FileKind.BAI2
    if first[:1] == b"1" and len(lines) > 1 and lines[1][:1] == b"2":
        return FileKind.LOCKBOX
    if first[:1] in (b"1", b"5"):
        # A NACHA file header (or, in a damaged file, a batch header: the parser says what is missing).
        return FileKind.NACHA
    try:
        if looks_like_processor_csv(first.decode("utf-8")):
            return FileKind.PROCESSOR_CSV
    except UnicodeDecodeError:
        return None
    return None


def read_payment_bytes(data: bytes, file_name: str = "", bank_tz: tzinfo = UTC, *, currency: str | None = None,
                       max_bytes: int = DEFAULT_MAX_BYTES) -> ImportedFile:
    """Parse raw file bytes (gzip is undone first, streamed and capped at ``max_bytes``). ``bank_tz`` is
    the zone of the bank's local times; with ``currency`` (the office's), a file with payments in
    another currency is refused."""
    if len(data) > max_bytes:
        raise ImportRejected(too_large(len(data), max_bytes), None, file_name or None)
    if data[:2] == b"\x1f\x8b":
        data = gunzip_bounded(data, file_name, max_bytes)
    parsed = _parse(data, file_name, bank_tz)
    if currency is not None:
        parsed.refuse_other_currencies(currency)
    return parsed


def _parse(data: bytes, file_name: str, bank_tz: tzinfo) -> ImportedFile:
    kind = sniff_format(data)
    if kind is FileKind.BAI2:
        return parse_bai2_bytes(data, file_name, bank_tz)
    if kind is FileKind.LOCKBOX:
        return parse_lockbox_bytes(data, file_name, bank_tz)
    if kind is FileKind.NACHA:
        return parse_nacha_bytes(data, file_name, bank_tz)
    if kind is FileKind.PROCESSOR_CSV:
        return parse_processor_csv_bytes(data, file_name)
    raise ImportRejected(
        "this is not a payment file we can read: expected a BAI2 bank file (starts with \"01,\"), a lockbox "
        "file, a NACHA ACH file (94-character records starting with \"1\") or the card processor CSV export.",
        None, file_name or None,
    )


def read_payment_file(path: str | Path, bank_tz: tzinfo = UTC, *, currency: str | None = None,
                      max_bytes: int = DEFAULT_MAX_BYTES) -> ImportedFile:
    """Read and parse one payment file from disk, whatever its format (refused unread when too large)."""
    path = Path(path)
    return read_payment_bytes(read_bounded(path, max_bytes), path.name, bank_tz, currency=currency,
                              max_bytes=max_bytes)
