"""The vocabulary of citation review: why a citation is voided, what a clerk may correct,
and a short name for each check a warning comes from.

The checks themselves are in ``desktop.domain.checks``; the use cases (approve, void,
correct) in ``desktop.services.review.queue``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class VoidReason(StrEnum):
    """Why a clerk voided a citation in review (kept in the audit trail for reporting)."""

    DEFECTIVE_PLATE = "DEFECTIVE_PLATE"
    MAKE_MISMATCH = "MAKE_MISMATCH"
    VALID_PERMIT = "VALID_PERMIT"
    DUPLICATE = "DUPLICATE"
    EVIDENCE_FAILED = "EVIDENCE_FAILED"
    ZONE_RULES = "ZONE_RULES"
    OFFICER_ERROR = "OFFICER_ERROR"
    OTHER = "OTHER"

    @property
    def label(self) -> str:
        return _VOID_LABELS[self]

    @property
    def needs_note(self) -> bool:
        """'Other' says nothing by itself: the clerk must write why."""
        return self is VoidReason.OTHER


_VOID_LABELS = {
    VoidReason.DEFECTIVE_PLATE: "Plate unreadable or wrong",
    VoidReason.MAKE_MISMATCH: "Make does not match the registration",
    VoidReason.VALID_PERMIT: "Vehicle had a valid permit",
    VoidReason.DUPLICATE: "Duplicate of another citation",
    VoidReason.EVIDENCE_FAILED: "Evidence missing or failed integrity",
    VoidReason.ZONE_RULES: "Zone rules do not support the violation",
    VoidReason.OFFICER_ERROR: "Officer error",
    VoidReason.OTHER: "Other (explain in the note)",
}

#: The warning that most likely leads to each void reason, strongest first.
_REASON_FOR_WARNING: tuple[tuple[str, VoidReason], ...] = (
    ("duplicate", VoidReason.DUPLICATE),
    ("valid_permit", VoidReason.VALID_PERMIT),
    ("make_mismatch", VoidReason.MAKE_MISMATCH),
    ("evidence_integrity", VoidReason.EVIDENCE_FAILED),
    ("zone_rules", VoidReason.ZONE_RULES),
    ("plate_format", VoidReason.DEFECTIVE_PLATE),
    ("plate_photo", VoidReason.DEFECTIVE_PLATE),
)


def suggested_void_reason(warning_codes: Iterable[str]) -> VoidReason:
    """The reason to preselect in the void dialog, from the warnings the citation carries."""
    codes = set(warning_codes)
    for code, reason in _REASON_FOR_WARNING:
        if code in codes:
            return reason
    return VoidReason.OFFICER_ERROR


class CorrectableField(StrEnum):
    """What a clerk may correct in review; each correction is audited and re-checked."""

    PLATE = "plate"
    JURISDICTION = "jurisdiction"
    MAKE = "make"
    COLOUR = "colour"
    VIOLATION_CODE = "violation_code"

    @property
    def label(self) -> str:
        return {"plate": "Plate", "jurisdiction": "Plate state / jurisdiction", "make": "Make",
                "colour": "Colour", "violation_code": "Violation code"}[self.value]


#: A short name for each check, for the queue's counts and the warnings panel.
CHECK_TITLES = {
    "evidence_integrity": "Evidence integrity",
    "photo_time": "Photo time",
    "photo_location": "Photo location",
    "plate_format": "Plate format",
    "plate_photo": "Plate photo",
    "make_mismatch": "Make vs registration",
    "hotlist": "Hot list",
    "valid_permit": "Valid permit",
    "duplicate": "Likely duplicate",
    "fine_schedule": "Fine vs schedule",
    "zone_rules": "Zone rules",
    "late_arrival": "Late arrival",
}


def check_title(code: str) -> str:
    return CHECK_TITLES.get(code, code.replace("_", " ").capitalize())


SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
"""Errors before warnings before notes, wherever warnings are listed."""
