"""The fine schedule from a file: NYC Department of Finance's real list, our own CSV with dates, all or nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.domain.errors import PermissionDenied, UserError
from desktop.domain.roles import Role
from desktop.persistence.models import ViolationCode
from desktop.services.admin.fine_schedule import import_fine_schedule
from desktop.services.core.context import AppContext


def test_the_nyc_dof_list_imports_with_its_fines_outside_manhattan(app: AppContext, actors: dict,
                                                                  shared_data: Path) -> None:
    result = import_fine_schedule(app, actors[Role.ADMIN],
                                  shared_data / "fine_schedules" / "DOF_Parking_Violation_Codes.csv", date(2026, 1, 1))
    assert result.codes == result.added > 80
    with app.db.reading() as s:
        code_10 = s.scalars(select(ViolationCode).where(ViolationCode.code == "10")).one()
    assert code_10.fine_cents == 115_00 and code_10.description.startswith("Stopping, standing or parking")
    assert "\xa0" not in code_10.description  # the file's non-breaking spaces are folded


def test_a_new_schedule_ends_the_old_one_the_day_before(app: AppContext, actors: dict, tmp_path: Path) -> None:
    f = tmp_path / "fines.csv"
    f.write_text("code,description,fine,effective_from\n80.69BS,NO PARK/STREET CLEAN,$73.00,2025-07-01\n")
    import_fine_schedule(app, actors[Role.ADMIN], f)
    f.write_text("code,description,fine_cents,effective_from,kind\n80.69BS,NO PARK/STREET CLEAN,7800,2026-07-01,"
                 "street_cleaning\n")
    result = import_fine_schedule(app, actors[Role.ADMIN], f)
    assert (result.added, result.ended) == (1, 1)
    with app.db.reading() as s:
        rows = s.scalars(select(ViolationCode).order_by(ViolationCode.effective_from)).all()
    assert [(r.fine_cents, r.effective_from, r.effective_to) for r in rows] == [
        (7300, date(2025, 7, 1), date(2026, 6, 30)), (7800, date(2026, 7, 1), None)]


def test_any_bad_line_and_nothing_is_imported(app: AppContext, actors: dict, tmp_path: Path) -> None:
    f = tmp_path / "fines.csv"
    f.write_text("code,description,fine\nA1,ok,10\nA2,,10\nA3,bad fine,ten\nA4,x,12.345\nA1,again,11\n")
    with pytest.raises(UserError) as exc:
        import_fine_schedule(app, actors[Role.ADMIN], f)
    assert str(exc.value) == (
        "fines.csv: nothing was imported; line 3: the description is empty; line 4: the fine 'ten' is not an "
        "amount; line 5: the fine '12.345' is not a whole number of cents; line 6: the code 'A1' is already on "
        f"line 2 from {app.now().date()}")
    with app.db.reading() as s:
        assert s.scalars(select(ViolationCode)).all() == []
    with pytest.raises(PermissionDenied):
        import_fine_schedule(app, actors[Role.SUPERVISOR], f)
