"""The citation life cycle: case states and the moves the rules allow between them."""

from __future__ import annotations

from enum import StrEnum

from desktop.domain.errors import IllegalTransition


class CaseStatus(StrEnum):
    """Where a citation stands. Stored as its value."""

    RECEIVED = "received"
    PENDING_REVIEW = "pending_review"
    VOIDED = "voided"
    OPEN = "open"
    UNDER_APPEAL = "under_appeal"
    PAID = "paid"
    DISMISSED = "dismissed"
    IN_COLLECTIONS = "in_collections"
    WRITTEN_OFF = "written_off"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_closed(self) -> bool:
        return self in CLOSED_STATES


_LABELS: dict[CaseStatus, str] = {
    CaseStatus.RECEIVED: "Received",
    CaseStatus.PENDING_REVIEW: "Pending review",
    CaseStatus.VOIDED: "Voided",
    CaseStatus.OPEN: "Open",
    CaseStatus.UNDER_APPEAL: "Under appeal",
    CaseStatus.PAID: "Paid",
    CaseStatus.DISMISSED: "Dismissed",
    CaseStatus.IN_COLLECTIONS: "In collections",
    CaseStatus.WRITTEN_OFF: "Written off",
}

CLOSED_STATES = frozenset(
    {CaseStatus.VOIDED, CaseStatus.PAID, CaseStatus.DISMISSED, CaseStatus.WRITTEN_OFF}
)

#: Every legal move. DESIGN.md's diagram, plus the moves real offices need:
#: a reversed payment reopens a paid case, a collections case can still be paid.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.RECEIVED: frozenset({CaseStatus.PENDING_REVIEW, CaseStatus.VOIDED}),
    CaseStatus.PENDING_REVIEW: frozenset({CaseStatus.OPEN, CaseStatus.VOIDED}),
    CaseStatus.OPEN: frozenset(
        {
            CaseStatus.PAID,
            CaseStatus.DISMISSED,
            CaseStatus.IN_COLLECTIONS,
            CaseStatus.WRITTEN_OFF,
            CaseStatus.UNDER_APPEAL,
        }
    ),
    CaseStatus.UNDER_APPEAL: frozenset({CaseStatus.OPEN, CaseStatus.DISMISSED, CaseStatus.PAID}),
    CaseStatus.PAID: frozenset({CaseStatus.OPEN}),
    CaseStatus.IN_COLLECTIONS: frozenset(
        {CaseStatus.PAID, CaseStatus.WRITTEN_OFF, CaseStatus.UNDER_APPEAL, CaseStatus.OPEN}
    ),
    CaseStatus.DISMISSED: frozenset(),
    CaseStatus.VOIDED: frozenset(),
    CaseStatus.WRITTEN_OFF: frozenset(),
}


def can_move(current: CaseStatus, target: CaseStatus) -> bool:
    return target in TRANSITIONS[current]


def check_move(citation_number: str, current: CaseStatus, target: CaseStatus) -> None:
    """Raise IllegalTransition with a clerk-readable reason if the move is not allowed."""
    if can_move(current, target):
        return
    if current.is_closed:
        raise IllegalTransition(
            f"Citation {citation_number} is {current.label.lower()}; a closed case cannot be "
            f"moved to {target.label.lower()}."
        )
    allowed = ", ".join(sorted(s.label.lower() for s in TRANSITIONS[current])) or "nothing"
    raise IllegalTransition(
        f"Citation {citation_number} is {current.label.lower()}: it cannot go to "
        f"{target.label.lower()} (from here it can go to {allowed})."
    )


class EvidenceStatus(StrEnum):
    """The state of a citation's evidence as a whole."""

    OK = "ok"
    INTEGRITY_FAILED = "integrity_failed"
    MISSING = "missing"
    NONE = "none"


class PhotoIntegrity(StrEnum):
    """The state of one evidence photo."""

    PENDING = "pending"
    VERIFIED = "verified"
    INTEGRITY_FAILED = "integrity_failed"
    MISSING = "missing"


def evidence_status(photo_states: list[PhotoIntegrity]) -> EvidenceStatus:
    """A citation's evidence is only as good as its worst photo."""
    if not photo_states:
        return EvidenceStatus.NONE
    if PhotoIntegrity.INTEGRITY_FAILED in photo_states:
        return EvidenceStatus.INTEGRITY_FAILED
    if PhotoIntegrity.MISSING in photo_states or PhotoIntegrity.PENDING in photo_states:
        return EvidenceStatus.MISSING
    return EvidenceStatus.OK
