"""The row checks every CSV importer shares (fine schedules, permits, owners): a row's shape before its
values are read, at the limits."""

from __future__ import annotations

from desktop.domain.imports import MAX_FIELD_CHARS, blank_row, row_problem

HEADER = ["code", "description", "fine"]


def test_a_row_with_the_headers_field_count_and_values_at_the_limit_is_fine() -> None:
    assert row_problem(HEADER, ["88", "x" * MAX_FIELD_CHARS, "63.00"]) is None


def test_one_field_more_or_less_is_named_with_both_counts() -> None:
    assert row_problem(HEADER, ["88", "meter"]) == "2 fields, the header has 3"
    assert row_problem(HEADER, ["88", "meter", "63.00", ""]) == "4 fields, the header has 3"


def test_one_character_over_the_limit_names_the_column() -> None:
    assert row_problem(HEADER, ["88", "x" * (MAX_FIELD_CHARS + 1), "63.00"]) == (
        f"description longer than {MAX_FIELD_CHARS} characters")
    assert row_problem(HEADER, ["8" * 11, "y" * 11, "z" * 11], limit=10) == "code, description, fine longer than 10 characters"


def test_blank_rows_are_only_separators_and_spaces() -> None:
    assert blank_row([]) and blank_row(["", " ", "\t"]) and not blank_row(["", "x"])
