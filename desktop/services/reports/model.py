"""What a management report is asked for (a period and a filter) and what it answers (a chart, its tables and a
few sentences), shared by the screens, the printed report, the spreadsheet and the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from desktop.domain.errors import UserError
from reports.data import ChartData, ReportTable

#: how a citations report groups its rows
GROUPS = {"day": "day", "officer": "officer", "zone": "zone", "code": "violation code"}


@dataclass(frozen=True)
class ReportFilter:
    """A period (both days included, the agency's calendar) and the case filter every report applies."""

    start: date
    end: date
    zone: str = ""
    officer: str = ""  # badge
    code: str = ""  # violation code
    profile: str = ""  # jurisdiction profile code
    group: str = "day"  # the citations report only: day, officer, zone, code

    def checked(self) -> ReportFilter:
        """The filter with blanks trimmed; one sentence when the period is backwards or the grouping unknown."""
        if self.start > self.end:
            raise UserError(f"The period starts on {self.start.isoformat()}, after it ends on "
                            f"{self.end.isoformat()}: choose a 'from' day on or before the 'to' day.")
        if self.group not in GROUPS:
            raise UserError(f"Citations can be grouped by {', '.join(GROUPS)}, not '{self.group}'.")
        return ReportFilter(self.start, self.end, self.zone.strip(), self.officer.strip(), self.code.strip().upper(),
                            self.profile.strip().upper(), self.group)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as UTC instants [first moment, moment after the last day)."""
        first = datetime.combine(self.start, time(), tz).astimezone(UTC)
        after = datetime.combine(self.end + timedelta(days=1), time(), tz).astimezone(UTC)
        return first, after

    def describe(self) -> str:
        """The period and the filter in words (printed under the title)."""
        parts = [f"{self.start.isoformat()} to {self.end.isoformat()}"]
        for label, value in (("zone", self.zone), ("officer", self.officer), ("violation code", self.code),
                             ("profile", self.profile)):
            if value:
                parts.append(f"{label} {value}")
        return "; ".join(parts)

    def has_case_filter(self) -> bool:
        return bool(self.zone or self.officer or self.code or self.profile)


@dataclass(frozen=True)
class ReportResult:
    """One report for one filter: its chart (None with ``empty`` when there is nothing to draw), its tables,
    summary sentences, and who/when for the printed copy."""

    key: str
    title: str
    filter: ReportFilter
    chart: ChartData | None
    tables: tuple[ReportTable, ...]
    summary: tuple[str, ...] = ()
    empty: str = ""
    timezone_name: str = "UTC"
    currency_symbol: str = "$"
    agency_name: str = ""
    made_at: datetime = field(default_factory=lambda: datetime.now(UTC))
