"""The audit trail is a hash chain: any edit, deletion or insertion is found and named."""

from sqlalchemy import text

from desktop.services.core import audit
from desktop.services.core.context import Actor, AppContext


def _write(app: AppContext, n: int) -> None:
    actor = Actor.system("test")
    for i in range(n):
        with app.uow(actor) as uow:
            uow.audit("thing.changed", "thing", i, before={"v": i}, after={"v": i + 1}, reason=f"step {i}")
            uow.commit()


def _verify_after(app: AppContext, sql: str) -> audit.VerifyResult:
    """Five entries written, then ``sql`` run on the log behind the application's back: what verify says."""
    _write(app, 5)
    with app.db.engine.begin() as c:
        c.execute(text(sql))
    return audit.verify(app.db)


def test_intact_chain_verifies(any_app: AppContext) -> None:
    _write(any_app, 5)
    result = audit.verify(any_app.db)
    assert result.ok and result.checked == 5


def test_edited_entry_is_named(any_app: AppContext) -> None:
    result = _verify_after(any_app, "UPDATE audit_log SET reason = 'nothing to see' WHERE id = 3")
    assert not result.ok and result.first_bad_id == 3
    assert "changed" in result.message()


def test_deleted_entry_is_found(app: AppContext) -> None:
    result = _verify_after(app, "DELETE FROM audit_log WHERE id = 2")
    assert not result.ok and result.first_bad_id == 2


def test_truncated_tail_is_found(app: AppContext) -> None:
    result = _verify_after(app, "DELETE FROM audit_log WHERE id = 5")
    assert not result.ok and "removed" in (result.problem or "")


def test_rolled_back_work_leaves_no_audit(app: AppContext) -> None:
    with app.uow(Actor.system("test")) as uow:
        uow.audit("thing.changed", "thing", 1)
        # no commit: the block rolls back
    assert audit.verify(app.db).checked == 0


def test_concurrent_writers_keep_one_chain(pg_app: AppContext) -> None:
    """Several workstations appending at once on PostgreSQL never fork the chain."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda k: _write(pg_app, 5), range(6)))
    result = audit.verify(pg_app.db)
    assert result.ok and result.checked == 30
