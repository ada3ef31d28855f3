"""The Review screen's plate photo: the crop enlarged with the reading, and T takes the read plate."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from sqlalchemy import select

from desktop.domain.roles import Role
from desktop.persistence.models import AuditEntry, Citation
from desktop.services.review.plates import read_plates
from tests.helpers.review_data import ISSUED, LAT, LON, add_pending, photo_bytes
from tests.helpers.review_view import open_review_view


def test_t_takes_the_plate_read_from_the_photo(qtbot, ui, reference, actors) -> None:
    cid = add_pending(reference, number="P-1", plate="7GAM766",
                      photos=[{"data": photo_bytes("7GAM761", ISSUED - timedelta(seconds=40), LAT, LON, seed=3)}])
    read_plates(reference, actors[Role.CLERK])
    view = open_review_view(qtbot, ui)
    assert view.current is not None and view.current.item.id == cid
    assert "Plate photo" in view.warnings.text()
    text = view.plate_text.text()
    assert "7GAM766" in text and "7GAM761" in text and "DIFFERS" in text and "T</b> take the read plate" in text
    pixmap = view.plate_crop.pixmap()
    assert view.plate_crop.isVisible() and not pixmap.isNull() and pixmap.width() == 300
    with qtbot.waitSignal(view.decided, timeout=20000):
        qtbot.keyClick(view, Qt.Key.Key_T)
    qtbot.waitUntil(lambda: view.current is not None and view.current.item.plate == "7GAM761", timeout=10000)
    assert "as typed" in view.plate_text.text() and "No warnings" in view.warnings.text()
    with reference.db.reading() as s:
        assert s.get(Citation, cid).plate == "7GAM761"
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "citation.corrected")).all()
    assert [a.reason for a in audit] == ["plate misread: photo 1 reads 7GAM761 (99%, plate reader)"]


def test_not_read_yet_and_no_key_effect(qtbot, ui, reference) -> None:
    add_pending(reference, number="P-2", plate="7GAM761")
    view = open_review_view(qtbot, ui)
    assert "have not been read yet" in view.plate_text.text() and not view.plate_crop.isVisible()
    qtbot.keyClick(view, Qt.Key.Key_T)
    assert view.current is not None and view.current.item.plate == "7GAM761"
