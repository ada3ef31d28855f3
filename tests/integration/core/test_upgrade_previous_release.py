"""A populated office made by the previous release (schema casework_0002: ``main.py demo --citations 300`` run
at commit b85a976) upgrades to the newest schema with every row kept.

SQLite rebuilds a table to change it, which its foreign keys refuse while the ledger references the payments;
the first upgrade of this round failed exactly so on a real office (``FOREIGN KEY constraint failed``,
``DROP TABLE payments``) while every test on an empty database passed.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path

from desktop.persistence.db import Database
from desktop.persistence.migrate import current_revision, head_revision, upgrade

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "office-casework_0002.sqlite3.gz"
TABLES = ("citations", "payments", "ledger_entries", "notices", "appeals", "users", "audit_log")


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _balances(path: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT citation_id, sum(amount_cents) FROM ledger_entries GROUP BY citation_id "
                            "ORDER BY citation_id").fetchall()


def test_a_populated_previous_release_office_upgrades_with_every_row_kept(tmp_path: Path) -> None:
    path = tmp_path / "curbdesk.sqlite3"
    with gzip.open(FIXTURE) as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    before, balances = _counts(path), _balances(path)
    assert before["payments"] > 100 and before["ledger_entries"] > 400
    db = Database(f"sqlite:///{path}")
    try:
        assert current_revision(db) == "casework_0002"
        backup = upgrade(db, backup_dir=tmp_path / "backups")
        assert current_revision(db) == head_revision(db)
    finally:
        db.dispose()
    assert backup is not None and Path(backup).exists()  # a backup is taken before migrating
    assert _counts(path) == before
    assert _balances(path) == balances
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        keyed = conn.execute("SELECT count(*) FROM payments WHERE identity_key IS NOT NULL").fetchone()[0]
    assert keyed > 0  # the bank payments got their identity from the bank's own identifiers
