"""The daily run as the agency runs it: ``main.py escalate`` from process start to exit, on a throw-away copy of
an office (SQLite or PostgreSQL), its first day and then the same day again (a settled day).

    python -m tests.benchmarks.daily_run_command URL --data-dir DIR [--old-tree PATH] [--password PW]

The office is copied first (PostgreSQL: ``CREATE DATABASE … TEMPLATE``, so nothing may be connected to it;
SQLite: the file), with its data folder (the audit key, the evidence store), and the copies are removed at the
end. ``--old-tree`` (a checkout of earlier code, e.g. ``git worktree add /tmp/old REV``) runs the same two days
with that code on a second copy, first, as the baseline of the same run. Each run reports its wall time, the
report's lines of each step (the escalation's own seconds, print copies, plate photos, the audit checkpoint) and
the load average before it; one JSON line on stdout. The command signs in as ``admin`` (the demo office's
password unless ``--password``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STEPS = ("Daily escalation", "Print copies", "Plate photos", "Audit checkpoint", "Nightly backup")


def _copy_office(url: str, data_dir: Path, into: Path) -> tuple[str, Path, Any]:
    """A copy of the office's database and data folder; returns its URL, data folder and a function removing it."""
    data = into / f"data-{uuid.uuid4().hex[:6]}"
    shutil.copytree(data_dir, data)
    if url.startswith("sqlite"):
        source = Path(url.split(":///", 1)[1])
        target = data / f"copy-{source.name}"
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)  # (a consistent copy, with what is still in the write-ahead log)
        return f"sqlite:///{target}", data, lambda: shutil.rmtree(data, ignore_errors=True)
    import psycopg

    base, name = url.rsplit("/", 1)
    copy = f"curbdesk_daily_{uuid.uuid4().hex[:8]}"
    admin = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        shutil.rmtree(data, ignore_errors=True)

    return f"{base}/{copy}", data, drop


def _run(tree: Path, url: str, data: Path, password: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("CURBDESK_TOKEN", "CURBDESK_USER")}
    env["CURBDESK_PASSWORD"] = password
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(tree / "main.py"), "--db", url, "--data-dir", str(data), "--as", "admin",
                           "escalate"], capture_output=True, text=True, env=env, cwd=tree, timeout=7200)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 3):  # 3: some open cases have no next action (said on stderr)
        raise SystemExit(f"main.py escalate failed ({done.returncode}): {done.stderr[-2000:]}")
    lines = done.stdout.splitlines()
    steps = {step: next((ln for ln in lines if ln.startswith(step)), "") for step in STEPS}
    return {"seconds": round(seconds, 1), "load_before": load, "steps": steps}


def measure(url: str, data_dir: Path, password: str, old_tree: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {"db": url.split(":", 1)[0]}
    trees = ([("previous code", old_tree)] if old_tree is not None else []) + [("this code", ROOT)]
    with tempfile.TemporaryDirectory(prefix="curbdesk-daily-") as tmp:
        for label, tree in trees:
            copy, data, remove = _copy_office(url, data_dir, Path(tmp))
            try:
                out[label] = {"first day": _run(tree, copy, data, password),
                              "settled day": _run(tree, copy, data, password)}
            finally:
                remove()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--data-dir", required=True, type=Path, help="the office's data folder (its audit key)")
    parser.add_argument("--old-tree", type=Path, help="a checkout of the code to compare against")
    parser.add_argument("--password", default="curbdesk-admin", help="the admin account's password")
    args = parser.parse_args()
    print(json.dumps(measure(args.url, args.data_dir, args.password, args.old_tree)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
