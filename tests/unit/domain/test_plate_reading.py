"""The rules of a plate read from a photo: which line is the plate, look-alikes, and the "Plate photo" check."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from desktop.domain import checks, plate_reading
from desktop.domain.plate_reading import Agreement, ReadStatus, StoredReading, TextLine

BOX = (10, 10, 110, 40)
OTHER_BOX = (300, 10, 400, 40)


def line(text: str, conf: float = 0.98, box: tuple[int, int, int, int] = BOX, height: int = 30) -> TextLine:
    return TextLine(text, conf, box, height)


def test_the_plate_line_is_chosen_over_state_names_stamps_and_signs() -> None:
    reading = plate_reading.choose([line("California", 0.99), line("2026-11-19 09:14:03", 0.99),
                                    line("7GAM 761", 0.97), line("PARKING", 0.99)])
    assert reading.status is ReadStatus.READ
    assert reading.plate == "7GAM761" and reading.confidence == 0.97 and reading.box == BOX


@pytest.mark.parametrize("raw, plate", [("AB12 CDE", "AB12CDE"), ("7-ABC-123", "7ABC123"), ("ab·12", "AB12")])
def test_reading_is_cut_to_the_plate_alphabet(raw: str, plate: str) -> None:
    assert plate_reading.choose([line(raw)]).plate == plate


@pytest.mark.parametrize("lines, reason", [
    ([], "no plate found in the photo"),
    ([line("TEXAS"), line("20261119")], "no plate found in the photo"),
    ([line("7ABC123", height=6)], "the plate is too small to read"),
    ([line("7ABC123", conf=0.41)], "the plate is too blurred to read"),
    ([line("7ABC123"), line("8XYZ999", 0.95, OTHER_BOX)], "two plates in the photo (7ABC123 and 8XYZ999)"),
])
def test_no_reading_says_why(lines: list[TextLine], reason: str) -> None:
    reading = plate_reading.choose(lines)
    assert reading.status is ReadStatus.NOT_READABLE and reading.plate is None
    assert reading.reason == reason


def test_a_second_line_of_the_same_plate_is_not_a_second_plate() -> None:
    reading = plate_reading.choose([line("7ABC123", 0.99), line("7A8C123", 0.90, OTHER_BOX)])
    assert reading.status is ReadStatus.READ and reading.plate == "7ABC123"


@pytest.mark.parametrize("typed, read, expected", [
    ("7ABC123", "7ABC123", Agreement.SAME), ("7abc-123", "7ABC123", Agreement.SAME),
    ("7A8C123", "7ABC123", Agreement.LOOKALIKE), ("70S1234", "7OS1234", Agreement.LOOKALIKE),
    ("7ABC128", "7ABC123", Agreement.DIFFERS), ("7ABC12", "7ABC123", Agreement.DIFFERS),
])
def test_agreement_folds_the_search_look_alikes(typed: str, read: str, expected: Agreement) -> None:
    assert plate_reading.agreement(typed, read) is expected


def _citation(plate: str) -> checks.CitationForReview:
    t = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)
    return checks.CitationForReview("C-1", plate, "CA", "TOYT", t, t, 34.0, -118.0, ())


def _stored(plate: str | None, conf: float = 0.97, status: str = "read", reason: str = "") -> StoredReading:
    return StoredReading("ab" * 32, 0, status, plate, conf, BOX, reason, "engine")


def test_plate_photo_check_warns_only_on_a_confident_different_plate() -> None:
    cfg = checks.CheckConfig(plate_read_confidence=0.9)  # an agency that set 90 %
    differs = checks.check_plate_photo(_citation("7GAM76"), _stored("7GAM761"), None, cfg)
    assert not differs.ok and differs.severity is checks.Severity.WARNING
    assert differs.explanation == "Photo 1 reads 7GAM761 (97%), typed 7GAM76."
    assert differs.data["typed"] == "7GAM76" and differs.data["read"] == "7GAM761"
    assert checks.check_plate_photo(_citation("7GAM761"), _stored("7GAM761"), None, cfg).ok
    assert checks.check_plate_photo(_citation("7GAM7G1"), _stored("7GAM761"), None, cfg).ok is False
    lookalike = checks.check_plate_photo(_citation("7GAM76I"), _stored("7GAM761"), None, cfg)
    assert lookalike.ok and "look-alike" in lookalike.explanation
    unsure = checks.check_plate_photo(_citation("7GAM76"), _stored("7GAM761", conf=0.8), None, cfg)
    assert unsure.ok and "too uncertain" in unsure.explanation


def test_plate_photo_check_never_warns_without_a_reading() -> None:
    cfg = checks.CheckConfig()
    unreadable = checks.check_plate_photo(_citation("7GAM76"), _stored(None, status="not_readable",
                                                                       reason="the plate is too blurred to read"),
                                          None, cfg)
    assert unreadable.ok and unreadable.explanation == "Photo plate not readable: the plate is too blurred to read."
    unavailable = checks.check_plate_photo(_citation("7GAM76"), None, "the plate model file is missing", cfg)
    assert unavailable.ok and unavailable.data["state"] == "unavailable"
    assert "unavailable" in unavailable.explanation
    assert checks.check_plate_photo(_citation("7GAM76"), None, None, cfg).data["state"] == "pending"


def test_best_reading_is_the_most_confident_photo() -> None:
    rows = [StoredReading("a", 0, "not_readable", None, None, None, "no plate found in the photo", "e"),
            StoredReading("b", 1, "read", "7ABC123", 0.91, BOX, "", "e"),
            StoredReading("c", 2, "read", "7ABC128", 0.99, BOX, "", "e")]
    best = plate_reading.best_reading(rows)
    assert best is not None and best.photo_digest == "c"
    assert plate_reading.best_reading(rows[:1]) == rows[0]
    assert plate_reading.best_reading([]) is None


def test_a_part_of_the_plate_read_from_an_inner_region_loses_to_the_whole_line() -> None:
    inner = (60, 12, 100, 38)
    reading = plate_reading.choose([line("4SMX204", 0.97), line("204", 0.999, inner)])
    assert reading.plate == "4SMX204"


def test_a_reading_in_no_format_of_the_state_is_not_compared() -> None:
    partial = checks.check_plate_photo(_citation("7ABC123"), _stored("12AB", 0.99), None, checks.CheckConfig())
    assert partial.ok and "which is no CA plate format" in partial.explanation


def test_a_reading_that_only_misses_characters_of_the_typed_plate_is_not_compared() -> None:
    assert plate_reading.is_part_of("NUP25", "NXUP25") and not plate_reading.is_part_of("6LYA328", "6LYA32")
    partial = checks.check_plate_photo(_citation("7GAM761"), _stored("7GM761", 0.99), None, checks.CheckConfig())
    assert partial.ok and "characters missing" in partial.explanation
    missed = checks.check_plate_photo(_citation("7GAM76"), _stored("7GAM761", 0.99), None, checks.CheckConfig())
    assert not missed.ok  # the officer left a character out: the photo shows all seven


def test_the_default_threshold_is_95_percent() -> None:
    assert checks.CheckConfig().plate_read_confidence == 0.95
    unsure = checks.check_plate_photo(_citation("7GAM768"), _stored("7GAM761", 0.94), None, checks.CheckConfig())
    assert unsure.ok and "too uncertain" in unsure.explanation


def chars(text: str, alternatives: dict[int, tuple[str, float]] | None = None) -> list[plate_reading.CharChoice]:
    """Decoded characters read at 0.99, with the other kind (a digit for a letter or back) at the given
    probability where ``alternatives`` says so (else 0.0001, below the floor)."""
    out = []
    for i, ch in enumerate(text):
        other, p_other = (alternatives or {}).get(i, ("0" if ch.isalpha() else "A", 0.0001))
        if ch.isalpha():
            out.append(plate_reading.CharChoice(ch, 0.99, ch, 0.99, other, p_other))
        else:
            out.append(plate_reading.CharChoice(ch, 0.99, other, p_other, ch, 0.99))
    return out


def test_a_state_format_settles_a_letter_read_where_the_state_puts_a_digit() -> None:
    # California 1ABC234: an O read in first place is the digit 0 when the recogniser saw a 0 there too
    text, confidence = plate_reading.best_for_formats(chars("OSJN439", {0: ("0", 0.3)}), "CA")
    assert text == "0SJN439" and confidence == pytest.approx((6 * 0.99 + 0.3) / 7)
    # already a format of the state, or no formats known, or no plausible alternative: as read
    assert plate_reading.best_for_formats(chars("7ABC123", {1: ("4", 0.4)}), "CA")[0] == "7ABC123"
    assert plate_reading.best_for_formats(chars("OSJN439", {0: ("0", 0.3)}), "ZZ")[0] == "OSJN439"
    assert plate_reading.best_for_formats(chars("OSJN439", {0: ("0", 0.0001)}), "CA")[0] == "OSJN439"
    # Great Britain (DVLA: two letters, two digits, three letters), which the typed-plate check has no format of
    assert plate_reading.best_for_formats(chars("VN31S2W", {5: ("Z", 0.2)}), "GB")[0] == "VN31SZW"
    assert plate_reading.best_for_formats([], "CA") == ("", 0.0)


def test_char_choice_keeps_the_best_letter_and_the_best_digit() -> None:
    probs = [0.0] * len(plate_reading.ALPHABET)
    probs[plate_reading.ALPHABET.index("O")] = 0.7
    probs[plate_reading.ALPHABET.index("0")] = 0.25
    c = plate_reading.CharChoice.of(probs)
    assert (c.char, c.letter, c.digit) == ("O", "O", "0") and c.p_digit == pytest.approx(0.25)


@pytest.mark.parametrize("raw", ["2026-11", "11-19 14", "14:05", "2026-11-19", "04:30:07"])
def test_pieces_of_a_camera_time_stamp_are_no_plate(raw: str) -> None:
    reading = plate_reading.choose([line(raw, 0.99)])
    assert reading.status is ReadStatus.NOT_READABLE and reading.plate is None


def test_separators_are_put_back_around_the_chosen_characters() -> None:
    assert plate_reading.with_separators("\x00\x00-\x00", "0AB") == "0A-B"
    assert plate_reading.choose([line(plate_reading.with_separators("\x00\x00 \x00\x00\x00\x00\x00", "LY96527"))]).plate \
        == "LY96527"
