"""The daily run's report reads like a clerk's list: one finding a line, counts in words that agree."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from desktop.domain.roles import Role
from desktop.services.daily_run import run_daily
from tests.helpers.casework import add_owner, at_local
from tests.helpers.factories import add_citation

LA = ZoneInfo("America/Los_Angeles")


def test_daily_report_has_one_finding_a_line_and_agreeing_counts(app, actors, clock) -> None:  # type: ignore[no-untyped-def]
    add_owner(app, "7ABC123", "GARCIA, MARIA")
    add_citation(app, plate="7ABC123", number="HH0001-000777", issued_at=datetime(2026, 9, 1, 10, tzinfo=LA))
    clock.now = at_local(date(2026, 9, 22), "CA", 6)
    lines = run_daily(app, actors[Role.SUPERVISOR], date(2026, 9, 22)).lines()
    assert "  1 penalty posted ($63.00)" in lines, lines
    assert any(ln.startswith("  1 case reached ") for ln in lines), lines
    assert "  1 notice queued for mailing, 0 held for a clerk" in lines, lines
    assert any(ln.startswith("Appeal deadlines: 0 open appeals checked") for ln in lines), lines
    assert any(ln.startswith("Payment plans: 0 current payment plan(s) checked") for ln in lines), lines


def test_penalty_totals_are_given_per_currency() -> None:
    from desktop.services.cases.escalation import EscalationResult

    result = EscalationResult(date(2026, 12, 20), penalties=3, penalties_cents=13_300,
                              penalties_by_currency={"USD": 6_300, "GBP": 7_000})
    assert "  3 penalties posted (£70.00 + $63.00)" in result.lines()
