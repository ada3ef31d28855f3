"""The payments commands: import payments, export payments and gl, plans check, reconcile; the shared
`import`/`export` groups; one-line errors."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from desktop.cli import build_parser
from desktop.demo.payments import Bai2Item, build_bai2
from tests.helpers.signed_in import ADMIN_PASSWORD, new_office, signed_in


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CURBDESK_DB", raising=False)
    new_office(tmp_path / "data")
    main = signed_in(monkeypatch, {"admin": ADMIN_PASSWORD})
    return lambda *args: main(list(args))


def test_import_and_export_groups_are_shared() -> None:
    parser = build_parser()
    args = parser.parse_args(["export", "citations", "--out", "x.csv"])
    assert args.export_kind == "citations"
    args = parser.parse_args(["export", "gl", "--date", "2026-11-24", "--out", "gl.csv"])
    assert args.export_kind == "gl"
    args = parser.parse_args(["import", "payments", "a.bai2", "b.csv"])
    assert args.import_kind == "payments" and [str(f) for f in args.files] == ["a.bai2", "b.csv"]


def test_import_payments_twice_then_export(cli, capsys, tmp_path: Path, bank_files: Path) -> None:
    statement = tmp_path / "bank.bai2"
    statement.write_bytes(build_bai2([Bai2Item("142", 6300, "CIT X-1", "B1"), Bai2Item("142", 100, "Y", "B2")],
                                     date(2026, 11, 24)))
    assert cli("import", "payments", str(statement), str(bank_files / "lockbox_fundersclub/test_lockbox.bai")) == 0
    out = capsys.readouterr().out
    assert "bank.bai2 (bai2): 2 payment(s) for $64.00" in out and "test_lockbox.bai (lockbox): 1 payment(s)" in out
    assert cli("import", "payments", str(statement)) == 0
    assert "already imported" in capsys.readouterr().out
    target = tmp_path / "p.csv"
    assert cli("export", "payments", "--out", str(target)) == 0
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == 3 and {r["status"] for r in rows} == {"unmatched"}


def test_rejected_file_is_one_line_and_exit_2(cli, capsys, bank_files: Path, tmp_path: Path) -> None:
    good = tmp_path / "ok.bai2"
    good.write_bytes(build_bai2([Bai2Item("142", 500, "Z", "B1")], date(2026, 11, 24)))
    code = cli("import", "payments", str(bank_files / "bai2_moov/sample-parseError.txt"), str(good))
    assert code == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: sample-parseError.txt: line 1: record type 00")
    assert "ok.bai2 (bai2): 1 payment(s)" in captured.out


def test_gl_plans_and_reconcile_commands(cli, capsys, tmp_path: Path) -> None:
    statement = tmp_path / "bank.bai2"
    statement.write_bytes(build_bai2([Bai2Item("142", 6300, "CIT X-1", "B1")], date(2026, 11, 24)))
    assert cli("import", "payments", str(statement)) == 0
    gl = tmp_path / "gl.csv"
    assert cli("export", "gl", "--date", "2026-11-24", "--out", str(gl)) == 0
    assert "debits = credits = $63.00" in capsys.readouterr().out
    rows = list(csv.DictReader(gl.open()))
    assert {(r["account"], r["debit_cents"], r["credit_cents"]) for r in rows} == {("1020", "6300", "0"),
                                                                                   ("2100", "0", "6300")}
    assert cli("plans", "check", "--as-of", "2026-12-01") == 0
    assert "0 current payment plan(s) checked as of 2026-12-01" in capsys.readouterr().out
    assert cli("payments", "reconcile", "--date", "2026-11-24") == 0
    out = capsys.readouterr().out
    assert "[unmatched]" in out and "[missing_file] No lockbox file" in out
    assert cli("payments", "overpayments") == 0
    assert cli("export", "gl", "--date", "24/11/2026", "--out", str(gl)) == 2
    assert "is not a date" in capsys.readouterr().err


def test_counter_payment_overpaid_needs_the_confirm_flag(cli, capsys, tmp_path: Path) -> None:
    """`payments counter`: $200 on a $94 balance is refused in one line naming the $106 refund and the flag;
    with --confirm-refund 106.00 it posts, the $106 in the refund queue."""
    from desktop.bootstrap import make_app_context
    from desktop.paths import AppPaths
    from desktop.persistence.db import Database
    from tests.helpers.factories import add_citation
    from tests.integration.payments.conftest import ledger_balance

    paths = AppPaths(tmp_path / "data")
    db = Database(paths.default_db_url)
    app = make_app_context(db, paths)
    cid = add_citation(app, number="CLI-00094", fine_cents=9400)
    assert cli("payments", "counter", "CLI-00094", "--amount", "200.00", "--method", "cash") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "$106.00" in err[0] and "--confirm-refund 106.00" in err[0]
    assert ledger_balance(app, cid) == 9400
    assert cli("payments", "counter", "CLI-00094", "--amount", "200.00", "--method", "cash",
               "--confirm-refund", "106.00") == 0
    assert "$106.00 overpaid is in the refund queue" in capsys.readouterr().out
    assert ledger_balance(app, cid) == -10600
    db.dispose()


def test_an_office_in_pounds_reads_pounds_from_every_payments_command(cli, capsys, tmp_path: Path) -> None:
    """`payments counter`, `payments reconcile`, `import payments` and `export gl` in an office whose
    agency.currency is GBP: every amount in pounds, none in dollars."""
    from desktop.bootstrap import make_app_context
    from desktop.paths import AppPaths
    from desktop.persistence.db import Database
    from desktop.services.admin import users
    from desktop.services.core import settings
    from desktop.services.core.clock import agency_date
    from tests.helpers.factories import add_citation

    paths = AppPaths(tmp_path / "data")
    db = Database(paths.default_db_url)
    app = make_app_context(db, paths)
    settings.set_value(app, users.actor_for(app, "admin"), "agency.currency", "GBP")
    add_citation(app, number="CLI-00070", plate="LB07CLI", jurisdiction="GB", profile_code="ENG", profile_version=1,
                 fine_cents=7000)
    with db.reading() as s:
        day = agency_date(s, app.now())  # the business day the counter posts on
    db.dispose()
    assert cli("payments", "counter", "CLI-00070", "--amount", "200.00", "--method", "cash") == 2
    err = capsys.readouterr().err
    assert "£130.00" in err and "--confirm-refund 130.00" in err and "$" not in err
    assert cli("payments", "counter", "CLI-00070", "--amount", "200.00", "--method", "cash",
               "--confirm-refund", "130.00") == 0
    out = capsys.readouterr().out
    assert "Payment of £200.00 posted" in out and "£130.00 overpaid is in the refund queue" in out
    statement = tmp_path / "bank.bai2"
    statement.write_bytes(build_bai2([Bai2Item("142", 4100, "NO IDEA", "B1")], day).replace(b",USD,", b",GBP,"))
    assert cli("import", "payments", str(statement)) == 0
    assert "1 payment(s) for £41.00" in capsys.readouterr().out
    assert cli("payments", "reconcile", "--date", day.isoformat()) == 0
    out = capsys.readouterr().out
    assert f"Daily close for {day.isoformat()}: £241.00 received" in out and "drawer of Ada Admin" in out
    assert "£" in out and "$" not in out
    assert cli("export", "gl", "--date", day.isoformat(), "--out", str(tmp_path / "gl.csv")) == 0
    out = capsys.readouterr().out
    assert "debits = credits = £" in out and "$" not in out
