"""The rules an ingest applies to each event: fines by the schedule of the day, sequence gaps, signatures.

Plain checks and calculations over what is already loaded (no writing): the fine schedule and the
agency's time zone and profile version (:class:`IngestReference`), the sequence numbers still missing
per device (:class:`SeqTracker`) and a device's Ed25519 signature (:func:`check_signature`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.persistence.models import Device, JurisdictionProfileVersion, ViolationCode
from desktop.services.core import settings as settings_service
from desktop.sync import wire
from desktop.sync.prepared import PreparedEvent, ViolationLine
from desktop.sync.wire import InvalidDeviceKey

INT32_MAX = wire.INT32_MAX
MAX_GAP_RANGES = 500

#: What happened to a stored field event.
APPLIED, SKIPPED, QUARANTINED, DUPLICATE = "applied", "skipped", "quarantined", "duplicate"


# --------------------------------------------------------------------------- reference data


@dataclass(frozen=True)
class FineLine:
    """One violation code's fine over a period."""

    effective_from: date
    effective_to: date | None
    fine_cents: int
    description: str


class FineSchedule:
    """The violation codes and their fines by date, loaded once per ingest."""

    def __init__(self, lines: dict[str, list[FineLine]]) -> None:
        self.lines = lines

    @classmethod
    def load(cls, session: Session) -> FineSchedule:
        lines: dict[str, list[FineLine]] = {}
        for vc in session.scalars(select(ViolationCode).order_by(ViolationCode.effective_from)):
            lines.setdefault(vc.code, []).append(FineLine(vc.effective_from, vc.effective_to, vc.fine_cents,
                                                          vc.description))
        return cls(lines)

    def lookup(self, code: str, day: date) -> FineLine | None:
        found = None
        for line in self.lines.get(code, ()):
            if line.effective_from <= day and (line.effective_to is None or day <= line.effective_to):
                found = line
        return found


@dataclass
class IngestReference:
    """What an ingest prices and dates citations by: the fine schedule, the agency's time zone and profile."""

    schedule: FineSchedule
    tz: Any
    profile_code: str
    profile_versions: list[tuple[date, int]]

    @classmethod
    def load(cls, session: Session) -> IngestReference:
        try:
            tz: Any = ZoneInfo(str(settings_service.get(session, "agency.timezone")))
        except (ZoneInfoNotFoundError, ValueError):
            tz = ZoneInfo("UTC")
        code = str(settings_service.get(session, "agency.profile"))
        versions = [(row.effective_from, row.version) for row in session.scalars(
            select(JurisdictionProfileVersion).where(JurisdictionProfileVersion.code == code)
            .order_by(JurisdictionProfileVersion.effective_from, JurisdictionProfileVersion.version))]
        return cls(FineSchedule.load(session), tz, code, versions)

    def profile_version(self, day: date) -> int:
        version = 1
        for start, v in self.profile_versions:
            if start <= day:
                version = v
        return version


def price_violations(violations: Sequence[wire.Violation | ViolationLine], issued_at: datetime, ref: IngestReference,
                     citation_id: int | None) -> tuple[list[dict[str, Any]], int, int | None, list[dict[str, Any]]]:
    """The case's violation rows, its fine (by the schedule on the day of issue), the fines the handheld
    showed, and the review warnings where the two differ or the code is not in the schedule."""
    day = issued_at.astimezone(ref.tz).date()
    rows: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    total = 0
    handheld_total: int | None = None
    for position, v in enumerate(violations):
        line = ref.schedule.lookup(v.code, day)
        if v.fine_cents is not None:
            handheld_total = (handheld_total or 0) + v.fine_cents
        if line is None:
            fine = v.fine_cents or 0
            description = v.description or ""
            warnings.append({"code": "fine_schedule", "severity": "warning",
                             "text": f"Code {v.code} is not in the fine schedule on {day.isoformat()}: "
                                     f"the handheld's fine ({fine} cents) was used."})
        else:
            fine = line.fine_cents
            description = v.description or line.description
            if v.fine_cents is not None and v.fine_cents != fine:
                warnings.append({"code": "fine_differs", "severity": "warning",
                                 "text": f"Code {v.code}: the handheld showed {v.fine_cents} cents, the "
                                         f"schedule on {day.isoformat()} says {fine} cents."})
        total += fine
        rows.append(dict(citation_id=citation_id, position=position, code=v.code, description=description[:300],
                         handheld_fine_cents=v.fine_cents, fine_cents=fine))
    return rows, min(total, INT32_MAX), handheld_total, warnings


# --------------------------------------------------------------------------- sequence gaps


class SeqTracker:
    """A device's highest sequence number and the ranges still missing below it."""

    def __init__(self, last_seq: int | None, gaps: Iterable[Sequence[int]],
                 lowest: Callable[[], int | None] = lambda: None) -> None:
        self.last_seq = last_seq
        self.gaps: list[list[int]] = [[int(a), int(b)] for a, b in gaps]
        self._lowest = lowest
        self._low: int | None = None
        self._low_known = False
        self.changed = False

    def lowest(self) -> int | None:
        if not self._low_known:
            self._low = self._lowest()
            self._low_known = True
        return self._low

    def add(self, seq: int) -> None:
        if self.last_seq is None:
            self.last_seq = seq
            self._low, self._low_known = seq, True
            self.changed = True
            return
        if seq > self.last_seq:
            if seq > self.last_seq + 1:
                self.gaps.append([self.last_seq + 1, seq - 1])
                del self.gaps[:-MAX_GAP_RANGES]
            self.last_seq = seq
            self.changed = True
            return
        for n, (a, b) in enumerate(self.gaps):
            if a <= seq <= b:
                pieces = [[a, seq - 1]] if a <= seq - 1 else []
                pieces += [[seq + 1, b]] if seq + 1 <= b else []
                self.gaps[n:n + 1] = pieces
                self.changed = True
                return
        low = self.lowest()
        if low is not None and seq < low:
            if seq < low - 1:
                self.gaps.insert(0, [seq + 1, low - 1])
            self._low = seq
            self.changed = True

    @property
    def missing(self) -> int:
        return sum(b - a + 1 for a, b in self.gaps)


# --------------------------------------------------------------------------- signatures


def check_signature(it: PreparedEvent, device: Device | None, resubmitted: bool) -> tuple[str | None, str]:
    """A problem (the quarantine reason) or None, and the signature state recorded with the citation."""
    if resubmitted:
        return None, "resubmitted"
    key = device.public_key if device is not None else None
    if not key:
        return None, "unverified" if it.signed else "unsigned"
    if not it.signed:
        return (f"signature: missing (device {it.device_id} has a registered key, so its events must be "
                "signed)"), "unsigned"
    parsed = it.parsed
    assert parsed is not None
    try:
        ok = wire.verify_signature(parsed.raw, key)
    except InvalidDeviceKey:
        return f"signature: the key registered for {it.device_id} is not a valid Ed25519 key", "unsigned"
    if not ok:
        return f"signature: does not verify with the key registered for {it.device_id}", "unsigned"
    return None, "verified"
