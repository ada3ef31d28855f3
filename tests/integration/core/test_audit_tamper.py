"""Tamper evidence against someone with the database (issue 14, finding 5): each test is an attack in
raw SQL; `verify-audit` must name it. The office's audit key and checkpoints live outside the database
(in the data folder here), so the attacker has the tables but not the key."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from desktop.cli import main
from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.services.admin import users
from desktop.services.core import audit
from desktop.services.core.context import Actor, AppContext
from desktop.services.daily_run import run_daily
from desktop.services.payments import posting
from tests.conftest import seed_users
from tests.helpers.factories import add_citation


def _office(app: AppContext) -> dict[str, int]:
    """Users, two cases and a counter payment on one of them; verified once (the first checkpoint)."""
    actors = seed_users(app)
    paid = add_citation(app, plate="7ABC123", number="TAMPER-1")
    other = add_citation(app, plate="8XYZ999", number="TAMPER-2")
    result = posting.post_counter_payment(app, actors[Role.CLERK], [paid], 6300, "cash", payer_name="Maria Garcia")
    for i in range(3):
        with app.uow(Actor.system("test")) as uow:
            uow.audit("thing.changed", "thing", i, after={"v": i})
            uow.commit()
    first = audit.verify(app.db)
    assert first.ok, first.message()
    assert "first checkpoint" in (first.checkpoint or "")
    with app.db.reading() as s:
        supervisor = s.execute(text("SELECT id FROM users WHERE username = 'clerk'")).scalar_one()
        head = s.execute(text("SELECT last_id FROM audit_head")).scalar_one()
    return {"paid": paid, "other": other, "payment": result.payment_id, "clerk": supervisor, "head": head}


def _sql(app: AppContext, *statements: str) -> None:
    with app.db.engine.begin() as c:
        for st in statements:
            c.execute(text(st))


def _broken(app: AppContext) -> audit.VerifyResult:
    result = audit.verify(app.db)
    assert not result.ok, result.message()
    return result


def test_clean_office_verifies_clean_and_checkpoints(any_app: AppContext) -> None:
    _office(any_app)
    again = audit.verify(any_app.db)
    assert again.ok and again.rows >= 7 + 2 + 1, again.message()
    assert "Checkpoint written" in (again.checkpoint or "")
    lines = any_app.paths.audit_checkpoint_file.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(ln)["mac"] for ln in lines)
    key = any_app.paths.audit_key_file
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with any_app.db.engine.connect() as c:  # the key is nowhere in the database
        secret = key.read_text().strip()
        assert secret not in json.dumps([list(r) for r in c.execute(text("SELECT * FROM audit_head"))])


def test_deleting_the_last_entries_and_fixing_the_head_is_found(any_app: AppContext) -> None:
    o = _office(any_app)
    keep = o["head"] - 2
    with any_app.db.reading() as s:
        h = s.execute(text(f"SELECT hash FROM audit_log WHERE id = {keep}")).scalar_one()
    _sql(any_app, f"DELETE FROM audit_log WHERE id > {keep}",
         f"UPDATE audit_head SET last_id = {keep}, last_hash = '{h}'")
    result = _broken(any_app)
    assert result.first_bad_id == keep + 1 and "removed" in result.message()


def test_deleting_the_head_row_too_is_found(app: AppContext) -> None:
    o = _office(app)
    _sql(app, f"DELETE FROM audit_log WHERE id > {o['head'] - 1}", "DELETE FROM audit_head")
    assert "removed" in _broken(app).message()


def test_rolling_back_entries_written_after_the_checkpoint_is_found_by_the_head_seal(app: AppContext) -> None:
    o = _office(app)
    for i in (98, 99):
        with app.uow(Actor.system("test")) as uow:
            uow.audit("thing.changed", "thing", i, after={"v": i})
            uow.commit()
    keep = o["head"] + 1
    with app.db.reading() as s:
        h = s.execute(text(f"SELECT hash FROM audit_log WHERE id = {keep}")).scalar_one()
    # delete the newest entry (written after the last checkpoint) and point the head at the one before
    _sql(app, f"DELETE FROM audit_log WHERE id > {keep}",
         f"UPDATE audit_head SET last_id = {keep}, last_hash = '{h}'")
    assert "not signed by the office key" in _broken(app).message()


def test_emptying_the_trail_is_found(any_app: AppContext) -> None:
    o = _office(any_app)
    _sql(any_app, "DELETE FROM audit_log", "DELETE FROM audit_head")
    result = _broken(any_app)
    assert result.checked == 0 and f"entries 1 to {o['head']} were removed" in result.message()


def test_rechaining_with_the_apps_own_digest_is_found(any_app: AppContext) -> None:
    """Rewrite an entry and recompute every later hash and the head with the application's digest."""
    o = _office(any_app)
    with any_app.db.reading() as s:
        entries = s.execute(text("SELECT id FROM audit_log ORDER BY id")).scalars().all()
    target = entries[2]
    with any_app.db.write_session() as s:
        from desktop.persistence.models import AuditEntry, AuditHead

        prev = None
        for e in s.query(AuditEntry).order_by(AuditEntry.id):
            if e.id == target:
                e.username = "mallory"
            if prev is not None:
                e.prev_hash = prev
            e.hash = audit._digest(e.id, e.at, e.user_id, e.username, e.action, e.entity_type, e.entity_id,
                                   e.before, e.after, e.reason, e.prev_hash)
            prev = e.hash
        head = s.get(AuditHead, 1)
        head.last_hash = prev
        s.flush()
        s.info.clear()  # the attacker has no key: nothing re-signed
        s.commit()
    message = _broken(any_app).message()
    assert message.startswith(f"Audit trail broken at entry {o['head']}: it differs from the checkpoint"), message
    assert "rewritten and the chain recomputed" in message


