"""Dialogs fit a 1366 x 768 laptop (issue 16, point 2): each one's smallest usable size leaves room for
the window frame on such a screen, and each opens no larger than the screen it is on."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QLabel

from desktop.domain.roles import Role
from desktop.ui.common.screen_fit import FRAME_MARGIN

LAPTOP = (1366, 768)


def _dialogs(ctx):
    from desktop.ui.appeals.dialogs import DocketDialog, IntakeDialog
    from desktop.ui.cases.escalation_dialog import EscalationDialog
    from desktop.ui.help import HelpWindow
    from desktop.ui.payments.plans import EnrolDialog
    from desktop.ui.review.dialogs import VoidDialog
    from desktop.ui.review.permits_view import PermitsDialog
    from desktop.ui.sync.endpoint_dialogs import EndpointDialog

    return {
        "intake": lambda: IntakeDialog(ctx),
        "docket": lambda: DocketDialog(ctx),
        "escalation": lambda: EscalationDialog(ctx),
        "permits": lambda: PermitsDialog(ctx),
        "void": lambda: VoidDialog("HH0001-000001", ["photo_location"]),
        "endpoint": lambda: EndpointDialog(ctx, None),
        "enrol": lambda: EnrolDialog(),
        "help": lambda: HelpWindow(),
    }


@pytest.mark.parametrize("name", ["intake", "docket", "escalation", "permits", "void", "endpoint", "enrol", "help"])
def test_the_dialog_fits_a_laptop_screen(qtbot, ui_ctx, actors, name) -> None:
    ui_ctx.actor = actors[Role.SUPERVISOR]
    dialog: QDialog = _dialogs(ui_ctx)[name]()
    qtbot.addWidget(dialog)
    least = dialog.minimumSizeHint().expandedTo(dialog.minimumSize())
    assert least.width() <= LAPTOP[0] - FRAME_MARGIN and least.height() <= LAPTOP[1] - FRAME_MARGIN, least
    room = QGuiApplication.primaryScreen().availableGeometry()  # the test screen: it opens no larger
    assert dialog.width() <= room.width() - FRAME_MARGIN and dialog.height() <= room.height() - FRAME_MARGIN
    # no line of text cut off: a label that does not wrap is as wide as its text (the escalation's was not)
    dialog.show()
    qtbot.waitExposed(dialog)
    wide = [label.text()[:40] for label in dialog.findChildren(QLabel)
            if label.isVisible() and not label.wordWrap() and label.sizeHint().width() > label.width()]
    assert not wide, wide
    ui_ctx.runner.wait_all(10000)
