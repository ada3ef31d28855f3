"""Table models of the Devices & Sync screen: the handhelds, the quarantine and the imported dock bundles.

These lists are small (a fleet, the open quarantine), so each model holds its rows whole;
the view reloads them through the task runner. ``ROW_ROLE`` returns the row object.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from desktop.services.sync.bundles import ImportedBundleRow
from desktop.services.sync.devices import DeviceRow
from desktop.services.sync.field_events import SkippedEventRow
from desktop.services.sync.quarantine import QuarantineRow
from desktop.ui.common.list_model import Index, ListTableModel

Row = TypeVar("Row")

RED = "#b71c1c"
AMBER = "#8a5a00"
GREY = "#777777"


def _when(value: datetime | None, tz: Any) -> str:
    if value is None:
        return "—"
    return (value.astimezone(tz) if tz else value).strftime("%Y-%m-%d %H:%M")


class _RowsModel(ListTableModel, Generic[Row]):
    """Rows held in memory; subclasses give HEADERS and ``display(row, column)``."""

    HEADERS: ClassVar[list[str]] = []

    def __init__(self, tz: Any = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.tz = tz

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == self.ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(row, index.column())
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = self.colour(row, index.column())
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, index.column())
        return None

    def display(self, row: Row, column: int) -> str:
        raise NotImplementedError

    def colour(self, row: Row, column: int) -> str | None:
        return None

    def tooltip(self, row: Row, column: int) -> str | None:
        return None


class DeviceTableModel(_RowsModel[DeviceRow]):
    DEVICE, OFFICER, LAST_SEEN, LAST_SEQ, GAPS, PENDING, KEY, APP = range(8)
    HEADERS: ClassVar[list[str]] = ["Device", "Officer", "Last seen", "Last seq", "Gaps", "Pending", "Signing key", "App"]

    def display(self, d: DeviceRow, column: int) -> str:
        if column == self.DEVICE:
            return d.device_id
        if column == self.OFFICER:
            if not d.officer_badge:
                return "— (no officer assigned)"
            return f"{d.officer_badge} {d.officer_name}" if d.officer_name else \
                f"{d.officer_badge} (not on the officer roster)"
        if column == self.LAST_SEEN:
            return _when(d.last_seen_at, self.tz)
        if column == self.LAST_SEQ:
            return "—" if d.last_seq is None else str(d.last_seq)
        if column == self.GAPS:
            return d.gaps_text() or "none"
        if column == self.PENDING:
            return "—" if d.pending_events is None else str(d.pending_events)
        if column == self.KEY:
            return "registered" if d.has_key else "none"
        if column == self.APP:
            return d.app_version or ""
        return ""

    def colour(self, d: DeviceRow, column: int) -> str | None:
        if column == self.GAPS and d.gaps:
            return RED
        if column == self.PENDING and d.pending_events:
            return AMBER
        return None

    def tooltip(self, d: DeviceRow, column: int) -> str | None:
        if column == self.GAPS and d.gaps:
            ranges = ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in d.gaps[:30])
            return (f"Sequence numbers not received yet: {ranges}. They may still come; if they never do, "
                    "ask the officer to dock the handheld.")
        if column == self.KEY:
            return ("Its events must carry a valid Ed25519 signature." if d.has_key
                    else "No key registered: its events are accepted unsigned.")
        return None


class QuarantineTableModel(_RowsModel[QuarantineRow]):
    RECEIVED, DEVICE, TYPE, EVENT, STATUS, REASON = range(6)
    HEADERS: ClassVar[list[str]] = ["Received", "Device", "Type", "Event id", "Status", "Reason"]

    def display(self, q: QuarantineRow, column: int) -> str:
        if column == self.RECEIVED:
            return _when(q.received_at, self.tz)
        if column == self.DEVICE:
            return q.device_id or "?"
        if column == self.TYPE:
            return q.type or "?"
        if column == self.EVENT:
            return (q.event_id or "(unreadable)")[:13]
        if column == self.REASON:
            return q.reason
        if column == self.STATUS:
            return q.status
        return ""

    def colour(self, q: QuarantineRow, column: int) -> str | None:
        if column == self.STATUS:
            return RED if q.status == "open" else GREY
        return None

    def tooltip(self, q: QuarantineRow, column: int) -> str | None:
        if column == self.REASON:
            return q.reason
        if column == self.EVENT:
            return q.event_id
        if column == self.STATUS and q.status != "open":
            return f"{q.status} by {q.resolved_by or '?'} on {_when(q.resolved_at, self.tz)}: {q.resolution or ''}"
        return None


class BundleTableModel(_RowsModel[ImportedBundleRow]):
    FILE, DEVICE, IMPORTED, EVENTS = range(4)
    HEADERS: ClassVar[list[str]] = ["Bundle", "Device", "Imported", "Events"]

    def display(self, b: ImportedBundleRow, column: int) -> str:
        return [b.filename, b.device_id, _when(b.imported_at, self.tz), str(b.event_count)][column]


class SkippedTableModel(_RowsModel[SkippedEventRow]):
    RECEIVED, DEVICE, SEQ, TYPE, EVENT, SOURCE = range(6)
    HEADERS: ClassVar[list[str]] = ["Received", "Device", "Seq", "Type", "Event id", "Source"]

    def display(self, e: SkippedEventRow, column: int) -> str:
        return [_when(e.received_at, self.tz), e.device_id, "" if e.seq is None else str(e.seq), e.type,
                e.event_id, e.source][column]
