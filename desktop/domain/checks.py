"""Review checks: pure functions that look at a citation and its evidence before it becomes a case.

Each check returns a ``CheckResult``: its code, whether it passed, a severity
(``info``, ``warning``, ``error``), one line a clerk can read, and the numbers
behind it in ``data``. ``run_checks`` runs them all. Nothing here decides: the
clerk approves, corrects or voids; the checks tell them where to look.

Thresholds live in ``CheckConfig`` (defaults: photo time 15 min, photo GPS
100 m, duplicates 30 min / 50 m, late arrival 24 h).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from desktop.domain import geo, plate_reading, plates, zones

MAKES_CSV = Path(__file__).resolve().parents[2] / "resources" / "reference" / "makes.csv"


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Integrity(str, Enum):
    OK = "ok"
    FAILED = "failed"
    """The file's digest does not match what the handheld declared, or it does not decode."""
    MISSING = "missing"
    """Declared by the handheld, never received."""


@dataclass(frozen=True)
class CheckResult:
    code: str
    ok: bool
    severity: Severity
    explanation: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ViolationForReview:
    code: str
    handheld_fine_cents: int
    description: str = ""
    kind: zones.ViolationKind | None = None
    """What zone rule the code relies on, when the caller knows it (else looked up by code table)."""


@dataclass(frozen=True)
class CitationForReview:
    citation_number: str
    plate: str
    plate_jurisdiction: str
    make: str
    issued_at: datetime
    received_at: datetime
    latitude: float | None
    longitude: float | None
    violations: tuple[ViolationForReview, ...]
    gps_accuracy_m: float | None = None
    zone_code: str | None = None
    code_jurisdiction: str = ""
    """Which code table the violation codes belong to (``LA``, ``NYC``...)."""
    observations: zones.ChalkObservations | None = None


@dataclass(frozen=True)
class PhotoForReview:
    digest: str
    taken_at: datetime | None
    latitude: float | None
    longitude: float | None
    integrity: Integrity


@dataclass(frozen=True)
class PermitRecord:
    permit_number: str
    plate: str
    zone_codes: frozenset[str]
    valid_from: datetime
    valid_to: datetime
    """Exclusive."""


@dataclass(frozen=True)
class HotlistEntry:
    plate: str
    reason: str
    plate_jurisdiction: str | None = None


@dataclass(frozen=True)
class NearbyCitation:
    citation_number: str
    plate: str
    violation_code: str
    issued_at: datetime
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class ReviewContext:
    photos: tuple[PhotoForReview, ...] = ()
    permits: tuple[PermitRecord, ...] = ()
    hotlist: tuple[HotlistEntry, ...] = ()
    registered_make: str | None = None
    scheduled_fines_cents: Mapping[str, int] = field(default_factory=dict)
    """Violation code -> fine from the fine schedule in force on the issue date (missing = unknown code)."""
    zone_regulations: tuple[zones.ZoneRegulation, ...] = ()
    nearby_citations: tuple[NearbyCitation, ...] = ()
    local_tz: str = "UTC"
    plate_reading: plate_reading.StoredReading | None = None
    """The plate read from the citation's photos (the best of them), None when none was read yet."""
    plate_reader_unavailable: str | None = None
    """Why the plate reader cannot run on this installation (then the "Plate photo" check is unavailable)."""


@dataclass(frozen=True)
class CheckConfig:
    photo_time_minutes: int = 15
    photo_distance_m: float = 100.0
    duplicate_minutes: int = 30
    duplicate_distance_m: float = 50.0
    late_arrival_hours: int = 24
    plate_read_confidence: float = 0.95
    """A photo's plate differing from the typed one warns only when read at least this confidently."""


def _ok(code: str, text: str, **data: Any) -> CheckResult:
    return CheckResult(code, True, Severity.INFO, text, data)


def _bad(code: str, severity: Severity, text: str, **data: Any) -> CheckResult:
    return CheckResult(code, False, severity, text, data)


# ---------------------------------------------------------------- makes


@lru_cache(maxsize=1)
def _make_table() -> tuple[dict[str, str], tuple[str, ...]]:
    aliases: dict[str, str] = {}
    names: list[str] = []
    with MAKES_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            name = row["make"].strip()
            names.append(name)
            aliases[_squash(name)] = name
            for alias in row["alias"].split(","):
                if alias.strip():
                    aliases.setdefault(_squash(alias), name)
    return aliases, tuple(names)


def _squash(text: str) -> str:
    return "".join(c for c in text.upper() if c.isalnum())


