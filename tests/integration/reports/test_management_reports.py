"""The management reports and the dashboard (issue 18): each report's figures against a small office whose
answers are counted by hand, the empty period, the backwards period, the clerk refused, the files (XLSX cells
typed, CSV, PDF rendered) and the command line."""

from __future__ import annotations

import re
import subprocess
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

from desktop import cli
from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.persistence.models import Appeal, LedgerEntry, Notice, Payment, PaymentPlan
from desktop.services.core.context import Actor, AppContext
from desktop.services.reports.catalog import run_report
from desktop.services.reports.dashboard import dashboard
from desktop.services.reports.model import ReportFilter
from desktop.services.reports.output import export_report
from tests.conftest import PASSWORDS, seed_users
from tests.helpers.factories import add_citation

UTC = timezone.utc
WEEK = ReportFilter(date(2026, 11, 9), date(2026, 11, 15))


def at(day: int, hour: int = 20, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)  # 20:00 UTC is noon in Los Angeles


@pytest.fixture
def office(app: AppContext, actors: dict[Role, Actor]) -> dict[str, int]:
    return build_office(app)


def build_office(app: AppContext) -> dict[str, int]:
    ids = {
        "A": add_citation(app, issued_at=at(10), officer_badge="1234", zone_code="Z1", approved_at=at(10, 22)),
        "B": add_citation(app, issued_at=at(10, 21), officer_badge="1234", zone_code="Z1", status="voided"),
        "C": add_citation(app, issued_at=at(12), officer_badge="5678", zone_code="Z2", fine_cents=9300,
                          violation_code="80.56E4+", approved_at=at(12, 22)),
        "D": add_citation(app, issued_at=at(12), officer_badge="5678", zone_code="Z2", status="pending_review"),
        "E": add_citation(app, issued_at=at(1, month=10), officer_badge="1234", zone_code="Z1"),
        "F": add_citation(app, issued_at=at(1, month=6), officer_badge="1234", status="in_collections"),
    }
    with app.uow(Actor.system("test")) as uow:
        uow.audit("review.void_reason", "citation", ids["B"], after={"reason_code": "DUPLICATE"}, reason="dup")
        uow.audit("citation.corrected", "citation", ids["C"], before={"plate": "X"}, after={"plate": "Y"},
                  reason="typo")
        s = uow.session
        for n, (source, method, cents, day, status) in enumerate((
                ("counter", "cash", 5000, 10, "matched"), ("processor", "card", 7000, 12, "matched"),
                ("bank", "ach", 3000, 12, "reversed"), ("counter", "cash", 999, 20, "matched"))):
            s.add(Payment(source=source, method=method, external_id=f"P{n}", amount_cents=cents, received_at=at(day),
                          value_date=date(2026, 11, day), status=status))
        s.add(LedgerEntry(citation_id=ids["A"], kind="payment", amount_cents=-2000, at=at(12),
                          effective_date=date(2026, 11, 12), dedupe_key="pay1"))
        for n, (status, mailed, returned, reason) in enumerate((
                ("mailed", at(11), None, None), ("returned", at(11), at(14), None),
                ("held", None, None, "Owner address cannot be mailed: no street line"))):
            s.add(Notice(citation_id=ids["A"] if n else ids["C"], kind="notice_of_delinquent_violation",
                         status=status, queued_at=at(9), mailed_at=mailed, returned_at=returned, hold_reason=reason,
                         dedupe_key=f"n{n}"))
        s.add(Appeal(citation_id=ids["A"], level="initial_review", channel="mail", appellant_name="R. Roe",
                     statement="x", filed_at=at(10), decide_by=date(2026, 11, 20), status="decided",
                     decision="upheld", decided_at=at(14)))
        s.add(Appeal(citation_id=ids["C"], level="initial_review", channel="web", appellant_name="J. Doe",
                     statement="y", filed_at=at(13), decide_by=date(2026, 11, 27), status="open"))
        for n, status in enumerate(("current", "defaulted", "defaulted")):
            s.add(PaymentPlan(citation_id=ids["C"], kind="instalments", monthly_cents=2000, months=3,
                              start_date=date(2026, 11, 12), schedule=[], status=status, created_at=at(12 + n)))
        uow.commit()
    return ids


