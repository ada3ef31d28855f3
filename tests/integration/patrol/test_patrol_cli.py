"""main.py patrol plan / patrol actual, run as the office runs them (signed in, on the data folder's database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desktop.bootstrap import make_app_context
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.persistence.models import PatrolPlan
from desktop.services.admin import users
from tests.helpers.patrol_plan import add_shift, seed_office
from tests.helpers.signed_in import ADMIN_PASSWORD, new_office, signed_in

DAY = date(2026, 11, 20)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    data = tmp_path / "data"
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(data))
    monkeypatch.delenv("CURBDESK_DB", raising=False)
    new_office(data)
    paths = AppPaths(data)
    db = Database(paths.default_db_url)
    app = make_app_context(db, paths)
    seed_office(app)
    admin = users.login(app, "admin", ADMIN_PASSWORD)
    users.add_user(app, admin, "casey", "Casey Clerk", "clerk", "clerk-password-1")
    add_shift(app, "1001", "Z-A", DAY, "08:00", 90, vehicles=7)
    db.dispose()
    main = signed_in(monkeypatch, {"admin": ADMIN_PASSWORD, "casey": "clerk-password-1"})
    main.db_url = paths.default_db_url  # type: ignore[attr-defined]
    return main


def test_patrol_plan_makes_saves_and_prints(cli: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.pdf"
    assert cli(["patrol", "plan", "--date", DAY.isoformat(), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Made and saved the patrol plan of 2026-11-20 (version 1)." in text
    assert f"{out}: 4 beat(s), 5 zone(s), version 1." in text
    assert out.read_bytes().startswith(b"%PDF")
    # again: the saved plan is printed as it is, not made anew
    assert cli(["patrol", "plan", "--date", DAY.isoformat(), "--out", str(out)]) == 0
    assert "Made and saved" not in capsys.readouterr().out
    db = Database(cli.db_url)
    with db.reading() as s:
        assert [p.version for p in s.scalars(select(PatrolPlan))] == [1]
    db.dispose()
    # the table of plan against actual
    assert cli(["patrol", "actual", "--date", DAY.isoformat()]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "Plan of 2026-11-20, version 1: 4 beat(s), coverage 5 %"  # 1 of 20 zone visits
    assert table[1].split() == ["Badge", "Officer", "Planned", "Patrolled", "Coverage", "Missed", "Extra",
                                "Planned", "min", "Actual", "min"]
    row = next(line for line in table if line.startswith("1001"))
    assert "Officer 1001" in row and row.split()[-1] == "90"
    assert cli(["patrol", "actual", "--date", "2026-11-01", "--to", "2026-11-23"]) == 0
    period = capsys.readouterr().out.splitlines()
    assert period[0].split()[:3] == ["Badge", "Officer", "Days"] and len(period) == 6


def test_clerk_may_print_nothing_new_and_bad_dates_are_one_line(cli: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["--as", "casey", "patrol", "plan", "--date", DAY.isoformat()]) == 2
    assert "casey (clerk) may not" in capsys.readouterr().err  # refused before anything is read or made
    # clerks see the dashboard's work figures only (issue 18, point 7): not plan against actual either
    assert cli(["--as", "casey", "patrol", "actual", "--date", DAY.isoformat()]) == 2
    assert "casey (clerk) may not see the management reports" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["patrol", "plan", "--date", "20-11-2026"])
    assert "'20-11-2026' is not a date (YYYY-MM-DD)" in capsys.readouterr().err
    assert cli(["patrol", "actual", "--date", "2026-11-20", "--to", "2026-11-01"]) == 2
    assert "The period ends before it starts" in capsys.readouterr().err