def normalize_make(raw: str | None) -> str | None:
    """The make's canonical name (``TOYT``, ``TOYOT``, ``toyota`` -> ``Toyota``), or the cleaned text if unknown.

    Citation makes are 4-letter DMV codes (LA), 5-letter truncations (NYC) or
    names; an unambiguous prefix of a known name counts as that name.
    """
    if raw is None or not raw.strip():
        return None
    key = _squash(raw)
    aliases, names = _make_table()
    if key in aliases:
        return aliases[key]
    if len(key) >= 3:
        matches = {n for n in names if _squash(n).startswith(key)}
        if len(matches) == 1:
            return matches.pop()
    return raw.strip().upper()


# ---------------------------------------------------------------- the checks


def check_photo_times(citation: CitationForReview, photos: Sequence[PhotoForReview], config: CheckConfig) -> CheckResult:
    code = "photo_time"
    if not photos:
        return _bad(code, Severity.WARNING, "No photos with this citation.")
    untimed = [p.digest for p in photos if p.taken_at is None]
    far = {
        p.digest: round(abs((p.taken_at - citation.issued_at).total_seconds()) / 60, 1)
        for p in photos
        if p.taken_at is not None
        and abs(p.taken_at - citation.issued_at) > timedelta(minutes=config.photo_time_minutes)
    }
    if far:
        worst = max(far.values())
        return _bad(code, Severity.WARNING,
                    f"{len(far)} photo(s) taken up to {worst:.0f} min from the issue time "
                    f"(limit {config.photo_time_minutes} min).", minutes_off=far, untimed=untimed)
    if untimed:
        return _bad(code, Severity.WARNING, f"{len(untimed)} photo(s) have no time.", untimed=untimed)
    return _ok(code, f"All {len(photos)} photo(s) within {config.photo_time_minutes} min of issue.")


def check_photo_locations(
    citation: CitationForReview, photos: Sequence[PhotoForReview], config: CheckConfig
) -> CheckResult:
    code = "photo_location"
    if citation.latitude is None or citation.longitude is None:
        return _bad(code, Severity.WARNING, "The citation has no GPS position to compare photos with.")
    located = [p for p in photos if p.latitude is not None and p.longitude is not None]
    if not located:
        return _ok(code, "No photo carries a GPS position.", photos=len(photos))
    distances = {
        p.digest: round(geo.haversine_m(citation.latitude, citation.longitude, p.latitude, p.longitude), 1)  # type: ignore[arg-type]
        for p in located
    }
    # The officer's own GPS error is allowed for on top of the threshold.
    allowance = config.photo_distance_m + (citation.gps_accuracy_m or 0.0)
    far = {d: m for d, m in distances.items() if m > allowance}
    if far:
        return _bad(code, Severity.WARNING,
                    f"{len(far)} photo(s) taken up to {max(far.values()):.0f} m from the citation location "
                    f"(limit {allowance:.0f} m).", distances_m=distances)
    return _ok(code, f"Photos within {allowance:.0f} m of the citation location.", distances_m=distances)


def check_permit(citation: CitationForReview, permits: Sequence[PermitRecord]) -> CheckResult:
    code = "valid_permit"
    key = plates.normalize_plate(citation.plate)
    for permit in permits:
        if plates.normalize_plate(permit.plate) != key:
            continue
        if not permit.valid_from <= citation.issued_at < permit.valid_to:
            continue
        if citation.zone_code is None or citation.zone_code in permit.zone_codes:
            return _bad(code, Severity.WARNING, f"The vehicle had a valid permit ({permit.permit_number}) for this zone.",
                        permit_number=permit.permit_number)
    return _ok(code, "No valid permit for this plate and zone at the issue time.")


def check_plate_format(citation: CitationForReview) -> CheckResult:
    code = "plate_format"
    ok = plates.plate_format_ok(citation.plate, citation.plate_jurisdiction)
    if ok is None:
        if plates.plate_is_plausible(citation.plate):
            return _ok(code, f"No known plate formats for {citation.plate_jurisdiction}; plate looks plausible.")
        return _bad(code, Severity.ERROR, f"'{citation.plate}' is not a plate.")
    if ok:
        return _ok(code, f"Plate matches a {citation.plate_jurisdiction} format.")
    if not plates.plate_is_plausible(citation.plate):
        return _bad(code, Severity.ERROR, f"'{citation.plate}' is not a plate.")
    return _bad(code, Severity.WARNING,
                f"'{plates.normalize_plate(citation.plate)}' matches no {citation.plate_jurisdiction} format "
                "(vanity plate or misread?).", variants=plates.confusable_variants(citation.plate))