def test_rechaining_a_trail_never_checkpointed_is_found_by_the_head_seal(app: AppContext) -> None:
    for i in range(4):
        with app.uow(Actor.system("test")) as uow:
            uow.audit("thing.changed", "thing", i, after={"v": i})
            uow.commit()
    with app.db.engine.begin() as c:
        rows = c.execute(text("SELECT id, at, user_id, username, action, entity_type, entity_id, before, after, "
                              "reason FROM audit_log ORDER BY id")).all()
        prev = audit.GENESIS
        from desktop.persistence.models import AuditEntry

        for r in rows:
            username = "mallory" if r.id == 2 else r.username
            got = c.execute(AuditEntry.__table__.select().where(AuditEntry.__table__.c.id == r.id)).one()
            digest = audit._digest(r.id, got.at, r.user_id, username, r.action, r.entity_type, r.entity_id,
                                   got.before, got.after, r.reason, prev)
            c.execute(text("UPDATE audit_log SET username = :u, prev_hash = :p, hash = :h WHERE id = :i"),
                      {"u": username, "p": prev, "h": digest, "i": r.id})
            prev = digest
        c.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})
    assert "not signed by the office key" in _broken(app).message()


def test_edited_ledger_amount_is_named(any_app: AppContext) -> None:
    o = _office(any_app)
    with any_app.db.reading() as s:
        lid = s.execute(text(f"SELECT id FROM ledger_entries WHERE citation_id = {o['paid']} AND kind = 'fine'")
                        ).scalar_one()
    _sql(any_app, f"UPDATE ledger_entries SET amount_cents = 100 WHERE id = {lid}")
    result = _broken(any_app)
    assert result.problems == (f"ledger entry {lid}: its citation id, kind, amount, at, effective date, payment id, "
                               "reverses id no longer match its seal (changed outside Curbdesk)",)


def test_deleted_payment_with_its_ledger_rows_is_named(any_app: AppContext) -> None:
    o = _office(any_app)
    pid = o["payment"]
    _sql(any_app, f"DELETE FROM ledger_entries WHERE payment_id = {pid}", f"DELETE FROM payments WHERE id = {pid}")
    message = _broken(any_app).message()
    assert f"payment {pid} missing" in message, message
    assert "ledger entry rows deleted" in message


def test_changed_plate_is_named(any_app: AppContext) -> None:
    o = _office(any_app)
    _sql(any_app, f"UPDATE citations SET plate = 'STOLEN1' WHERE id = {o['other']}")
    result = _broken(any_app)
    assert len(result.problems) == 1 and result.problems[0].startswith(f"citation {o['other']}: its ")
    assert "plate" in result.problems[0]


def test_raised_role_is_named(any_app: AppContext) -> None:
    o = _office(any_app)
    _sql(any_app, f"UPDATE users SET role = 'admin' WHERE id = {o['clerk']}")
    result = _broken(any_app)
    assert len(result.problems) == 1 and result.problems[0].startswith(f"user {o['clerk']}: its username, role")


def test_forged_user_without_seal_is_named(app: AppContext) -> None:
    _office(app)
    with app.db.reading() as s:
        row = s.execute(text("SELECT * FROM users WHERE username = 'admin'")).mappings().one()
    _sql(app, "INSERT INTO users (username, full_name, role, password_hash, active, created_at, failed_logins) "
              f"VALUES ('mallory', 'M', 'admin', '{row['password_hash']}', 1, '2026-11-24 18:00:00.000000', 0)")
    message = _broken(app).message()
    assert "has no seal" in message and message.startswith("user ")


