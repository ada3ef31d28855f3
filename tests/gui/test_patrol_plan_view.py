"""The Patrol plan page: a zone dragged from one beat to another, saved as the next version; a stale save
refused with the beats kept on screen; a clerk sees the plan but cannot change it; Plan vs actual shows the day."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from PySide6.QtCore import QModelIndex, Qt

from desktop.domain.patrol_plan import Beat, OfficerShift, PlanConstraints, Stop
from desktop.domain.roles import Role
from desktop.services.patrol import plans
from desktop.ui.patrol.actual import PlanActualView
from desktop.ui.patrol.plan import ZONE_ROLE, PatrolPlanView
from tests.helpers.patrol_plan import TODAY, TOMORROW, add_shift, seed_office


def _saved_plan(app, actor, day=TOMORROW):
    roster = [OfficerShift("1001", "Officer 1001", "08:00", 480), OfficerShift("1002", "Officer 1002", "08:00", 480)]
    draft = plans.make_plan(app, actor, day, roster, PlanConstraints(visit_minutes=60))
    beats = [Beat("1001", "Officer 1001", "08:00", 480, (Stop("Z-A", 60), Stop("Z-B", 60))),
             Beat("1002", "Officer 1002", "08:00", 480, (Stop("Z-D", 60),))]
    return plans.save_plan(app, actor, plans.edit_beats(draft, beats))


def _drag(view: PatrolPlanView, source: int, row: int, target: int) -> str:
    """What a mouse drag does: the dragged item's data dropped at the end of the target list, then removed from
    the source (QAbstractItemView's move)."""
    src, dst = view.lists[source], view.lists[target]
    zone = src.item(row).data(ZONE_ROLE)
    mime = src.model().mimeData([src.model().index(row, 0)])
    assert dst.model().dropMimeData(mime, Qt.DropAction.MoveAction, dst.count(), 0, QModelIndex())
    src.takeItem(row)
    return str(zone)


def _view(qtbot, ctx, actor) -> PatrolPlanView:
    view = PatrolPlanView(replace(ctx, actor=actor))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: len(view.lists) == 2, timeout=10000)
    return view


def test_drag_a_zone_between_beats_then_save(qtbot, ui_ctx, app, actors) -> None:
    seed_office(app)
    sup = actors[Role.SUPERVISOR]
    _saved_plan(app, sup)
    view = _view(qtbot, ui_ctx, sup)
    assert view.version_label.text().startswith("Version 1, saved by supervisor")
    assert not view.save_button.isEnabled() and view.print_button.isEnabled()
    zone = _drag(view, 0, 1, 1)
    assert zone == "Z-B"
    qtbot.waitUntil(lambda: view.dirty, timeout=5000)
    assert view.draft is not None
    assert [b.zones for b in view.draft.beats] == [["Z-A"], ["Z-D", "Z-B"]]
    assert view.draft.beats[1].stops[1].travel_minutes is not None  # travel follows the new order
    assert "changed, not saved" in view.version_label.text() and view.save_button.isEnabled()
    assert not view.print_button.isEnabled()
    assert view.table.rowCount() == 3 and view.table.item(2, 2).text() == "Z-B"
    assert view.lists[1].styleSheet() == ""  # within its shift
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.version_label.text().startswith("Version 2"), timeout=10000)
    saved = plans.load_plan(app, sup, TOMORROW)
    assert saved is not None and saved.version == 2 and [b.zones for b in saved.beats] == [["Z-A"], ["Z-D", "Z-B"]]


def test_table_edit_and_a_stale_save_keeps_the_beats_on_screen(qtbot, ui_ctx, app, actors) -> None:
    seed_office(app)
    sup, admin = actors[Role.SUPERVISOR], actors[Role.ADMIN]
    first = _saved_plan(app, sup)
    view = _view(qtbot, ui_ctx, sup)
    # meanwhile the administrator saves version 2
    plans.save_plan(app, admin, plans.edit_beats(first, [first.beats[0], replace(first.beats[1], stops=())]))
    # the supervisor moves Z-A to officer 1002 in the table, 90 minutes
    row = next(r for r in range(view.table.rowCount()) if view.table.item(r, 2).text() == "Z-A")
    view.table.item(row, 0).setText("1002")
    view.table.item(row, 1).setText("2")
    view.table.item(row, 3).setText("90")
    qtbot.mouseClick(view.apply_button, Qt.MouseButton.LeftButton)
    assert view.dirty and [b.zones for b in view.draft.beats] == [["Z-B"], ["Z-D", "Z-A"]]
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "admin saved version 2" in view.problems.text(), timeout=10000)
    assert "your save was not made" in ui_ctx.messages.last_error
    assert view.dirty and [b.zones for b in view.draft.beats] == [["Z-B"], ["Z-D", "Z-A"]]  # nothing lost
    assert [(s.zone, s.minutes) for s in view.draft.beats[1].stops] == [("Z-D", 60), ("Z-A", 90)]
    assert [[z for z in b.zones] for b in plans.load_plan(app, sup, TOMORROW).beats] == [["Z-A", "Z-B"], []]


