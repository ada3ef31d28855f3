"""Each review warning is said once: the grey line under it only adds what the explanation does not say."""

from __future__ import annotations

from types import SimpleNamespace

from desktop.ui.review.evidence_text import warnings_html

DIGEST_1, DIGEST_2 = "7b1c" * 16, "1ff6" * 16


def _item(*warnings: dict) -> SimpleNamespace:
    return SimpleNamespace(warnings=list(warnings), passed=(), photos=[SimpleNamespace(sha256=DIGEST_1),
                                                                     SimpleNamespace(sha256=DIGEST_2)])


def test_a_zone_rule_warning_is_not_repeated_as_unsupported() -> None:
    why = "Outside the street-cleaning window (Wed 08:00-10:00) at Fri 12:06."
    html = warnings_html(_item({"code": "zone_rules", "severity": "error", "explanation": f"80.69BS: {why}",
                                "data": {"unsupported": {"80.69BS": why}}}))
    assert html.count("street-cleaning window") == 1 and "unsupported" not in html


def test_numbers_already_written_are_not_repeated() -> None:
    html = warnings_html(_item(
        {"code": "late_arrival", "severity": "warning", "explanation": "Arrived 25.7 h after issue (limit 24 h).",
         "data": {"hours": 25.7}},
        {"code": "valid_permit", "severity": "warning",
         "explanation": "The vehicle had a valid permit (PPD-SOUT-00067) for this zone.",
         "data": {"permit_number": "PPD-SOUT-00067"}}))
    assert html.count("25.7") == 1 and html.count("PPD-SOUT-00067") == 1


def test_what_the_explanation_leaves_out_is_still_shown() -> None:
    html = warnings_html(_item({"code": "photo_location", "severity": "warning",
                                "explanation": "1 photo(s) taken up to 1112 m from the citation location (limit 114 m).",
                                "data": {"distances_m": {DIGEST_1: 1112.1, DIGEST_2: 0.1}}}))
    assert "photo 1: 1,112.1" in html and "photo 2: 0.1" in html
