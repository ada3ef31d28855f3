"""What makes an imported payment *the same payment* in any file: the bank's own identifiers.

A payment arriving from a bank, lockbox, ACH or card-processor file is identified by what it is,
never by the bytes of the file it came in: the same statement saved with CRLF line ends, with a
byte-order mark, with trailing blanks, with another payer name or re-sent inside a longer
statement must post each payment once. Blanks inside and around an identifier do not count.
``Payment.identity_key`` (unique in the database) holds
``identity_key(source, external_id)``, where ``external_id`` is the readable identity:

* bank (BAI2): ``bai2:<account>:<value date>:<amount>:ref:<bank reference>``, or, when the bank
  gave no reference, ``bai2:<account>:<value date>:<amount>:<type code>:cust:<customer reference>``;
* lockbox: ``lockbox:<lockbox>:<deposit date>:<batch>:<item>:<check number>``;
* ACH (NACHA): ``ach:<trace number>:<effective date>`` (the trace number's first eight digits are
  the originating bank's routing number, the rest its sequence);
* card processor: ``processor:<transaction id>``.

Two payments of one file with the same identifiers (two identical cheques of one remitter without a
bank reference, say) are told apart by their order: the second is ``...#2``.

``stored_external_id`` turns an identity written by an earlier version (with the first sixteen hex
digits of the file digest in it) into today's form, so the migration backfills existing rows with
this same module. A bank payment stored without a bank reference by an earlier version cannot be
rebuilt (its customer reference was not kept apart from the text); it keeps an identity bound to
its file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date

#: Payment sources whose payments come from files and are identified by the bank's identifiers.
IMPORTED_SOURCES = frozenset({"bank", "lockbox", "ach", "processor"})
#: external ids are stored in a 200-character column; longer identities keep a digest of their tail
MAX_EXTERNAL_ID = 200

_LEGACY_DIGEST = re.compile(r"^[0-9a-f]{16}$")


def normalise(part: str) -> str:
    """Blanks collapsed and trimmed: how an identifier compares. Case is kept: processors' transaction
    ids are case-sensitive (``ch_1AbC`` and ``ch_1abc`` are two payments)."""
    return " ".join(part.split())


def identity_key(source: str, external_id: str) -> str:
    """The unique key stored in ``Payment.identity_key``: SHA-256 of the normalised source and identity."""
    text = f"{normalise(source)}\x1f{normalise(external_id)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fit(external_id: str) -> str:
    """An identity that fits the column: a long one keeps its start and a digest of the whole."""
    if len(external_id) <= MAX_EXTERNAL_ID:
        return external_id
    digest = hashlib.sha256(normalise(external_id).encode("utf-8")).hexdigest()[:32]
    return f"{external_id[:MAX_EXTERNAL_ID - 34]}~{digest}"


def _join(*parts: str) -> str:
    return ":".join(normalise(part).replace(":", ".") for part in parts)


def bai2_id(account: str, value_date: date | None, amount_cents: int, bank_reference: str, type_code: str,
            customer_reference: str) -> str:
    """A bank statement credit: account, value date, amount and the bank's reference (else type and
    customer reference)."""
    day = value_date.isoformat() if value_date else ""
    if normalise(bank_reference):
        return _join("bai2", account, day, str(amount_cents), "ref", bank_reference)
    return _join("bai2", account, day, str(amount_cents), type_code, "cust", customer_reference)


def lockbox_id(lockbox: str, deposit_date: date | None, batch: str, item: str, check_number: str) -> str:
    """A lockbox cheque: lockbox number, deposit date, batch and item numbers, cheque number."""
    return _join("lockbox", lockbox, deposit_date.isoformat() if deposit_date else "", batch, item,
                 check_number.lstrip("0"))


def ach_id(trace: str, effective_date: date | None) -> str:
    """An ACH entry: its trace number (originating bank and sequence) and effective entry date."""
    return _join("ach", trace, effective_date.isoformat() if effective_date else "")


def processor_id(transaction_id: str) -> str:
    """A card transaction: the processor's transaction id."""
    return _join("processor", transaction_id)


def number_repeats(ids: Iterable[str]) -> list[str]:
    """The ids in order, the n-th repeat of one id within a file marked ``#n`` (n >= 2)."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for each in ids:
        key = normalise(each)
        seen[key] = seen.get(key, 0) + 1
        out.append(fit(each if seen[key] == 1 else f"{each}#{seen[key]}"))
    return out


def stored_external_id(source: str, external_id: str, amount_cents: int, value_date: date | None) -> str | None:
    """Today's identity of a stored payment row (rows of earlier versions are rewritten), or ``None``
    for a payment that is not from a file (counter, demo, plan instalments)."""
    if source not in IMPORTED_SOURCES:
        return None
    parts = external_id.split(":")
    if parts[0] in ("bai2", "lockbox") and len(parts) > 2 and _LEGACY_DIGEST.match(parts[1]):
        # Earlier versions: "bai2:<digest16>:<account>:R<n>:<bank ref>",
        # "lockbox:<digest16>:<lockbox>:<batch>:<item>:<check>".
        if parts[0] == "lockbox" and len(parts) == 6:
            return lockbox_id(parts[2], value_date, parts[3], parts[4], parts[5])
        if parts[0] == "bai2" and len(parts) >= 5 and normalise(":".join(parts[4:])):
            return bai2_id(parts[2], value_date, amount_cents, ":".join(parts[4:]), "", "")
        return "legacy:" + external_id
    return external_id


def stored_identity_key(source: str, external_id: str, amount_cents: int, value_date: date | None) -> str | None:
    """``Payment.identity_key`` for a stored row (the migration's backfill and payments made in code)."""
    ext = stored_external_id(source, external_id, amount_cents, value_date)
    return identity_key(source, ext) if ext is not None else None
