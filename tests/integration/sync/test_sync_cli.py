"""The field sync commands: sync, import-bundle, devices add/list, export quarantine; and a sync killed with -9."""

from __future__ import annotations

import csv
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desktop.bootstrap import make_app_context
from desktop.demo.simulator import FieldSimulator
from desktop.paths import AppPaths
from desktop.persistence.db import Database
from desktop.services.admin import tokens, users
from tests.helpers.signed_in import ADMIN_PASSWORD, new_office, signed_in

ROOT = Path(__file__).resolve().parents[3]
Factory = Callable[..., FieldSimulator]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CURBDESK_DB", raising=False)
    monkeypatch.delenv("CURBDESK_SYNC_TOKEN", raising=False)
    new_office(tmp_path / "data")
    main = signed_in(monkeypatch, {"admin": ADMIN_PASSWORD})

    def run(*args: str) -> int:
        return main(list(args))

    run.db = tmp_path / "data" / "curbdesk.sqlite3"  # type: ignore[attr-defined]
    return run


def _sync_token(data: Path) -> str:
    """An API token of scope `sync` for the office's administrator, as a scheduled sync job would hold."""
    paths = AppPaths(data)
    db = Database(paths.default_db_url)
    try:
        app = make_app_context(db, paths)
        return tokens.issue(app, users.login(app, "admin", ADMIN_PASSWORD), "admin", "sync", days=1)[1]
    finally:
        db.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sync_prints_one_line_and_exits_0(cli: Any, capsys: Any, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=12, malformed_events=2)
    assert cli("sync", "--endpoint", sim.base_url, "--token", sim.token) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "12 citations" in out[0] and "2 quarantined" in out[0] and "duplicates ignored" in out[0]
    assert cli("sync", "--endpoint", sim.base_url + "/", "--token", sim.token) == 0
    assert "0 events" in capsys.readouterr().out
    with sqlite3.connect(cli.db) as c:
        assert c.execute("select count(*) from citations").fetchone()[0] == 12
        assert c.execute("select count(*) from sync_endpoints").fetchone()[0] == 1


