"""A mailed piece on screen, as it was sent: double-click a notice on a case (the pages are cut from the
print batch off the GUI thread by ``services.notices.pieces``, then shown in the PDF preview)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from desktop.services.notices.pieces import SentPiece, sent_piece
from desktop.ui.appeals.widgets import PdfPreviewDialog
from desktop.ui.common.operations import Query


class SentPieceDialog(PdfPreviewDialog):
    """The piece's pages, titled with what it is and which batch they come from."""

    def __init__(self, piece: SentPiece, parent: QWidget | None = None) -> None:
        super().__init__(piece.path, piece.title, parent)
        self.piece = piece
        self.setWindowTitle(f"{piece.title}, {piece.source}")
        self.resize(760, 700)


def show_sent_piece(ctx: Any, parent: QWidget, notice_id: int) -> list[SentPieceDialog]:
    """Cut and show the piece; returns the list the dialog lands in once shown (for tests and to keep it)."""
    shown: list[SentPieceDialog] = []

    def done(piece: SentPiece) -> None:
        dialog = SentPieceDialog(piece, parent)
        shown.append(dialog)
        dialog.open()

    Query(ctx, parent, lambda _c: sent_piece(ctx.app, ctx.actor, notice_id), success=done).run()
    return shown
