"""The 1,000,000-citation demo database the case-processing benchmarks share, built once and cached.

``main.py demo --citations 1000000`` takes several minutes; the result is kept under
``/tmp/curbdesk-bench-1m`` (or ``$CURBDESK_BENCH_DIR``) and reused by every run. Set
``CURBDESK_BENCH_CITATIONS`` for a smaller office while developing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITATIONS = int(os.environ.get("CURBDESK_BENCH_CITATIONS", "1000000"))
BENCH_DIR = Path(os.environ.get("CURBDESK_BENCH_DIR", f"/tmp/curbdesk-bench-{CITATIONS // 1000}k"))


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = 'demo.citations'").fetchone()
            return int(row[0]) if row else 0
    except sqlite3.Error:
        return 0


def demo_office() -> Path:
    """The data folder of the cached demo office with ``CITATIONS`` citations (built if missing)."""
    data = BENCH_DIR / "base"
    db = data / "curbdesk.sqlite3"
    if _count(db) < CITATIONS:
        data.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(ROOT / "main.py"), "--data-dir", str(data), "demo", "--citations",
                        str(CITATIONS)], check=True, cwd=ROOT)
    upgrade(data)
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return data


#: The demo office's administrator (README): upgrading a database is an administrator's command.
DEMO_ADMIN = {"CURBDESK_USER": "admin", "CURBDESK_PASSWORD": "curbdesk-admin"}


def upgrade(data: Path) -> None:
    """Bring a cached office's schema up to date (it may predate a migration)."""
    env = {k: v for k, v in os.environ.items() if k != "CURBDESK_TOKEN"} | DEMO_ADMIN
    subprocess.run([sys.executable, str(ROOT / "main.py"), "--data-dir", str(data), "db", "upgrade"], check=True,
                   cwd=ROOT, capture_output=True, env=env)


def copy_office(source: Path, name: str) -> Path:
    """A throw-away copy of a demo office's database (the evidence folder is shared by a symlink)."""
    target = BENCH_DIR / name
    target.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (target / f"curbdesk.sqlite3{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source / "curbdesk.sqlite3", target / "curbdesk.sqlite3")
    evidence = target / "evidence"
    if not evidence.exists():
        evidence.symlink_to(source / "evidence")
    return target