def test_citations_by_day_officer_and_filtered(app, actors, office) -> None:
    sup = actors[Role.SUPERVISOR]
    r = run_report(app, sup, "citations", WEEK)
    rows = {row[0]: row[1:] for row in r.tables[0].rows}
    assert len(rows) == 7  # every day of the period, the empty ones at zero
    assert rows[date(2026, 11, 10)] == (2, 12600, 1)
    assert rows[date(2026, 11, 12)] == (2, 15600, 0)
    assert rows[date(2026, 11, 11)] == (0, 0, 0)
    assert r.chart is not None and r.chart.y_title == "Citations (count)" and sum(r.chart.series[0].values) == 4
    by_officer = run_report(app, sup, "citations", ReportFilter(WEEK.start, WEEK.end, group="officer"))
    assert [(row[0], row[1]) for row in by_officer.tables[0].rows] == [("1234", 2), ("5678", 2)]
    zone = run_report(app, sup, "citations", ReportFilter(WEEK.start, WEEK.end, zone="Z2"))
    assert sum(row[1] for row in zone.tables[0].rows) == 2


def test_review_outcomes_per_officer_with_the_reasons(app, actors, office) -> None:
    r = run_report(app, actors[Role.SUPERVISOR], "review", WEEK)
    per = {row[0]: row[1:] for row in r.tables[0].rows}
    assert per["1234"] == (1, 0, 1, 0)  # approved as issued, after correction, voided, in review
    assert per["5678"] == (0, 1, 0, 1)
    assert r.tables[1].rows == (("1234", "Duplicate of another citation", 1),)


def test_revenue_by_day_and_channel_leaves_out_reversals(app, actors, office) -> None:
    r = run_report(app, actors[Role.SUPERVISOR], "revenue", WEEK)
    assert {row[0]: row[2] for row in r.tables[0].rows} == {"Card processor": 7000, "Counter": 5000}
    assert r.tables[1].rows == ((date(2026, 11, 10), "Counter", 1, 5000), (date(2026, 11, 12), "Card processor", 1, 7000))
    assert r.chart is not None and r.chart.money and r.chart.kind == "stacked"


def test_receivables_ageing_on_the_last_day(app, actors, office) -> None:
    r = run_report(app, actors[Role.SUPERVISOR], "ageing", WEEK)
    owed = {row[0]: (row[1], row[2]) for row in r.tables[0].rows}
    assert owed == {"0-30 days": (2, 4300 + 9300), "31-60 days": (1, 6300), "61-90 days": (0, 0),
                    "Over 90 days": (0, 0), "In collections": (1, 6300)}
    assert r.summary[0].startswith("4 cases owe $262.00 in all on 2026-11-15")  # with the report's currency sign


def test_a_printed_report_wraps_its_summary_instead_of_cutting_it(app, actors, office, tmp_path) -> None:
    """The ageing summary is longer than the page is wide: every word of it is on the printed page."""
    out = export_report(app, actors[Role.SUPERVISOR], "ageing", WEEK, tmp_path / "ageing.pdf").path
    printed = " ".join(PdfReader(out).pages[0].extract_text().split())
    summary = run_report(app, actors[Role.SUPERVISOR], "ageing", WEEK).summary[0]
    assert len(summary) > 120 and summary in printed


def test_notices_appeals_and_plans(app, actors, office) -> None:
    sup = actors[Role.SUPERVISOR]
    n = run_report(app, sup, "notices", WEEK)
    assert n.tables[0].rows == (("Notice of delinquent violation", 2, 1, 0.5),)
    assert n.tables[1].rows == (("Owner address cannot be mailed", 1),)
    a = run_report(app, sup, "appeals", WEEK)
    assert {(row[0], row[1]): row[2:] for row in a.tables[0].rows} == {
        ("Initial review", "Upheld"): (1, 1, 4.0, 1.0), ("Initial review", "Pending"): (1, 0, None, None)}
    p = run_report(app, sup, "plans", WEEK)
    assert [(row[0], row[1]) for row in p.tables[0].rows] == [("In good standing", 1), ("Defaulted", 2)]


