"""The document renderer the services print through (`desktop.services.core.printing.DocumentRenderer`),
implemented with the ReportLab documents of this package.

`desktop.bootstrap.make_app_context` puts one `ReportLabRenderer` in the application context. The
renderer holds no state, so it pickles; the document modules are imported when something is first
printed, not when the application starts (the sign-in window paints before ReportLab is loaded).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from reports.data import (
    AcknowledgementData,
    BatchResult,
    DecisionLetterData,
    DocketData,
    HearingNoticeData,
    HearingPacketData,
    LetterData,
    MailPiece,
    NoticeData,
    PatrolPlanPrint,
    ReceiptData,
    RefundLetterData,
    ReportDocData,
    ReversalLetterData,
    TableData,
)

BatchProgress = Callable[[int, int], None]
Cancel = Callable[[], bool]
BatchDone = Callable[[int, BatchResult], None]

#: Which `reports.letters` class prints each kind of letter data.
LETTER_CLASSES: dict[type[Any], str] = {
    HearingNoticeData: "HearingNotice",
    DecisionLetterData: "DecisionLetter",
    AcknowledgementData: "AppealAcknowledgement",
    RefundLetterData: "RefundLetter",
    ReversalLetterData: "ReversalLetter",
}


def letter_document(letter: LetterData) -> Any:
    """The `reports.letters` document that prints this letter's data."""
    from reports import letters  # lazy: ReportLab costs about 140 ms at start-up

    try:
        name = LETTER_CLASSES[type(letter)]
    except KeyError:
        raise TypeError(f"{type(letter).__name__} is not the data of a letter") from None
    return getattr(letters, name)(letter)


class ReportLabRenderer:
    """Prints notices, letters, the hearing packet, the docket and receipts with ReportLab, and print
    copies of photos with Pillow."""

    def notice_batch(self, notices: Sequence[NoticeData], out_path: Path, progress: BatchProgress | None = None,
                     cancel: Cancel | None = None) -> BatchResult:
        from reports.batch import render_batch  # lazy: ReportLab costs about 140 ms at start-up

        return render_batch(notices, out_path, progress, cancel)

    def notice_batches_parallel(self, jobs: Sequence[tuple[list[NoticeData], str]], workers: int | None = None,
                                on_batch: BatchDone | None = None,
                                cancel: Cancel | None = None) -> list[BatchResult | None]:
        from reports.batch import render_jobs_parallel  # lazy: ReportLab costs about 140 ms at start-up

        return render_jobs_parallel(jobs, workers, on_batch, cancel)

    def letter_batch(self, letters: Sequence[tuple[LetterData, bool]], out_path: Path,
                     progress: BatchProgress | None = None, cancel: Cancel | None = None) -> BatchResult:
        from reports.batch import render_letter_batch  # lazy: ReportLab costs about 140 ms at start-up

        return render_letter_batch([(letter_document(data), reprint) for data, reprint in letters], out_path,
                                   progress, cancel)

    def prints_notice(self, notice: NoticeData) -> bool:
        from reports.notices import notice_class_for  # lazy: ReportLab costs about 140 ms at start-up

        try:
            notice_class_for(notice)
        except ValueError:
            return False
        return True

    def layout_problem(self, data: NoticeData | LetterData) -> str | None:
        from reports.geometry import LayoutError  # lazy: ReportLab costs about 140 ms at start-up
        from reports.notices import notice_class_for  # lazy: ReportLab costs about 140 ms at start-up

        try:
            doc = notice_class_for(data)(data) if isinstance(data, NoticeData) else letter_document(data)
        except LayoutError as exc:  # the envelope setting itself
            return f"The envelope setting (mail.envelope) is wrong: {exc}."
        return doc.layout_problem()  # type: ignore[no-any-return]

    def tracking_code(self, piece: MailPiece) -> str:
        from reports.base import imb_tracking  # lazy: ReportLab costs about 140 ms at start-up

        return imb_tracking(piece)

    def letter(self, letter: LetterData) -> bytes:
        return letter_document(letter).render()  # type: ignore[no-any-return]

    def hearing_packet(self, packet: HearingPacketData) -> bytes:
        from reports.hearing import render_packet  # lazy: ReportLab costs about 140 ms at start-up

        return render_packet(packet)

    def docket(self, docket: DocketData) -> bytes:
        from reports.hearing import HearingDocket  # lazy: ReportLab costs about 140 ms at start-up

        return HearingDocket(docket).render()

    def receipt(self, receipt: ReceiptData) -> bytes:
        from reports.receipts import receipt_pdf  # lazy: ReportLab costs about 140 ms at start-up

        return receipt_pdf(receipt)

    def table_pdf(self, table: TableData, rows: Iterable[Sequence[Any]], out_path: Path) -> int:
        from reports.tables import write_table_pdf  # lazy: ReportLab costs about 140 ms at start-up

        return write_table_pdf(table, rows, out_path)

    def patrol_plan(self, plan: PatrolPlanPrint) -> bytes:
        from reports.patrol_plan import patrol_plan_pdf  # lazy: ReportLab costs about 140 ms at start-up

        return patrol_plan_pdf(plan)

    def report_pdf(self, report: ReportDocData, out_path: Path) -> int:
        from reports.management import write_report_pdf  # lazy: ReportLab graphics cost about 140 ms at start-up

        return write_report_pdf(report, out_path)

    def print_copy(self, original: Path, out: Path, grey: bool = True) -> Path:
        from reports import photos  # lazy: Pillow costs about 28 ms at start-up

        return photos.make_print_derivative(original, out, grey=grey)
