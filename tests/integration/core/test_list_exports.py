"""Lists out (issue 16, point 4): any list to PDF, XLSX and CSV, with its filter, typed cells, formula
cells neutralised, Cancel leaving no file, and the screen's permission enforced in the service."""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry
from desktop.services.cases.queries import CaseFilter
from desktop.services.core import exports
from desktop.services.core.context import Actor, AppContext
from desktop.services.lists import export_list
from reports.data import ColumnKind, TableColumn, TableData
from tests.conftest import PASSWORDS
from tests.helpers.factories import add_citation
from tests.helpers.signed_in import signed_in


def _table(n_cols: int = 4) -> TableData:
    cols = (TableColumn("Citation"), TableColumn("Balance", ColumnKind.MONEY), TableColumn("Due", ColumnKind.DATE),
            TableColumn("Count", ColumnKind.INT))[:n_cols]
    return TableData("Test list", "status Open", cols, "Casey (clerk)", datetime(2026, 11, 24, 18, tzinfo=UTC),
                     "America/Los_Angeles", "City of Test")


def _sheet_cells(path: Path) -> dict[str, tuple[str | None, str]]:
    """cell ref -> (type attribute, raw value) of the first sheet (t=None means a number)."""
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    cells = {}
    for m in re.finditer(r'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>(.*?)</c>)', xml):
        ref, attrs, body = m.group(1), m.group(2), m.group(3) or ""
        t = re.search(r't="(\w+)"', attrs)
        v = re.search(r"<v>(.*?)</v>", body) or re.search(r"<t[^>]*>(.*?)</t>", body)
        cells[ref] = (t.group(1) if t else None, v.group(1) if v else "")
    return cells


def test_csv_neutralises_formula_cells_and_keeps_numbers(app: AppContext, tmp_path: Path) -> None:
    rows = [("=HYPERLINK(\"http://x\")", -1250, date(2026, 12, 1), 3), ("+1-555", 9400, None, 0),
            ("@SUM(A1)", 0, None, 1), ("-2+3", 1, None, 2)]
    out = tmp_path / "l.csv"
    result = exports.export_table(app, _table(), iter(rows), out)
    assert result.rows == 4 and result.format == "csv"
    got = list(csv.reader(out.open(encoding="utf-8")))
    assert got[0] == ["Citation", "Balance", "Due", "Count"]
    # OWASP CSV injection: every text cell starting with = + - @ is quoted with a leading apostrophe
    assert [r[0] for r in got[1:]] == ["'=HYPERLINK(\"http://x\")", "'+1-555", "'@SUM(A1)", "'-2+3"]
    assert got[1][1:] == ["-12.50", "2026-12-01", "3"]  # a negative amount stays a number
    assert got[2][1] == "94.00"


def test_xlsx_cells_are_real_numbers_dates_and_text(app: AppContext, tmp_path: Path) -> None:
    out = tmp_path / "l.xlsx"
    exports.export_table(app, _table(), iter([("=1+1", 9400, date(2026, 12, 1), 7)]), out)
    cells = _sheet_cells(out)
    # header rows: title, filter, who/when, blank, then the column titles on row 5; the data on row 6
    assert cells["A6"][0] in ("s", "str", "inlineStr")  # the formula-looking text is text, not a formula
    assert "<f>" not in zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    assert cells["B6"] == (None, "94")  # money: a number cell (with a currency format), not text
    assert cells["C6"][0] is None and float(cells["C6"][1]) == 46357.0  # 2026-12-01 as an Excel date serial
    assert cells["D6"] == (None, "7")


def test_pdf_has_filter_user_time_and_page_numbers(app: AppContext, tmp_path: Path) -> None:
    out = tmp_path / "l.pdf"
    rows = ((f"C{i:05d}", i, None, i) for i in range(120))  # a generator: read once
    assert exports.export_table(app, _table(), rows, out).rows == 120
    reader = PdfReader(out)
    pages = len(reader.pages)
    assert pages > 1
    first = reader.pages[0].extract_text()
    assert "Filter: status Open" in first and "Printed by Casey (clerk) on 2026-11-24 10:00 PST" in first
    # "of N" is a form drawn after the last page: every page shows the same, right, total
    for number, page in enumerate(reader.pages, 1):
        assert re.search(rf"Page {number} of\s*{pages}\b", page.extract_text()), page.extract_text()[-80:]
    assert "120 rows" in reader.pages[-1].extract_text()


