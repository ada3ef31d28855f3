"""The plates read from evidence photos as the review check, the screens and plate search see them.

Written by ``desktop.services.review.plates``; kept apart so that the review checks can read them without
importing the reader (which imports the checks to run them again).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain import plate_reading, plates
from desktop.domain.plate_reading import ReadStatus, StoredReading
from desktop.persistence.evidence import EvidenceMissing, EvidenceStore, EvidenceTampered
from desktop.persistence.models import Citation, EvidencePhoto, PlateReading
from desktop.services.review.plate_ocr import crop_png, engine_status


@dataclass(frozen=True)
class PlatePhotoView:
    """The plate read from a citation's photos as the Review screen and the hearing packet show it."""

    typed: str
    state: str
    """read, not_readable, skipped, pending (not read yet), unavailable (no reader on this installation)"""
    plate: str | None = None
    confidence: float | None = None
    agreement: str | None = None
    """same, lookalike, differs (``plate_reading.Agreement``)"""
    photo_number: int | None = None
    reason: str = ""
    engine: str = ""
    crop_png: bytes | None = None
    """The plate region enlarged, cut from the verified photo bytes (None when there is none)."""

    @property
    def summary(self) -> str:
        """One line: "Photo 1 reads 7GAM761 (99 %): differs from the typed 7GAM76"."""
        if self.state == "unavailable":
            return f"Plate photo check unavailable: {self.reason}"
        if self.state == "pending":
            return "The photos have not been read yet."
        if self.state != ReadStatus.READ.value or not self.plate:
            return f"Not readable: {self.reason or 'no plate found'}"
        said = {"same": "as typed", "lookalike": f"look-alike of the typed {self.typed}",
                "differs": f"DIFFERS from the typed {self.typed}"}.get(self.agreement or "", "")
        return f"Photo {self.photo_number} reads {self.plate} ({plate_reading.percent(self.confidence)}): {said}"


def plate_photo_view(session: Session, citation: Citation, store: EvidenceStore) -> PlatePhotoView:
    """The citation's reading with the enlarged crop (the crop only from bytes that pass their digest)."""
    typed = plates.normalize_plate(citation.plate)
    reading = readings_by_citation(session, [citation.id]).get(citation.id)
    if reading is None:
        why = unavailable_reason()
        return PlatePhotoView(typed, "unavailable" if why else "pending", reason=why or "")
    if reading.status != ReadStatus.READ.value or not reading.plate:
        return PlatePhotoView(typed, reading.status, photo_number=reading.position + 1, reason=reading.reason,
                              engine=reading.engine)
    crop = None
    if reading.box is not None:
        try:
            crop = crop_png(store.read_verified(reading.photo_digest), reading.box)
        except (EvidenceTampered, EvidenceMissing):
            crop = None
    return PlatePhotoView(typed, reading.status, reading.plate, reading.confidence,
                          plate_reading.agreement(typed, reading.plate).value, reading.position + 1,
                          reading.reason, reading.engine, crop)




def stored(row: PlateReading, position: int) -> StoredReading:
    box = tuple(int(v) for v in row.box) if isinstance(row.box, list) and len(row.box) == 4 else None
    return StoredReading(row.sha256, position, row.status, row.plate, row.confidence,
                         box,  # type: ignore[arg-type]
                         row.reason or "", row.engine)


def readings_by_citation(session: Session, citation_ids: Iterable[int]) -> dict[int, StoredReading]:
    """Each citation's reading (the best of its photos), for citations whose photos were read."""
    ids = list(set(citation_ids))
    if not ids:
        return {}
    grouped: dict[int, list[StoredReading]] = {}
    for row, position in session.execute(
        select(PlateReading, EvidencePhoto.position)
        .join(EvidencePhoto, EvidencePhoto.id == PlateReading.photo_id)
        .where(PlateReading.citation_id.in_(ids))
    ).all():
        grouped.setdefault(row.citation_id, []).append(stored(row, position))
    out = {}
    for cid, rows in grouped.items():
        best = plate_reading.best_reading(rows)
        if best is not None:
            out[cid] = best
    return out


def unavailable_reason() -> str | None:
    status = engine_status()
    return None if status.available else status.reason


__all__ = ["PlatePhotoView", "plate_photo_view", "readings_by_citation", "unavailable_reason", "stored"]