def test_legitimate_changes_keep_verifying(app: AppContext) -> None:
    """Role changes, password changes and a second payment through the services re-seal their rows;
    a tampered row stays broken through a later legitimate edit."""
    o = _office(app)
    admin = users.actor_for(app, "admin")
    users.set_active(app, admin, "clerk", False, "on leave")
    users.set_active(app, admin, "clerk", True, "back")
    for _ in range(5):  # the lockout disables the account through the service
        with pytest.raises(UserError):
            users.login(app, "hearing_officer", "wrong password")
    posting.post_counter_payment(app, users.actor_for(app, "clerk"), [o["other"]], 6300, "cash")
    assert audit.verify(app.db).ok
    _sql(app, f"UPDATE citations SET plate = 'STOLEN1' WHERE id = {o['other']}")
    with app.db.write_session() as s:  # a legitimate edit of the same row must not bless the change
        from desktop.persistence.models import Citation

        c = s.get(Citation, o["other"])
        c.fine_cents = 9900
        s.commit()
    assert f"citation {o['other']}" in _broken(app).message()


def test_edited_checkpoint_file_is_found(app: AppContext) -> None:
    _office(app)
    path = app.paths.audit_checkpoint_file
    line = json.loads(path.read_text().splitlines()[0])
    line["id"] = 1
    path.write_text(json.dumps(line) + "\n")
    assert "not signed by the office key" in _broken(app).message()