def check_duplicates(
    citation: CitationForReview, nearby: Sequence[NearbyCitation], config: CheckConfig
) -> CheckResult:
    code = "duplicate"
    key = plates.plate_search_key(citation.plate)
    codes = {v.code for v in citation.violations}
    found = []
    for other in nearby:
        if other.citation_number == citation.citation_number:
            continue
        if plates.plate_search_key(other.plate) != key or other.violation_code not in codes:
            continue
        if abs(other.issued_at - citation.issued_at) > timedelta(minutes=config.duplicate_minutes):
            continue
        if None not in (citation.latitude, citation.longitude, other.latitude, other.longitude):
            metres = geo.haversine_m(citation.latitude, citation.longitude, other.latitude, other.longitude)  # type: ignore[arg-type]
            if metres > config.duplicate_distance_m:
                continue
        found.append(other.citation_number)
    if found:
        return _bad(code, Severity.ERROR,
                    f"Likely duplicate of {', '.join(found)} (same plate and violation within "
                    f"{config.duplicate_minutes} min and {config.duplicate_distance_m:.0f} m).", duplicates=found)
    return _ok(code, "No similar citation nearby.")


def check_hotlist(citation: CitationForReview, hotlist: Sequence[HotlistEntry]) -> CheckResult:
    code = "hotlist"
    key = plates.normalize_plate(citation.plate)
    hits = [
        e for e in hotlist
        if plates.normalize_plate(e.plate) == key
        and (e.plate_jurisdiction is None or e.plate_jurisdiction.upper() == citation.plate_jurisdiction.upper())
    ]
    if hits:
        return _bad(code, Severity.WARNING, f"Hot list: {'; '.join(h.reason for h in hits)}.",
                    reasons=[h.reason for h in hits])
    return _ok(code, "Not on the hot list.")


def check_make(citation: CitationForReview, registered_make: str | None) -> CheckResult:
    code = "make_mismatch"
    if registered_make is None:
        return _ok(code, "No registration record to compare the make with.")
    cited, registered = normalize_make(citation.make), normalize_make(registered_make)
    if cited is None:
        return _bad(code, Severity.WARNING, "The citation has no make.", registered=registered)
    if cited != registered:
        return _bad(code, Severity.ERROR,
                    f"Cited make {cited} ({citation.make}) differs from the registration ({registered}).",
                    cited=cited, registered=registered)
    return _ok(code, f"Make {cited} matches the registration.")


def check_fines(citation: CitationForReview, schedule: Mapping[str, int]) -> CheckResult:
    code = "fine_schedule"
    problems: dict[str, Any] = {}
    for v in citation.violations:
        scheduled = schedule.get(v.code)
        if scheduled is None:
            problems[v.code] = "not in the fine schedule"
        elif scheduled != v.handheld_fine_cents:
            problems[v.code] = {"handheld_cents": v.handheld_fine_cents, "schedule_cents": scheduled}
    if problems:
        parts = [
            f"{c}: {p}" if isinstance(p, str) else f"{c}: handheld {p['handheld_cents'] / 100:.2f}, schedule "
            f"{p['schedule_cents'] / 100:.2f}"
            for c, p in problems.items()
        ]
        return _bad(code, Severity.WARNING, "Fine differs from the schedule: " + "; ".join(parts) + ".", problems=problems)
    return _ok(code, "Fines match the schedule.")


def check_zone_rules(citation: CitationForReview, regulations: Sequence[zones.ZoneRegulation], tz: str) -> CheckResult:
    code = "zone_rules"
    local = citation.issued_at.astimezone(ZoneInfo(tz))
    obs = citation.observations
    if obs is not None:
        obs = zones.ChalkObservations(
            obs.first_seen.astimezone(ZoneInfo(tz)) if obs.first_seen else None,
            obs.last_seen.astimezone(ZoneInfo(tz)) if obs.last_seen else None,
            obs.permit_displayed,
        )
    unsupported = {}
    for v in citation.violations:
        kind = v.kind or zones.violation_kind_for(citation.code_jurisdiction, v.code)
        if kind is zones.ViolationKind.OTHER or not regulations:
            continue
        ok, why = zones.regulation_supports(kind, regulations, local, obs)
        if not ok:
            unsupported[v.code] = why
    if unsupported:
        return _bad(code, Severity.ERROR, "; ".join(f"{c}: {w}" for c, w in unsupported.items()), unsupported=unsupported)
    if not regulations:
        return _ok(code, "No zone rules known for this location.")
    return _ok(code, "Zone rules support the violation(s) at the issue time.")


