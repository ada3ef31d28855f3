"""The plate reader on photos built for the purpose (issue 20): dark plates, a state's format settling a
look-alike, and the bad inputs that must give "not readable" and never a warning (two plates, a plate too
small, too blurred, no plate at all)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from desktop.domain import checks
from desktop.domain.plate_reading import PhotoReading, ReadStatus, StoredReading
from desktop.services.review.plate_ocr import PlateReader
from tests.helpers.plate_set import scene_with


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader()


def warns(typed: str, state: str, reading: PhotoReading) -> bool:
    when = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)
    citation = checks.CitationForReview("B-1", typed, state, "TOYT", when, when, None, None, ())
    stored = StoredReading("x", 0, reading.status.value, reading.plate, reading.confidence, reading.box, reading.reason,
                           "test")
    return not checks.check_plate_photo(citation, stored, None, checks.CheckConfig()).ok


@pytest.mark.parametrize("code, text, state", [("CA_BLACK", "KDR 417", "CA"), ("DE", "305817", "DE"),
                                               ("CA", "0SJN439", "CA"), ("UK_REAR", "AB12 CDE", "GB")])
def test_plates_light_on_dark_and_leading_zeros_are_read(reader: PlateReader, code: str, text: str,
                                                          state: str) -> None:
    reading = reader.read_bytes(scene_with([(code, text, 280, (260, 400))]), state)
    assert (reading.status, reading.plate) == (ReadStatus.READ, text.replace(" ", ""))
    assert not warns(text, state, reading)


def test_two_plates_in_one_photo_give_no_reading(reader: PlateReader) -> None:
    reading = reader.read_bytes(scene_with([("CA", "7ABC123", 260, (60, 400)), ("CA", "8XYZ999", 260, (480, 400))]),
                                "CA")
    assert reading.status is ReadStatus.NOT_READABLE and reading.plate is None
    assert reading.reason.startswith("two plates in the photo")
    assert not warns("7ABC123", "CA", reading)


@pytest.mark.parametrize("width, blur", [(60, 0.0), (280, 8.0)])
def test_a_plate_too_small_or_too_blurred_gives_no_reading_and_no_warning(reader: PlateReader, width: int,
                                                                          blur: float) -> None:
    reading = reader.read_bytes(scene_with([("CA", "7ABC123", width, (300, 420))], blur=blur), "CA")
    assert reading.status is ReadStatus.NOT_READABLE and reading.plate is None and reading.reason
    assert not warns("7ABC123", "CA", reading)


def test_a_time_stamp_alone_is_no_plate(reader: PlateReader) -> None:
    reading = reader.read_bytes(scene_with([]), "CA")
    assert (reading.status, reading.reason) == (ReadStatus.NOT_READABLE, "no plate found in the photo")
