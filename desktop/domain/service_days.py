"""When a posted document counts as served, and the working days of England and Wales that decide it.

A jurisdiction profile's day counts begin at service (``desktop.domain.profiles``): California counts from the
mailing itself; England takes a document sent by first-class post as served on the second working day after
posting (the service-by-post rule of the Civil Enforcement of Parking Contraventions (England) General
Regulations 2007, carried into the 2022 regulations that replaced them), unless the contrary is proved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class ServiceRule:
    """When a posted document counts as served, which is where the law's day counts begin.

    ``working_days`` = 0: served on the day it is posted (California counts "after the mailing"). Otherwise
    served on the ``working_days``-th working day after the day of posting (England: the second; a working
    day is not a Saturday, Sunday or bank holiday in England and Wales, ``non_working_days`` adds the
    one-off holidays a proclamation creates).
    """

    working_days: int = 0
    non_working_days: tuple[date, ...] = ()
    legal_basis: str = ""

    def served_on(self, posted_on: date) -> date:
        """The day a document posted on `posted_on` is taken to have been served."""
        day, left = posted_on, self.working_days
        while left > 0:
            day += timedelta(days=1)
            if is_working_day(day, self.non_working_days):
                left -= 1
        return day


def _easter(year: int) -> date:
    """Easter Sunday (Gregorian; the anonymous algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    last = (date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
    return last - timedelta(days=last.weekday())


def bank_holidays_england(year: int) -> frozenset[date]:
    """The regular bank holidays of England and Wales (Banking and Financial Dealings Act 1971, Sch. 1, and
    the royal proclamations that fix New Year's Day and the May and August Mondays): New Year's Day (or the
    Monday after), Good Friday, Easter Monday, the first and last Mondays of May, the last Monday of August,
    Christmas Day and Boxing Day (moved to the next weekdays when they fall at a weekend)."""
    easter = _easter(year)
    new_year = _monday_on_or_after(date(year, 1, 1)) if date(year, 1, 1).weekday() >= 5 else date(year, 1, 1)
    christmas, boxing = date(year, 12, 25), date(year, 12, 26)
    if christmas.weekday() == 5:  # Saturday: Monday and Tuesday
        christmas, boxing = date(year, 12, 27), date(year, 12, 28)
    elif christmas.weekday() == 6:  # Sunday: Boxing Day Monday, Christmas substitute Tuesday
        christmas, boxing = date(year, 12, 27), date(year, 12, 26)
    elif boxing.weekday() == 5:  # Friday Christmas, Saturday Boxing Day: Monday
        boxing = date(year, 12, 28)
    return frozenset({new_year, easter - timedelta(days=2), easter + timedelta(days=1),
                      _monday_on_or_after(date(year, 5, 1)), _last_monday(year, 5), _last_monday(year, 8),
                      christmas, boxing})


def is_working_day(day: date, extra: Sequence[date] = ()) -> bool:
    """Not a Saturday, Sunday, bank holiday in England and Wales, or one of `extra`."""
    return day.weekday() < 5 and day not in bank_holidays_england(day.year) and day not in extra
