"""Matching payments to cases from free reference text."""

from __future__ import annotations

from collections.abc import Sequence

from desktop.domain.matching import MatchMethod, citation_candidates, match_payment

CITATIONS = {"1234567890": "case-1", "4012345678": "case-2", "LA123456": "case-3"}
PLATES: dict[str, list[tuple[str, int]]] = {
    "7ABC123": [("case-7", 7500), ("case-8", 2500)],
    "8XYZ999": [("case-9", 5000), ("case-10", 5000)],
}


def by_citation(number: str) -> str | None:
    return CITATIONS.get(number)


def by_plate(plate: str) -> Sequence[tuple[str, int]]:
    return PLATES.get(plate, [])


def test_citation_with_spaces_and_dashes() -> None:
    result = match_payment("PMT CIT 123-456 7890 THANKS", 7500, by_citation, by_plate)
    assert result.case_ids == ("case-1",) and result.method is MatchMethod.CITATION
    assert result.citation_numbers == ("1234567890",) and result.confidence > 0.9


def test_two_citations_in_one_payment() -> None:
    result = match_payment("tickets 1234567890, 4012345678", 15000, by_citation)
    assert result.case_ids == ("case-1", "case-2")


def test_letters_in_citation_and_punctuation_around() -> None:
    assert match_payment("ref#la-123456/", 100, by_citation).case_ids == ("case-3",)


def test_plate_and_exact_amount() -> None:
    result = match_payment("PARKING 7ABC123", 2500, by_citation, by_plate)
    assert result.case_ids == ("case-8",) and result.method is MatchMethod.PLATE_AMOUNT


def test_plate_total_of_all_open_cases() -> None:
    result = match_payment("7abc123", 10000, by_citation, by_plate)
    assert result.case_ids == ("case-7", "case-8") and result.method is MatchMethod.PLATE_TOTAL


def test_ambiguous_plate_amount_is_unmatched_with_reason() -> None:
    result = match_payment("8XYZ999", 5000, by_citation, by_plate)
    assert not result.matched and "2 open cases with this balance" in result.reason


def test_unmatched_reasons() -> None:
    assert match_payment("", 100, by_citation).reason == "the payment has no reference text"
    unknown = match_payment("CIT 999999999", 100, by_citation)
    assert not unknown.matched and "999999999" in unknown.reason
    assert match_payment("THANK YOU", 100, by_citation).reason == "the reference holds no citation number or known plate"


def test_candidates_do_not_join_across_other_punctuation() -> None:
    assert "56789TICKET" not in citation_candidates("CIT 1234-567 89 / ticket 1")
