"""The permits screen: search by plate from the review screen; supervisors edit, clerks only read."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt

from desktop.domain.roles import Role
from desktop.persistence.models import Permit, PermitPlate
from desktop.ui.review.permits_view import PermitsDialog, PermitsView
from tests.helpers.review_data import ISSUED, ZONE, add_pending


def _permit(app, number: str, plate: str) -> None:
    with app.db.write_session() as s:
        p = Permit(permit_number=number, type="residential", zones=[ZONE], valid_from=ISSUED - timedelta(days=10),
                   valid_to=ISSUED + timedelta(days=300), status="active")
        p.plates.append(PermitPlate(plate=plate, jurisdiction="CA"))
        s.add(p)
        s.commit()


def test_clerk_searches_but_cannot_edit(qtbot, ui, reference) -> None:
    _permit(reference, "RPP-1", "7ABC123")
    _permit(reference, "RPP-2", "6DEF456")
    view = PermitsView(ui, "7ABC123")
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.table.rowCount() == 1, timeout=10000)
    assert view.table.item(0, 0).text() == "RPP-1" and view.table.item(0, 2).text() == "7ABC123:CA"
    assert not view.save_button.isEnabled() and not view.import_button.isEnabled()
    assert "Read-only" in view.note.text()
    view.search.clear()
    with qtbot.waitSignal(view.results, timeout=10000) as results:
        qtbot.keyClick(view.search, Qt.Key.Key_Return)
    assert results.args == [2]


def test_supervisor_edits_a_permit_and_the_review_warning_follows(qtbot, ui, reference) -> None:
    from desktop.services.review.checks import recheck_pending
    from tests.helpers.review_data import warnings_of

    cid = add_pending(reference)
    recheck_pending(reference)
    assert warnings_of(reference, cid) == {}
    ctx = ui.for_role(Role.SUPERVISOR)
    dialog = PermitsDialog(ctx, "7ABC123")
    qtbot.addWidget(dialog)
    view = dialog.view
    qtbot.waitUntil(lambda: view.count.text().endswith("permit(s)"), timeout=10000)
    view.new_permit()
    view.number.setText("RPP-9")
    view.plates.setText("7abc123:ca")
    view.zones.setText(ZONE)
    view.valid_from.setDate(view.valid_from.date().addDays(-400))
    with qtbot.waitSignal(view.saved, timeout=10000):
        qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert "valid_permit" in warnings_of(reference, cid)
    qtbot.waitUntil(lambda: view.table.rowCount() == 1 and view.editing is not None, timeout=10000)
    view.status.setCurrentText("revoked")
    with qtbot.waitSignal(ctx.messages.error_shown, timeout=10000) as err:
        view.save()
    assert "Say why" in err.args[0]
    view.reason.setText("holder moved")
    with qtbot.waitSignal(view.saved, timeout=10000):
        view.save()
    assert "valid_permit" not in warnings_of(reference, cid)
