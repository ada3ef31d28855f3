"""Nightly backups: taken by the daily run before it changes anything (SQLite's online backup API, or pg_dump),
once a day however often the run is started, the newest `backup.nightly_keep` kept and nothing else in the
folder touched; off until an administrator sets the number; a backup that cannot be written is reported and
the run goes on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from desktop.domain.roles import Role
from desktop.persistence.backups import identify
from desktop.persistence.models import AuditEntry
from desktop.services.core import settings
from desktop.services.daily_run import run_daily
from tests.conftest import seed_users


def test_nightly_backups_are_taken_once_a_day_and_the_newest_kept(any_app, clock, tmp_path: Path) -> None:
    actors = seed_users(any_app)
    admin, supervisor = actors[Role.ADMIN], actors[Role.SUPERVISOR]
    folder = tmp_path / "nightly"
    result = run_daily(any_app, supervisor)
    assert result.other_steps[0] == "Nightly backup: off (setting backup.nightly_keep)."
    assert not folder.exists()

    settings.set_value(any_app, admin, "backup.nightly_keep", 2)
    settings.set_value(any_app, admin, "backup.nightly_dir", str(folder))
    folder.mkdir()
    (folder / "keep-me.txt").write_text("an administrator's own file")
    written = []
    for _day in range(4):
        result = run_daily(any_app, supervisor)
        assert result.other_steps[0].startswith("Nightly backup: written to ")
        written.append(Path(result.other_steps[0].split("written to ", 1)[1].split(";")[0]))
        again = run_daily(any_app, supervisor)  # started twice the same night: nothing more
        assert again.other_steps[0].startswith("Nightly backup: tonight's is there already")
        clock.now += timedelta(days=1)
    ext = "sqlite3" if any_app.db.is_sqlite else "pgdump"
    assert [p.name for p in written] == [f"curbdesk-nightly-2026112{d}.{ext}" for d in (4, 5, 6, 7)]
    assert sorted(p.name for p in folder.iterdir()) == sorted([written[2].name, written[3].name, "keep-me.txt"])
    assert identify(written[3]).kind == ("sqlite" if ext == "sqlite3" else "pgdump")  # a backup restore takes
    with any_app.db.reading() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "database.backed_up")).all()
    assert len(entries) == 4 and all(e.after["nightly"] for e in entries)
    assert entries[-1].username == "system:daily-run by supervisor"
    assert entries[2].after["removed"] == [written[0].name]


def test_a_nightly_backup_that_cannot_be_written_is_reported_and_the_run_goes_on(app, clock, tmp_path) -> None:
    actors = seed_users(app)
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("x")
    settings.set_value(app, actors[Role.ADMIN], "backup.nightly_keep", 3)
    settings.set_value(app, actors[Role.ADMIN], "backup.nightly_dir", str(not_a_folder))
    result = run_daily(app, actors[Role.SUPERVISOR])
    assert result.other_steps[0].startswith("Nightly backup FAILED: Cannot write a backup in")
    assert result.as_of == clock.now.date()  # the escalation ran
    assert any(line.startswith("Audit checkpoint") for line in result.other_steps)
