"""The notices of the escalation ladder walked on the calendar: printed the day they fall due and days
later, every date they print is the one the profile's law gives from that mailing day (and its service),
never one already past."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from desktop.domain.profiles import load_profile
from desktop.domain.roles import Role
from desktop.services.notices import runs as nr
from tests.helpers.notice_cases import queue_case
from tests.integration.reports.pdfprobe import reader

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


def _text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in reader(path.read_bytes()).pages)


def _printed(app, actors, clock, tmp_path: Path, day: date) -> str:  # type: ignore[no-untyped-def]
    clock.now = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path / day.isoformat())
    assert result.printed == 1, result.summary()
    return _text(result.batches[0].path)


@pytest.mark.parametrize("day", [date(2026, 11, 24), date(2026, 12, 24), date(2026, 12, 31)])
def test_an_english_notice_to_owner_counts_from_its_service(app, actors, clock, tmp_path: Path, day: date) -> None:  # type: ignore[no-untyped-def]
    eng = load_profile("ENG")
    queue_case(app, profile="ENG", kind="notice_to_owner", stage="notice_to_owner", fine_cents=7000, penalty_cents=0,
               issued_at=datetime(2026, 10, 1, 10, 0, tzinfo=UTC),
               owner_kwargs={"name": "MARSH, PETER", "address_line1": "22 Station Road", "city": "Ashford",
                             "state": "", "zip": "TN23 1PP"})
    text = _printed(app, actors, clock, tmp_path, day)
    served = eng.service.served_on(day)
    last = served + timedelta(days=27)  # 28 days beginning with the day of service
    assert f"Contest by {last:%-d %B %Y}" in text and f"Pay by {last:%-d %B %Y}" in text
    assert f"Charge Certificate after {last:%-d %B %Y}" in text
    assert "Peter Marsh" in text and "MARSH" not in text.replace("MARSH, PETER", "")
    printed = [datetime.strptime(m, "%d %B %Y").date() for m in re.findall(rf"\b\d{{1,2}} (?:{MONTHS}) \d{{4}}\b", text)]
    assert all(d >= day for d in printed if d > date(2026, 10, 31)), printed  # nothing past but the PCN's own dates


def test_the_christmas_posting_is_served_after_the_bank_holidays() -> None:
    eng = load_profile("ENG")
    assert eng.service.served_on(date(2026, 12, 24)) == date(2026, 12, 30)  # Thu: Fri 25, Mon 28 holidays
    assert eng.service.served_on(date(2026, 12, 31)) == date(2027, 1, 5)  # Thu: Fri 1 Jan holiday, Mon 4, Tue 5


@pytest.mark.parametrize("late_days", [0, 5])
def test_a_california_delinquent_notice_counts_from_its_mailing(app, actors, clock, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                late_days: int) -> None:
    ca = load_profile("CA")
    queue_case(app, issued_at=datetime(2026, 11, 1, 18, 0, tzinfo=UTC))
    day = date(2026, 11, 24) + timedelta(days=late_days)
    text = _printed(app, actors, clock, tmp_path, day)
    window = ca.stage("delinquent_notice").contest_deadline_days  # VC 40215(a): 14 days of its mailing
    assert window == 14
    assert f"Contest by {day + timedelta(days=14):%B %-d, %Y}" in text
    dates = [datetime.strptime(m, "%B %d, %Y").date()
             for m in re.findall(rf"\b(?:{MONTHS}) \d{{1,2}}, \d{{4}}\b", text)]
    assert all(d >= day for d in dates if d > date(2026, 11, 23)), dates