def test_cancel_leaves_no_file_and_keeps_an_older_one(app: AppContext, tmp_path: Path) -> None:
    for ext in ("pdf", "xlsx", "csv"):
        out = tmp_path / f"l.{ext}"
        out.write_text("the earlier export")
        asked: list[int] = []
        rows = ((f"C{i}", i, None, i) for i in range(1000))
        with pytest.raises(exports.ExportCancelled):
            exports.export_table(app, _table(), rows, out, cancel=lambda asked=asked: asked.append(1) is None)
        assert asked and out.read_text() == "the earlier export"
        assert [p.name for p in tmp_path.iterdir() if ".partial" in p.name] == []


def test_a_wrong_extension_is_one_sentence(app: AppContext, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"name the file \.pdf \(to print\), \.xlsx"):
        exports.export_table(app, _table(), iter([]), tmp_path / "l.docx")


def test_case_list_export_is_what_the_screen_lists_and_audited(app: AppContext, actors: dict[Role, Actor],
                                                               tmp_path: Path) -> None:
    add_citation(app, plate="7ABC123", number="OPEN-1", fine_cents=6300)
    add_citation(app, plate="7ABC124", number="PAID-1", status="paid")
    clerk = actors[Role.CLERK]
    out = tmp_path / "open.csv"
    result = export_list(app, clerk, "cases", CaseFilter(statuses=("open",)), out)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert result.rows == 1 and rows[1][0] == "OPEN-1" and rows[1][7] == "63.00"
    with app.db.read_session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "list.exported")).one()
    assert entry.username == clerk.username and entry.after["rows"] == 1
    assert entry.after["filter"].startswith("status Open")


def test_what_a_role_cannot_see_it_cannot_export(app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    add_citation(app, status="pending_review", number="REV-1")
    out = tmp_path / "queue.xlsx"
    with pytest.raises(PermissionDenied, match="may not review citations"):
        export_list(app, actors[Role.MAIL_OFFICE], "review-queue", None, out)
    assert not out.exists()
    assert export_list(app, actors[Role.CLERK], "review-queue", None, out).rows == 1


def test_export_command_writes_a_work_list(app: AppContext, actors: dict[Role, Actor], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    add_citation(app, number="OPEN-2")
    out = tmp_path / "open.pdf"
    main = signed_in(monkeypatch, {r.value: p for r, p in PASSWORDS.items()})
    code = main(["--db", app.db.engine.url.render_as_string(hide_password=False), "--data-dir", str(app.paths.data_dir),
                 "--as", "clerk", "export", "cases", "--status", "open", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "1 rows written" in capsys.readouterr().out
    assert "Filter: status Open" in PdfReader(out).pages[0].extract_text()


def test_an_office_taking_pounds_prints_and_exports_its_lists_in_pounds(app: AppContext, actors: dict[Role, Actor],
                                                                       tmp_path: Path) -> None:
    """The printed list's money and the spreadsheet's currency format follow the office's currency."""
    from desktop.services.core import settings

    add_citation(app, plate="7ABC123", number="OPEN-1", fine_cents=6300)
    settings.set_value(app, actors[Role.ADMIN], "agency.currency", "GBP")
    clerk = actors[Role.CLERK]
    pdf = tmp_path / "open.pdf"
    export_list(app, clerk, "cases", CaseFilter(statuses=("open",)), pdf)
    printed = PdfReader(pdf).pages[0].extract_text()
    assert "£63.00" in printed and "$" not in printed
    sheet = tmp_path / "open.xlsx"
    export_list(app, clerk, "payment-list", None, sheet)
    styles = zipfile.ZipFile(sheet).read("xl/styles.xml").decode()
    assert "£" in styles and "$" not in styles  # the money columns' number format