def test_an_empty_period_answers_a_sentence_and_a_backwards_one_is_refused(app, actors, office) -> None:
    sup = actors[Role.SUPERVISOR]
    for key in ("citations", "review", "revenue", "notices", "appeals", "plans"):
        r = run_report(app, sup, key, ReportFilter(date(2025, 1, 1), date(2025, 1, 7)))
        assert r.chart is None and r.empty.startswith("No ") and "January 2025" in r.empty
    assert run_report(app, sup, "citations", ReportFilter(WEEK.start, WEEK.end, officer="9999")).chart is None
    with pytest.raises(UserError, match="after it ends"):
        run_report(app, sup, "citations", ReportFilter(date(2026, 11, 15), date(2026, 11, 9)))


def test_a_clerk_is_refused_the_reports_and_sees_work_figures_only(app, actors, office) -> None:
    with pytest.raises(PermissionDenied, match="management reports"):
        run_report(app, actors[Role.CLERK], "revenue", WEEK)
    clerk = dashboard(app, actors[Role.CLERK])
    sup = dashboard(app, actors[Role.SUPERVISOR])
    assert not clerk.management and {f.key for f in clerk.figures} == {"review", "notices", "appeals"}
    assert sup.management and {f.key for f in sup.figures} == {"review", "notices", "appeals", "citations",
                                                              "payments", "sync"}
    figures = {f.key: f for f in sup.figures}
    assert figures["review"].value == "1"
    assert figures["notices"].value == "0 / 1"


def _cells(xlsx: Path, sheet: int) -> dict[str, tuple[str | None, str]]:
    """cell reference -> (type attribute, raw value) of one sheet."""
    with zipfile.ZipFile(xlsx) as z:
        xml = z.read(f"xl/worksheets/sheet{sheet}.xml").decode()
    out = {}
    for m in re.finditer(r"<c ([^>]*?)/?>(?:<v>([^<]*)</v>)?", xml):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        out[attrs["r"]] = (attrs.get("t"), m.group(2) or "")
    return out


def test_files_xlsx_typed_csv_and_pdf(app, actors, office, tmp_path) -> None:
    sup = actors[Role.SUPERVISOR]
    out = export_report(app, sup, "revenue", WEEK, tmp_path / "revenue.xlsx")
    assert out.rows == 4
    by_day = _cells(tmp_path / "revenue.xlsx", 2)
    header_row = next(int(ref[1:]) for ref, (t, _v) in by_day.items() if ref.startswith("A") and t == "s"
                      and int(ref[1:]) > 3)
    first = header_row + 1
    assert by_day[f"A{first}"][0] is None and float(by_day[f"A{first}"][1]) == 46336.0  # 2026-11-10 as a date serial
    assert by_day[f"D{first}"][0] is None and float(by_day[f"D{first}"][1]) == 50.0  # money as a number
    assert by_day[f"B{first}"][0] == "s"
    csv_out = export_report(app, sup, "revenue", WEEK, tmp_path / "revenue.csv")
    text = csv_out.path.read_text()
    assert "Channel,Payments,Amount,Share (%)" in text and "Card processor,1,70.00,58.3" in text
    assert "2026-11-10,Counter,1,50.00" in text
    pdf = export_report(app, sup, "review", WEEK, tmp_path / "review.pdf").path
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page*.png"))) == 3  # the chart, the officers, the void reasons
    empty = export_report(app, sup, "plans", ReportFilter(date(2025, 1, 1), date(2025, 1, 7)), tmp_path / "e.pdf")
    assert empty.rows == 0 and empty.path.stat().st_size > 0
    with pytest.raises(PermissionDenied):
        export_report(app, actors[Role.CLERK], "revenue", WEEK, tmp_path / "no.csv")
    assert not (tmp_path / "no.csv").exists()