def test_sync_token_from_the_environment(cli: Any, capsys: Any, simulator_factory: Factory,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    sim = simulator_factory(citations=2)
    monkeypatch.setenv("CURBDESK_SYNC_TOKEN", sim.token)
    assert cli("sync", "--endpoint", sim.base_url) == 0
    assert "2 citations" in capsys.readouterr().out


def test_sync_failures_are_one_clear_line(cli: Any, capsys: Any, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=2)
    assert cli("sync", "--endpoint", sim.base_url, "--token", "wrong") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "refused the token (401)" in err[0]
    port = _free_port()
    assert cli("sync", "--endpoint", f"http://127.0.0.1:{port}", "--token", "t", "--retries", "0") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"Could not reach the endpoint at 127.0.0.1:{port}: connection refused." in err[0]
    assert cli("sync", "--endpoint", "http://gw.example.org", "--token", "t") == 2
    assert "Plain http is only allowed" in capsys.readouterr().err
    assert cli("sync", "--endpoint", sim.base_url) == 2
    assert "No token for the endpoint" in capsys.readouterr().err
    assert cli("sync", "--endpoint", sim.base_url, "--token", sim.token, "--helper-process-from", "-1") == 2
    assert "--helper-process-from is a number of events" in capsys.readouterr().err


def test_sync_failure_midway_keeps_what_was_committed(cli: Any, capsys: Any, simulator_factory: Factory) -> None:
    sim = simulator_factory(citations=20)
    original = sim.page
    calls = [0]

    def flaky(after: str | None, limit: int) -> dict[str, Any]:
        calls[0] += 1
        if calls[0] == 2:
            sim.queue_fault("500", count=5, path_prefix="/v1/events")
        return original(after, limit)

    sim.page = flaky  # type: ignore[method-assign]
    assert cli("sync", "--endpoint", sim.base_url, "--token", sim.token, "--limit", "6", "--retries", "1") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "500" in err[0] and "Kept what was committed before: 12 events" in err[0]
    with sqlite3.connect(cli.db) as c:
        assert c.execute("select count(*) from field_events").fetchone()[0] == 12
    sim._queued.clear()
    assert cli("sync", "--endpoint", sim.base_url, "--token", sim.token) == 0
    with sqlite3.connect(cli.db) as c:
        numbers = [r[0] for r in c.execute("select citation_number from citations")]
    assert sorted(numbers) == sorted(sim.valid_citation_numbers)


def test_devices_add_list_and_export_quarantine(cli: Any, capsys: Any, simulator_factory: Factory,
                                                tmp_path: Path) -> None:
    sim = simulator_factory(citations=6, devices=2, sign_events=True, forged_signatures=1, malformed_events=1)
    key = sim.device_keys["HH-0001"]
    assert cli("devices", "add", "HH-0001", "--public-key", key, "--officer", "4321") == 0
    assert "registered with key" in capsys.readouterr().out
    assert cli("devices", "add", "HH-0002", "--public-key", "not base64!") == 2
    assert "not a valid Ed25519 public key" in capsys.readouterr().err
    assert cli("devices", "list") == 0
    listing = capsys.readouterr().out
    assert "HH-0001" in listing and "signed" in listing and "4321" in listing
    assert cli("sync", "--endpoint", sim.base_url, "--token", sim.token) == 0
    capsys.readouterr()
    assert cli("devices", "list") == 0
    listing = capsys.readouterr().out.splitlines()
    # the endpoint says who carries each handheld now
    assert listing[0].startswith("HH-0001") and sim.devices[0].officer_badge in listing[0] and " signed" in listing[0]
    assert listing[1].startswith("HH-0002") and "unsigned" in listing[1]
    out = tmp_path / "quarantine.csv"
    assert cli("export", "quarantine", "--out", str(out)) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {"event_id", "device_id", "type", "reason", "received_at"} <= set(rows[0])
    assert any(r["reason"].startswith("signature:") for r in rows) == bool(
        sim.forged_event_ids & {e["event_id"] for e in sim.device_events["HH-0001"] if isinstance(e, dict)})
    assert len(rows) >= 1


def test_import_bundle_command(cli: Any, capsys: Any, tmp_path: Path) -> None:
    sim = FieldSimulator(devices=2, citations=6, photo_size=(48, 36))
    paths = sim.write_bundles(tmp_path / "b")
    bad = tmp_path / "b" / "HH-0009-20261124T000000Z.zip"
    bad.write_bytes(b"not a zip")
    for device_id in sim.device_keys:  # the office's handhelds (registered without their keys: unsigned events)
        assert cli("devices", "add", device_id) == 0
    capsys.readouterr()
    assert cli("import-bundle", *map(str, paths), str(bad)) == 2
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 2 and all("citations" in line for line in lines)
    assert "error: Dock bundle HH-0009-20261124T000000Z.zip was rejected" in captured.err
    assert cli("import-bundle", *map(str, paths)) == 0
    assert capsys.readouterr().out.count("already imported, nothing new") == 2


# --------------------------------------------------------------------------- kill -9


def _count(db: Path, table: str) -> int:
    """Rows in a table (0 while the database or its schema does not exist yet: a kill may come that early)."""
    if not db.exists():
        return 0
    with sqlite3.connect(db) as c:
        try:
            return int(c.execute(f"select count(*) from {table}").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("helper", ["one process", "helper process"])
def test_a_sync_killed_with_sigkill_loses_and_duplicates_nothing(tmp_path: Path, simulator_factory: Factory,
                                                                 helper: str) -> None:
    """Run `main.py sync` as a real process, kill -9 it at random moments, then sync to the end (also with the
    events fetched and checked on its helper process, which then loses its parent)."""
    sim = simulator_factory(seed=21, devices=4, citations=100, photo_size=(200, 150), drop_probability=0.03,
                            repeat_probability=0.2, malformed_events=3, conflicting_duplicates=1)
    data = tmp_path / "data"
    command = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data), "sync", "--endpoint", sim.base_url,
               "--token", sim.token, "--limit", "10"]
    if helper == "helper process":
        command += ["--helper-process-from", "0"]
    new_office(data)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CURBDESK_TOKEN": _sync_token(data)}
    env.pop("CURBDESK_DB", None)
    rnd = random.Random(4)
    kills = 0
    db = data / "curbdesk.sqlite3"
    progress = []
    for _ in range(5):
        before = _count(db, "field_events")
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # let it get going (start-up and the first commit), then kill it at a random moment of the sync
        started = time.monotonic()
        while proc.poll() is None and _count(db, "field_events") == before and time.monotonic() - started < 60:
            time.sleep(0.02)
        deadline = time.monotonic() + rnd.uniform(0.0, 2.5)
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=60)
        progress.append(_count(db, "field_events"))
    assert kills >= 2, "the sync finished before it could be killed: make the fleet bigger"
    done = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "citations" in done.stdout
    with sqlite3.connect(db) as c:
        numbers = [r[0] for r in c.execute("select citation_number from citations")]
        events = c.execute("select count(*), count(distinct event_id) from field_events").fetchone()
        pending = c.execute("select count(*) from evidence_photos where integrity != 'verified'").fetchone()[0]
        photos = c.execute("select count(*) from evidence_photos").fetchone()[0]
        quarantined = c.execute("select count(*) from quarantine").fetchone()[0]
    assert len(numbers) == len(set(numbers)) and set(numbers) == sim.valid_citation_numbers
    assert events[0] == events[1] == len(sim.all_events)
    assert pending == 0 and photos > 0
    assert quarantined == 4
    assert sim.held_events == []
    audit = subprocess.run([sys.executable, str(ROOT / "main.py"), "--data-dir", str(data), "verify-audit"],
                           check=False, cwd=ROOT, env={**env, "CURBDESK_TOKEN": "", "CURBDESK_USER": "admin",
                                                       "CURBDESK_PASSWORD": ADMIN_PASSWORD}, capture_output=True, text=True, timeout=120)
    assert audit.returncode == 0, audit.stderr
    print("committed after each kill:", progress, "of", len(sim.all_events))
    assert progress == sorted(progress)  # every kill kept what was committed before it
