"""The demo office's mail room shows every state of a piece, and a second demo run adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from desktop.demo.office import build_demo, run_extensions
from desktop.persistence.models import Notice, NoticeBatch
from desktop.services.core.context import AppContext


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


def test_appeal_letters_reach_the_appellant_address() -> None:
    """Appeal letters carry the address as the appellant wrote it (free lines), not a registry record."""
    from desktop.services.notices.documents import Held, recipient_from_snapshot

    us = recipient_from_snapshot({"source": "appellant", "name": "Maria Garcia",
                                  "lines": ["1234 W Olympic Blvd Apt 5", "Los Angeles, CA 90015"]}, "CA")
    assert not isinstance(us, Held) and us.city == "LOS ANGELES" and us.zip_code == "90015"
    uk = recipient_from_snapshot({"source": "appellant", "name": "Tom Hughes",
                                  "lines": ["14 Mill Lane", "Camden", "London NW1 7AB"]}, "ENG")
    assert not isinstance(uk, Held) and uk.zip_code == "NW1 7AB" and uk.city == "London"
    empty = recipient_from_snapshot({"source": "appellant", "name": "X", "lines": []}, "CA")
    assert isinstance(empty, Held)
