"""The case life cycle: legal moves pass, illegal ones give a clerk-readable reason."""

import pytest

from desktop.domain.errors import IllegalTransition
from desktop.domain.ledger import format_cents
from desktop.domain.lifecycle import CaseStatus, EvidenceStatus, PhotoIntegrity, check_move, evidence_status

S = CaseStatus


@pytest.mark.parametrize("a,b", [
    (S.RECEIVED, S.PENDING_REVIEW), (S.PENDING_REVIEW, S.OPEN), (S.PENDING_REVIEW, S.VOIDED),
    (S.OPEN, S.PAID), (S.OPEN, S.UNDER_APPEAL), (S.UNDER_APPEAL, S.OPEN), (S.UNDER_APPEAL, S.DISMISSED),
    (S.OPEN, S.IN_COLLECTIONS), (S.OPEN, S.WRITTEN_OFF), (S.OPEN, S.DISMISSED),
])
def test_design_moves_are_legal(a: CaseStatus, b: CaseStatus) -> None:
    check_move("X1", a, b)


def test_closed_case_cannot_move_and_says_why() -> None:
    with pytest.raises(IllegalTransition, match="voided; a closed case cannot be moved to open"):
        check_move("HH1-1", S.VOIDED, S.OPEN)


def test_review_cannot_jump_to_paid() -> None:
    with pytest.raises(IllegalTransition, match="pending review: it cannot go to paid"):
        check_move("HH1-2", S.PENDING_REVIEW, S.PAID)


def test_evidence_status_is_the_worst_photo() -> None:
    P = PhotoIntegrity
    assert evidence_status([]) is EvidenceStatus.NONE
    assert evidence_status([P.VERIFIED, P.VERIFIED]) is EvidenceStatus.OK
    assert evidence_status([P.VERIFIED, P.MISSING]) is EvidenceStatus.MISSING
    assert evidence_status([P.MISSING, P.INTEGRITY_FAILED]) is EvidenceStatus.INTEGRITY_FAILED


def test_money_formatting_is_exact() -> None:
    assert format_cents(123456789) == "$1,234,567.89"
    assert format_cents(-5) == "-$0.05"
    assert format_cents(2500, "GBP") == "£25.00"
