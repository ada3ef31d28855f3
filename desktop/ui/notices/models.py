"""Table models of the Notices screen: small lists held whole, and the mail log as a windowed model.

`RowsModel` shows a list of frozen rows through named columns (the due summary, the clerk's list, the
print batches). `MailLogModel` counts the pieces matching a filter and fetches 256-row pages on demand
through the TaskRunner, like the case list, so a mail log of a million pieces paints at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from desktop.services.notices.documents import kind_label
from desktop.services.notices.runs import STATUS_LABELS, MailLogFilter, MailLogRow
from desktop.ui.cases.model import WindowedTableModel
from desktop.ui.common.list_model import ROW_ROLE, Index, ListTableModel
from desktop.ui.common.tasks import TaskRunner
from desktop.ui.common.widgets import local_time

STATUS_COLOURS = {"queued": "#1d4f91", "held": "#b35c00", "printed": "#6b3fa0", "mailed": "#2e7d32",
                  "returned": "#b71c1c", "cancelled": "#777777", "rendered": "#6b3fa0"}


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], str]
    right: bool = False
    colour: Callable[[Any], str | None] | None = None
    tooltip: Callable[[Any], str] | None = None


class RowsModel(ListTableModel):
    """A read-only table over a list of rows; `ROW_ROLE` gives the row object."""

    def __init__(self, columns: Sequence[Column], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)

    def header_labels(self) -> list[str]:
        return [c.header for c in self.columns]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        col = self.columns[index.column()]
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return col.value(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tooltip(row) if col.tooltip else col.value(row)
        if role == Qt.ItemDataRole.ForegroundRole and col.colour is not None:
            colour = col.colour(row)
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.TextAlignmentRole and col.right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None




class MailLogModel(WindowedTableModel):
    """The mail log, windowed. Signals: `loaded(count)` after a new filter's first page; `failed(exc)`."""

    HEADERS: ClassVar[list[str]] = ["Piece", "Citation", "Document", "Status", "Batch", "Serial", "Recipient",
                                    "ZIP", "Queued", "Printed", "Mailed", "Returned", "Note"]
    STATUS = 3

    def __init__(self, runner: TaskRunner, count: Callable[[MailLogFilter], int],
                 page: Callable[[MailLogFilter, int, int], list[MailLogRow]], tz: Any = None,
                 parent: Any = None) -> None:
        super().__init__(runner, count, page, MailLogFilter(), parent)
        self.tz = tz

    def row_data(self, r: MailLogRow, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and col == len(self.HEADERS) - 1:
            return r.note
        return None

    def _display(self, r: MailLogRow, col: int) -> str:
        def when(v: Any) -> str:
            return local_time(v, self.tz, "%Y-%m-%d") if v else ""

        values = [
            str(r.id), r.citation_number, kind_label(r.kind) + ("  (reprint)" if r.reprint_of else ""),
            STATUS_LABELS.get(r.status, r.status), str(r.batch_id or ""), str(r.serial or ""), r.recipient,
            r.zip_code, when(r.queued_at), when(r.printed_at), when(r.mailed_at), when(r.returned_at), r.note,
        ]
        return values[col]
