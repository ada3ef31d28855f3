"""The password policy (NIST SP 800-63B 5.1.1.2) at its limits, and the shipped common-password list."""

from __future__ import annotations

import pytest

from desktop.domain.passwords import MAX_LENGTH, MIN_LENGTH, password_problem
from desktop.services.admin.users import common_passwords


def test_length_limits() -> None:
    assert password_problem("x7#kQ2!mZp"[: MIN_LENGTH - 1]) == f"A password needs at least {MIN_LENGTH} characters."
    assert password_problem("x7#kQ2!mZp"[:MIN_LENGTH]) is None
    assert password_problem("ab" * (MAX_LENGTH // 2)) is None
    assert "at most 256" in (password_problem("ab" * (MAX_LENGTH // 2) + "c") or "")


def test_spaces_and_other_scripts_are_allowed_and_nothing_else_is_asked() -> None:
    assert password_problem("correct horse battery") is None
    assert password_problem("Großstadtparkplatz") is None


@pytest.mark.parametrize("password", ["carla.ruiz", "CARLA.RUIZ", "carla-ruiz", "carla.ruiz12"])
def test_not_the_username(password: str) -> None:
    problem = password_problem(password, username="carla.ruiz")
    assert problem is not None and "username" in problem


def test_the_username_inside_a_longer_password_is_allowed() -> None:
    assert password_problem("carla.ruiz-rides-the-bus", username="carla.ruiz") is None


def test_not_the_persons_name() -> None:
    assert "name" in (password_problem("CarlaRuizLopez", full_name="Carla Ruiz Lopez") or "")
    assert password_problem("Carla likes long walks", full_name="Carla Ruiz Lopez") is None


def test_not_one_character_repeated() -> None:
    assert "repeated" in (password_problem("a" * 12) or "")


def test_the_common_list_is_shipped_and_read_lowercased() -> None:
    common = common_passwords()
    assert len(common) == 10_000
    assert {"password1234", "qwertyuiop", "1234567890"} <= common
    problem = password_problem("QwertyUIOP", common=common)
    assert problem is not None and "most common" in problem
    assert password_problem("qwertyuiop-not-really", common=common) is None
