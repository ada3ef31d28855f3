"""Letters print the vehicle's make and colour as words (issue 16: "HOND", "TOYT / GY" on letters)."""

from __future__ import annotations

import pytest

from desktop.domain.colours import colour_name, make_name


@pytest.mark.parametrize(("raw", "expected"), [("TOYT", "Toyota"), ("HOND", "Honda"), ("TOYOT", "Toyota"),
                                               ("VAUXHALL", "Vauxhall"), ("BMW", "BMW"), ("", ""), (None, "")])
def test_make_names(raw: str | None, expected: str) -> None:
    assert make_name(raw) == expected


@pytest.mark.parametrize(("code", "spelling", "expected"), [
    ("GY", "US", "Gray"), ("GY", "GB", "Grey"), ("GRY", "GB", "Grey"), ("WT", "US", "White"),
    ("SILVER", "GB", "Silver"), ("COM", "US", "Multicolored"), ("COM", "GB", "Multicoloured"), ("", "US", ""),
    ("Teal green", "US", "Teal green"),
])
def test_colour_names_in_the_authoritys_spelling(code: str, spelling: str, expected: str) -> None:
    assert colour_name(code, spelling) == expected