def test_a_desk_with_another_key_is_refused_plainly(app: AppContext, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _office(app)
    monkeypatch.setenv("CURBDESK_AUDIT_KEY", str(tmp_path / "elsewhere" / "audit.key"))
    other = AppContext(db=app.db, paths=app.paths, renderer=app.renderer)
    with pytest.raises(UserError, match="sealed with another audit key"), other.uow(Actor.system("t")) as uow:
        uow.audit("thing.changed", "thing", 1)
        uow.commit()  # (a click's entries are appended at its commit)
    monkeypatch.delenv("CURBDESK_AUDIT_KEY")
    AppContext(db=app.db, paths=app.paths, renderer=app.renderer)  # back to the office key
    assert audit.verify(app.db).ok


def test_daily_run_writes_a_checkpoint_and_reports_it(app: AppContext) -> None:
    actors = seed_users(app)
    add_citation(app)
    report = run_daily(app, actors[Role.ADMIN]).lines()
    assert any(ln.startswith("Audit checkpoint:") for ln in report), report
    lines = app.paths.audit_checkpoint_file.read_text().splitlines()
    report = run_daily(app, actors[Role.ADMIN]).lines()
    assert [ln for ln in report if ln.startswith("Audit checkpoint: entry")], report
    assert len(app.paths.audit_checkpoint_file.read_text().splitlines()) == len(lines) + 1
    _sql(app, "DELETE FROM audit_log", "DELETE FROM audit_head")
    report = run_daily(app, actors[Role.ADMIN]).lines()
    assert any(ln.startswith("Audit checkpoint refused") for ln in report), report


@pytest.mark.parametrize("chunk", [20_000, 2])
def test_entries_before_the_key_existed_are_anchored_by_the_first_checkpoint(app: AppContext, chunk: int,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """An office upgraded from before the key: rows and entries without seals verify by the old chain,
    and the first checkpoint seals them as they are (a chunk at a time: with chunks of 2, seven citations)."""
    from desktop.services.core import seal

    monkeypatch.setattr(seal, "SEAL_CHUNK", chunk)
    seed_users(app)
    others = [add_citation(app, number=f"OLD-{i}") for i in range(3)]
    cid = add_citation(app)
    others += [add_citation(app, number=f"NEW-{i}") for i in range(3)]
    _sql(app, "UPDATE audit_head SET mac = NULL, key_id = NULL", "UPDATE users SET row_mac = NULL",
         "UPDATE citations SET row_mac = NULL", "UPDATE ledger_entries SET row_mac = NULL")
    first = audit.verify(app.db)
    assert first.ok and "first checkpoint" in (first.checkpoint or "") and "rows sealed now" in first.checkpoint
    with app.db.reading() as s:
        assert s.execute(text("SELECT count(*) FROM citations WHERE row_mac IS NULL")).scalar_one() == 0
    _sql(app, f"UPDATE citations SET fine_cents = 1 WHERE id = {cid}")
    found = _broken(app).message()
    assert f"citation {cid}:" in found and not any(f"citation {o}:" in found for o in others), found


def test_cli_prints_one_line_per_finding_and_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CURBDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CURBDESK_DB", raising=False)
    monkeypatch.delenv("CURBDESK_AUDIT_KEY", raising=False)
    assert main(["demo", "--citations", "20"]) == 0
    monkeypatch.setenv("CURBDESK_USER", "admin")  # every command signs in (the demo's administrator)
    monkeypatch.setenv("CURBDESK_PASSWORD", "curbdesk-admin")
    assert main(["verify-audit"]) == 0
    out = capsys.readouterr().out
    assert "Audit trail intact" in out and "Checkpoint written" in out
    with sqlite3.connect(tmp_path / "data" / "curbdesk.sqlite3") as c:
        cid = c.execute("SELECT min(id) FROM citations").fetchone()[0]
        c.execute("UPDATE citations SET plate = 'X1' WHERE id = ?", (cid,))
        c.execute("UPDATE users SET role = 'admin' WHERE username = 'clerk'")
    assert main(["verify-audit"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith(f"citation {cid}: ") and err[1].startswith("user ")


def test_key_location_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.paths import AppPaths

    monkeypatch.setenv("CURBDESK_AUDIT_KEY", str(tmp_path / "share" / "office.key"))
    paths = AppPaths(tmp_path / "data")
    assert paths.audit_key_file == (tmp_path / "share" / "office.key").resolve()
    assert paths.audit_checkpoint_file == (tmp_path / "share" / "audit-checkpoints.log").resolve()


def test_penalties_posted_by_the_daily_run_are_sealed(any_app: AppContext, clock) -> None:  # type: ignore[no-untyped-def]
    """The escalation seals its penalties as it writes them (their ids reserved first, one bulk insert), in
    the same transaction; the next run posts none twice."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from tests.helpers.casework import add_owner, at_local

    actors = seed_users(any_app)
    add_owner(any_app, "7ABC123", "GARCIA, MARIA")
    add_citation(any_app, plate="7ABC123", issued_at=datetime(2026, 9, 1, 10, tzinfo=ZoneInfo("America/Los_Angeles")))
    clock.now = at_local(date(2026, 9, 22), "CA", 6)
    lines = run_daily(any_app, actors[Role.SUPERVISOR], date(2026, 9, 22)).lines()
    assert "  1 penalty posted ($63.00)" in lines and lines[-1].startswith("Audit checkpoint:"), lines
    with any_app.db.reading() as s:
        pid = s.execute(text("SELECT id FROM ledger_entries WHERE kind = 'penalty'")).scalar_one()
        assert s.execute(text(f"SELECT row_mac FROM ledger_entries WHERE id = {pid}")).scalar_one()
    assert audit.verify(any_app.db).ok
    again = run_daily(any_app, actors[Role.SUPERVISOR], date(2026, 9, 22)).lines()
    assert not any("penalty posted" in ln or "penalties posted" in ln for ln in again), again
    with any_app.db.reading() as s:
        assert s.execute(text("SELECT count(*) FROM ledger_entries WHERE kind = 'penalty'")).scalar_one() == 1
    _sql(any_app, f"UPDATE ledger_entries SET amount_cents = 1 WHERE id = {pid}")
    assert _broken(any_app).problems[0].startswith(f"ledger entry {pid}: ")


def test_penalties_are_written_a_chunk_at_a_time(app: AppContext, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from desktop.services.cases import escalation
    from tests.helpers.casework import add_owner, at_local

    monkeypatch.setattr(escalation, "PENALTY_CHUNK", 2)
    actors = seed_users(app)
    for n in range(5):
        add_owner(app, f"7CHK00{n}", "GARCIA, MARIA")
        add_citation(app, plate=f"7CHK00{n}", issued_at=datetime(2026, 9, 1, 10, tzinfo=ZoneInfo("America/Los_Angeles")))
    clock.now = at_local(date(2026, 9, 22), "CA", 6)
    lines = run_daily(app, actors[Role.SUPERVISOR], date(2026, 9, 22)).lines()
    assert "  5 penalties posted ($315.00)" in lines, lines
    with app.db.reading() as s:
        rows = s.execute(text("SELECT citation_id, row_mac FROM ledger_entries WHERE kind = 'penalty'")).all()
    assert len({cid for cid, _mac in rows}) == 5 and all(mac for _cid, mac in rows)
    assert audit.verify(app.db).ok
