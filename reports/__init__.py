"""Curbdesk's printed documents (ReportLab; no Qt, no SQLAlchemy).

- `reports.data`: the frozen dataclasses the services layer fills (NoticeData, ReceiptData, ...), and
  BatchResult: the data contract, the only module of this package the services import.
- `reports.renderer`: ReportLabRenderer, the services' `DocumentRenderer` (the printing port of
  `desktop.services.core.printing`), put in the application context by `desktop.bootstrap`.
- `reports.notices`: one-page mailed notices (NoticeOfViolation, NoticeToOwner, DelinquentNotice,
  FinalNotice, ChargeCertificate) and `notice_class_for(data)`.
- `reports.letters`: HearingNotice, DecisionLetter, AppealAcknowledgement, RefundLetter, ReversalLetter,
  PaymentReceipt, ThermalReceipt.
- `reports.hearing`: HearingDocket, HearingPacket.
- `reports.batch`: render_batch, render_jobs_parallel, render_batches_parallel, render_letter_batch,
  stamp_reprint.
- `reports.geometry`: every mailing dimension (window envelopes with their fold and play, IMb, Code 128,
  QR) with its source; the address and return blocks' layout; agency-defined envelopes.
- `reports.fonts`: the bundled DejaVu fonts every document embeds.
- `reports.ink`: the CMYK palettes: black ink only (default) or the agency colours.
- `reports.profiles`: jurisdiction print profiles and their standing wording.
- `reports.photos`: make_print_derivative (grey for notices), jpeg_problem.
- `reports.receipts`: receipt_pdf(ReceiptData).
- `reports.qr`: the QR encoder for pay links (the `qrcode` package's symbol, faster).

Every document class takes its data object and has `render() -> bytes`.
"""