def _cli(app: AppContext, monkeypatch, role: Role, *args: str) -> int:
    monkeypatch.setenv("CURBDESK_USER", role.value)
    monkeypatch.setenv("CURBDESK_PASSWORD", PASSWORDS[role])
    return cli.main(["--db", app.db.url.render_as_string(hide_password=False), "--data-dir", str(app.paths.data_dir), *args])


def test_command_line(app, actors, office, tmp_path, monkeypatch, capsys) -> None:
    out = tmp_path / "cit.csv"
    assert _cli(app, monkeypatch, Role.SUPERVISOR, "report", "citations", "--from", "2026-11-09", "--to", "2026-11-15",
                "--zone", "Z1", "--out", str(out)) == 0
    assert "2026-11-10,2,126.00,1" in out.read_text()
    assert _cli(app, monkeypatch, Role.SUPERVISOR, "report", "--list") == 0
    assert "ageing" in capsys.readouterr().out
    assert _cli(app, monkeypatch, Role.SUPERVISOR, "report", "citations", "--from", "2026-11-15", "--to",
                "2026-11-09", "--out", str(out)) == 2
    assert "after it ends" in capsys.readouterr().err
    assert _cli(app, monkeypatch, Role.CLERK, "report", "revenue", "--from", "2026-11-09", "--to", "2026-11-15",
                "--out", str(tmp_path / "clerk.csv")) == 2
    assert "may not see the management reports" in capsys.readouterr().err
    assert not (tmp_path / "clerk.csv").exists()


def test_every_report_counts_the_same_on_sqlite_and_postgresql(any_app: AppContext) -> None:
    build_office(any_app)
    sup = seed_users(any_app)[Role.SUPERVISOR]
    days = {row[0]: row[1] for row in run_report(any_app, sup, "citations", WEEK).tables[0].rows}
    assert days[date(2026, 11, 10)] == 2 and days[date(2026, 11, 12)] == 2 and sum(days.values()) == 4
    review = {row[0]: row[1:] for row in run_report(any_app, sup, "review", WEEK).tables[0].rows}
    assert review["5678"] == (0, 1, 0, 1)
    owed = {row[0]: row[2] for row in run_report(any_app, sup, "ageing", WEEK).tables[0].rows}
    assert owed["0-30 days"] == 13600 and owed["In collections"] == 6300
    assert len(run_report(any_app, sup, "revenue", WEEK).tables[1].rows) == 2
    assert run_report(any_app, sup, "notices", WEEK).tables[0].rows[0][1:3] == (2, 1)
    assert len(run_report(any_app, sup, "appeals", WEEK).tables[0].rows) == 2
    assert sum(row[1] for row in run_report(any_app, sup, "plans", WEEK).tables[0].rows) == 3
    assert len(dashboard(any_app, sup).figures) == 6


def test_an_office_taking_pounds_reads_its_reports_in_pounds(app, actors, office, tmp_path) -> None:
    """The summary sentences, the chart's axis, the tables as shown and the files: all in the office's currency."""
    from desktop.services.core import settings

    settings.set_value(app, actors[Role.ADMIN], "agency.currency", "GBP")
    sup = actors[Role.SUPERVISOR]
    revenue = run_report(app, sup, "revenue", WEEK)
    assert revenue.currency_symbol == "£"
    assert revenue.chart is not None and revenue.chart.y_title == "Amount received (£)"
    assert "£120.00 received" in revenue.summary[0]
    ageing = run_report(app, sup, "ageing", WEEK)
    assert ageing.summary[0].startswith("4 cases owe £262.00 in all")
    assert ageing.chart is not None and ageing.chart.y_title == "Amount owed (£)"
    printed = " ".join(PdfReader(export_report(app, sup, "revenue", WEEK, tmp_path / "r.pdf").path)
                       .pages[0].extract_text().split())
    assert "£120.00" in printed and "$" not in printed
