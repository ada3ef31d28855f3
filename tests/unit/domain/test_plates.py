"""Plate normalisation, per-state formats (checked on real citation extracts), look-alike search keys."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from desktop.domain.plates import (
    confusable_variants,
    known_jurisdictions,
    normalize_plate,
    plate_format_ok,
    plate_is_plausible,
    plate_search_key,
)

CITATIONS = Path("/work/shared/data/citations")


def _plates(name: str, plate_col: str, state_col: str, state: str) -> list[str]:
    with (CITATIONS / name).open(encoding="utf-8", errors="replace", newline="") as fh:
        return [row[plate_col] for row in csv.DictReader(fh) if row[state_col] == state]


def _rate(plates: list[str], state: str) -> float:
    return sum(bool(plate_format_ok(p, state)) for p in plates) / len(plates)


def test_required_states_have_formats() -> None:
    required = {"CA", "NY", "NJ", "TX", "FL", "WA", "OR", "AZ", "NV", "IL", "MD", "PA", "VA", "MA"}
    assert required <= known_jurisdictions()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" abc-1234 ", "ABC1234"), ("LRD\u00a07808.00", "LRD7808"), ("7 xyz 123", "7XYZ123"), ("12345.00", "1234500")],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_plate(raw) == expected


def test_ny_plates_in_the_nyc_extracts_match_known_formats() -> None:
    big = _plates("parking_violations.csv", "Plate ID", "Registration State", "NY")
    extract = _plates("nyc_parking_tickets_extract.csv", "Plate ID", "Registration State", "NY")
    assert len(big) > 3000 and len(extract) > 700
    assert _rate(big, "NY") >= 0.95
    assert _rate(extract, "NY") >= 0.95


def test_md_plates_in_the_baltimore_file_match_known_formats() -> None:
    plates = _plates("Parking_Citations.csv", "tag", "state", "MD")
    assert len(plates) > 3900
    assert _rate(plates, "MD") >= 0.95


def test_float_artefact_plates_from_the_dof_file_are_recovered() -> None:
    plates = [p for p in _plates("Parking_Violations.csv", "Plate ID", "Registration State", "NY") if p.endswith(".00")]
    assert len(plates) == 9
    assert all(plate_format_ok(p, "NY") for p in plates)


def test_vanity_and_placeholders() -> None:
    assert plate_format_ok("MYSUMMER", "NY") is False  # vanity: a warning for review, not an error
    assert plate_is_plausible("MYSUMMER")
    assert plate_format_ok("BLANKPLATE", "NY") is False
    assert not plate_is_plausible("BLANKPLATE")
    assert plate_format_ok("ABC1234", "ZZ") is None
    assert plate_format_ok("7ABC123", "CA") is True
    assert plate_format_ok("ABC1234", "CA") is False


def test_search_key_folds_look_alikes() -> None:
    assert plate_search_key("7ABC123") == plate_search_key("7A8C123")
    assert plate_search_key("SO1Z") == plate_search_key("5012") == "5012"
    assert plate_search_key("ABC1234") != plate_search_key("ABD1234")


def test_confusable_variants_are_one_character_off_and_bounded() -> None:
    variants = confusable_variants("B0S-1")
    assert variants == ["80S1", "BOS1", "B051", "B0SI"]
    for v in variants:
        assert sum(a != b for a, b in zip(v, "B0S1", strict=True)) == 1
        assert plate_search_key(v) == plate_search_key("B0S1")
    assert len(confusable_variants("OOOOOOOO", limit=5)) == 5
    assert confusable_variants("ACDEFG") == []
