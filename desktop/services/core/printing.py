"""The printing port: what the services may ask of the document renderer.

Services fill the frozen data of `reports.data` and hand it to a `DocumentRenderer`, which they get
from the application context (`app.renderer`); they never import ReportLab nor any other module of
`reports`. The implementation lives in `reports.renderer` and is wired in one place,
`desktop.bootstrap.make_app_context`. Everything that crosses the port is plain, picklable data (the
notice batches it renders on worker processes included).

The agency block every document carries comes from `desktop.services.core.agency.agency_info`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from reports.data import (
    BatchResult,
    DocketData,
    HearingPacketData,
    LetterData,
    MailPiece,
    NoticeData,
    PatrolPlanPrint,
    ReceiptData,
    ReportDocData,
    TableData,
)

#: `progress(done, total)` after each piece of a batch.
BatchProgress = Callable[[int, int], None]
#: Polled between pieces: True stops the batch (no file is left behind).
Cancel = Callable[[], bool]
#: `on_batch(index, result)`, called in the calling process as each batch of a parallel run completes.
BatchDone = Callable[[int, BatchResult], None]


class DocumentRenderer(Protocol):
    """Everything the services print, from the data of `reports.data`.

    Batches are written atomically: a cancelled or failed batch leaves no file behind.
    """

    def notice_batch(self, notices: Sequence[NoticeData], out_path: Path, progress: BatchProgress | None = None,
                     cancel: Cancel | None = None) -> BatchResult:
        """One PDF of notices, one page each, in the order given."""
        ...

    def notice_batches_parallel(self, jobs: Sequence[tuple[list[NoticeData], str]], workers: int | None = None,
                                on_batch: BatchDone | None = None,
                                cancel: Cancel | None = None) -> list[BatchResult | None]:
        """Each (notices, out_path) job into its own PDF on worker processes; results in job order,
        None for jobs dropped when `cancel()` answered True."""
        ...

    def letter_batch(self, letters: Sequence[tuple[LetterData, bool]], out_path: Path,
                     progress: BatchProgress | None = None, cancel: Cancel | None = None) -> BatchResult:
        """One PDF of (letter, reprint) pairs, each letter on its own sheets, reprints marked REPRINT."""
        ...

    def prints_notice(self, notice: NoticeData) -> bool:
        """Whether a notice of this kind exists under the rules of its profile."""
        ...

    def layout_problem(self, data: NoticeData | LetterData) -> str | None:
        """Why a mailed piece cannot be laid out for its envelope (an address too long for the window even
        wrapped, an envelope setting that does not hold together), in a sentence for the clerk; None when
        it can be printed."""
        ...

    def tracking_code(self, piece: MailPiece) -> str:
        """The Intelligent Mail barcode tracking code of a piece; ValueError when the mail settings
        cannot make one."""
        ...

    def letter(self, letter: LetterData) -> bytes:
        """One letter as a PDF (acknowledgement, hearing notice, decision, refund or reversal letter)."""
        ...

    def hearing_packet(self, packet: HearingPacketData) -> bytes:
        """The evidence packet of one appeal as a PDF."""
        ...

    def docket(self, docket: DocketData) -> bytes:
        """A day's hearing docket as a PDF."""
        ...

    def receipt(self, receipt: ReceiptData) -> bytes:
        """A payment receipt as a PDF."""
        ...

    def table_pdf(self, table: TableData, rows: Iterable[Sequence[Any]], out_path: Path) -> int:
        """Any list as a PDF at `out_path` (header with the filter, who and when; page numbers); rows are read
        once, as they come; returns how many were printed."""
        ...

    def patrol_plan(self, plan: PatrolPlanPrint) -> bytes:
        """A day's patrol plan as a PDF: one page per beat with a map of its zones."""
        ...

    def report_pdf(self, report: ReportDocData, out_path: Path) -> int:
        """A management report as a PDF at `out_path`: its chart drawn, its summary, then its tables (page
        numbers on every page); returns how many table rows were printed."""
        ...

    def print_copy(self, original: Path, out: Path, grey: bool = True) -> Path:
        """A print-resolution copy of an evidence photo written at `out` (its path returned): grey for the
        notices (black ink only), in colour (`grey=False`) for the hearing packet; OSError, ValueError or
        SyntaxError when the original is damaged."""
        ...
