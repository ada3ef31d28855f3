"""The demo office's mail room shows every state of a piece, and a second demo run adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from desktop.persistence.models import Notice, NoticeBatch
from desktop.services.context import AppContext
from desktop.services.demo import build_demo, run_extensions


def _counts(app: AppContext) -> dict[str, int]:
    with app.db.reading() as s:
        return dict(s.execute(select(Notice.status, func.count()).group_by(Notice.status)).all())


def test_demo_mail_room_has_every_state_and_is_idempotent(app: AppContext) -> None:
    build_demo(app, 160, seed=7)
    counts = _counts(app)
    assert {"queued", "printed", "mailed", "returned"} <= set(counts), counts
    with app.db.reading() as s:
        batches = dict(s.execute(select(NoticeBatch.status, func.count()).group_by(NoticeBatch.status)).all())
        reprints = s.scalar(select(func.count()).select_from(Notice).where(Notice.reprint_of.is_not(None)))
    assert batches.get("mailed") == 1 and batches.get("rendered", 0) >= 1
    assert reprints == 1
    run_extensions(app, lambda *_a: None)
    assert _counts(app) == counts