def check_late_arrival(citation: CitationForReview, config: CheckConfig) -> CheckResult:
    code = "late_arrival"
    delay = citation.received_at - citation.issued_at
    hours = delay.total_seconds() / 3600
    if delay > timedelta(hours=config.late_arrival_hours):
        return _bad(code, Severity.WARNING, f"Arrived {hours:.1f} h after issue (limit {config.late_arrival_hours} h).",
                    hours=round(hours, 1))
    if delay < timedelta(0):
        return _bad(code, Severity.ERROR, "Received before it was issued: the handheld clock is wrong.",
                    hours=round(hours, 1))
    return _ok(code, f"Arrived {hours:.1f} h after issue.", hours=round(hours, 1))


def check_plate_photo(citation: CitationForReview, reading: plate_reading.StoredReading | None,
                      unavailable: str | None, config: CheckConfig) -> CheckResult:
    """The plate read from the photo against the typed plate, look-alike characters forgiven."""
    code = "plate_photo"
    if reading is None:
        if unavailable:
            return _ok(code, f"Plate photo check unavailable: {unavailable}", state="unavailable")
        return _ok(code, "The photos have not been read yet.", state="pending")
    if reading.status != plate_reading.ReadStatus.READ.value or not reading.plate:
        return _ok(code, f"Photo plate not readable: {reading.reason or 'no reading'}.", state=reading.status,
                   reason=reading.reason)
    typed = plates.normalize_plate(citation.plate)
    agree = plate_reading.agreement(typed, reading.plate)
    confidence = reading.confidence or 0.0
    shown = f"{reading.plate} ({plate_reading.percent(confidence)})"
    data = {"typed": typed, "read": reading.plate, "confidence": round(confidence, 4), "photo": reading.position + 1,
            "agreement": agree.value}
    if agree is plate_reading.Agreement.SAME:
        return _ok(code, f"Photo {reading.position + 1} reads {shown}, as typed.", **data)
    if agree is plate_reading.Agreement.LOOKALIKE:
        return _ok(code, f"Photo {reading.position + 1} reads {shown}: the typed {typed} differs only by "
                         "look-alike characters.", **data)
    if plate_reading.is_part_of(reading.plate, typed):
        return _ok(code, f"Photo {reading.position + 1} reads {shown}, the typed {typed} with characters missing "
                         "(partly read?); not compared.", **data)
    if plates.plate_format_ok(reading.plate, citation.plate_jurisdiction) is False:
        return _ok(code, f"Photo {reading.position + 1} reads {shown}, which is no {citation.plate_jurisdiction} "
                         f"plate format (partly read?); not compared with {typed}.", **data)
    if confidence < config.plate_read_confidence:
        return _ok(code, f"Photo {reading.position + 1} may read {shown}; too uncertain to compare with {typed}.",
                   **data)
    return _bad(code, Severity.WARNING, f"Photo {reading.position + 1} reads {shown}, typed {typed}.", **data)


def check_evidence_integrity(photos: Sequence[PhotoForReview]) -> CheckResult:
    code = "evidence_integrity"
    failed = [p.digest for p in photos if p.integrity is Integrity.FAILED]
    missing = [p.digest for p in photos if p.integrity is Integrity.MISSING]
    if failed or missing:
        parts = []
        if failed:
            parts.append(f"{len(failed)} photo(s) failed the integrity check")
        if missing:
            parts.append(f"{len(missing)} photo(s) missing")
        return _bad(code, Severity.ERROR, "; ".join(parts) + ".", failed=failed, missing=missing)
    return _ok(code, f"{len(photos)} photo(s) intact.")


def run_checks(
    citation: CitationForReview, context: ReviewContext, config: CheckConfig | None = None
) -> list[CheckResult]:
    """Every review check, in the order a clerk reads them."""
    cfg = config or CheckConfig()
    return [
        check_evidence_integrity(context.photos),
        check_photo_times(citation, context.photos, cfg),
        check_photo_locations(citation, context.photos, cfg),
        check_plate_format(citation),
        check_plate_photo(citation, context.plate_reading, context.plate_reader_unavailable, cfg),
        check_make(citation, context.registered_make),
        check_hotlist(citation, context.hotlist),
        check_permit(citation, context.permits),
        check_duplicates(citation, context.nearby_citations, cfg),
        check_fines(citation, context.scheduled_fines_cents),
        check_zone_rules(citation, context.zone_regulations, context.local_tz),
        check_late_arrival(citation, cfg),
    ]