def test_a_clerk_is_told_the_plan_is_not_theirs_to_see(qtbot, ui_ctx, app, actors) -> None:
    """Clerks see the dashboard's work figures only (issue 18, point 7): the page, if ever shown to one,
    changes nothing and says why, from the service's refusal."""
    seed_office(app)
    _saved_plan(app, actors[Role.SUPERVISOR])
    with qtbot.waitSignal(ui_ctx.messages.error_shown, timeout=10000) as said:
        view = PatrolPlanView(replace(ui_ctx, actor=actors[Role.CLERK]))
        qtbot.addWidget(view)
        view.show()
    assert "may not see the management reports" in said.args[0]
    assert not view.make_button.isEnabled() and not view.save_button.isEnabled()
    assert view.lists == [] or view.lists[0].dragDropMode() == view.lists[0].DragDropMode.NoDragDrop


def test_plan_vs_actual_page_shows_missed_and_extra_zones(qtbot, ui_ctx, app, actors) -> None:
    seed_office(app)
    sup = actors[Role.SUPERVISOR]
    yesterday = TODAY - timedelta(days=1)
    _saved_plan(app, sup, yesterday)
    add_shift(app, "1001", "Z-A", yesterday, "08:00", 50)
    add_shift(app, "1001", "Z-C", yesterday, "10:00", 20)
    view = PlanActualView(replace(ui_ctx, actor=sup))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.day_result is not None, timeout=10000)
    assert view.summary.text() == ("Plan of 2026-11-23, version 1: 2 beat(s), coverage 33 %, "
                                   "2 planned zone(s) missed.")
    cells = [[view.beats.item(r, c).text() for c in range(7)] for r in range(view.beats.rowCount())]
    assert ["1001", "Officer 1001", "Z-B", "60", "0", "0", "missed"] in cells
    assert ["1001", "Officer 1001", "Z-C", "0", "20", "10", "extra (not planned)"] in cells
    assert ["1001", "Officer 1001", "All zones", "120", "70", "", "coverage 50 %"] in cells
    view.tabs.setCurrentIndex(1)
    assert view.officers.rowCount() == 2 and view.officers.item(0, 5).text() == "50 %"


def test_the_manual_names_every_key_button_and_tab_of_the_patrol_pages(qtbot, ui_ctx, app, actors) -> None:
    """As tests/gui/test_help.py does for each area, for the two pages the Patrol & Reports area hosts."""
    from PySide6.QtGui import QKeySequence, QShortcut
    from PySide6.QtWidgets import QAbstractButton, QCheckBox, QPushButton, QRadioButton, QTabWidget

    from desktop.ui.help import chapter_for
    from tests.gui.test_help import label

    seed_office(app)
    _saved_plan(app, actors[Role.SUPERVISOR])
    chapter = chapter_for("reports").read_text(encoding="utf-8")
    assert "## Patrol plan" in chapter and "## Plan vs actual" in chapter
    views = [_view(qtbot, ui_ctx, actors[Role.SUPERVISOR]), PlanActualView(ui_ctx)]
    missing = []
    for view in views:
        keys = {sc.key().toString(QKeySequence.SequenceFormat.PortableText) for sc in view.findChildren(QShortcut)}
        missing += sorted(f"key {k}" for k in keys if f"`{k}`" not in chapter)
        buttons = {label(b.text()) for b in view.findChildren(QAbstractButton)
                   if isinstance(b, QPushButton | QRadioButton | QCheckBox) and label(b.text())}
        tabs = {label(t.tabText(i)) for t in view.findChildren(QTabWidget) for i in range(t.count())}
        missing += sorted(f"control {b!r}" for b in buttons | tabs if b not in chapter)
    assert missing == []
