"""Double-clicking a mailed notice on a case shows what was sent: its page cut from the print batch."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt

from desktop.domain.errors import UserError
from desktop.domain.roles import Role
from desktop.services.notices import runs as nr
from desktop.services.notices.pieces import sent_piece
from desktop.ui.cases.detail import CaseDetailPanel
from desktop.ui.common.messages import MessageChannel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.context import UiContext
from tests.helpers.notice_cases import queue_case

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def test_double_click_shows_the_piece_as_printed(qtbot, app, actors, tmp_path: Path) -> None:
    cases = [queue_case(app) for _ in range(3)]
    result = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path)
    assert result.printed == 3
    cid, nid = cases[1]
    ctx = UiContext(app=app, actor=actors[Role.CLERK], runner=TaskRunner(), messages=MessageChannel(interactive=False),
                    tz=ZoneInfo("America/Los_Angeles"))
    panel = CaseDetailPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    with qtbot.waitSignal(panel.shown, timeout=10000):
        panel.load(cid)
    panel.tabs.setCurrentIndex(panel.NOTICES)
    index = panel.notices.model().index(0, 0)
    rect = panel.notices.visualRect(index)
    qtbot.mouseClick(panel.notices.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.notices.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    errors: list[str] = []
    ctx.messages.error_shown.connect(errors.append)
    qtbot.waitUntil(lambda: bool(getattr(panel, "sent_dialog", None)) or bool(errors), timeout=10000)
    assert not errors, errors
    dialog = panel.sent_dialog[0]
    assert dialog.page_count() == 1 and "batch" in dialog.windowTitle()
    text = PdfReader(dialog.piece.path).pages[0].extract_text()
    number = panel.detail.citation.citation_number
    assert number in text
    others = [c for c, _n in cases if c != cid]
    assert len(PdfReader(dialog.piece.path).pages) == 1 and others  # one piece, not the batch
    dialog.close()
    ctx.runner.wait_all(10000)


def test_a_piece_not_yet_printed_says_so(app, actors) -> None:
    _cid, nid = queue_case(app)
    with pytest.raises(UserError, match="has not been printed yet"):
        sent_piece(app, actors[Role.CLERK], nid)
