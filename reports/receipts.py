"""The printed payment receipt, filled from the payments service (reports may call services;
services never import ReportLab)."""

from __future__ import annotations

from typing import Any

from reports.data import AgencyInfo, ReceiptAllocation, ReceiptData
from reports.letters import PaymentReceipt


def receipt_pdf(app: Any, actor: Any, payment_id: int, *, tendered_cents: int | None = None,
                reprint: bool = False) -> bytes:
    """The receipt of one payment as a PDF (permission and existence checked by the service)."""
    from desktop.services.payments.posting import receipt_data

    d = receipt_data(app, actor, payment_id, tendered_cents=tendered_cents, reprint=reprint)
    fields = {k: v for k, v in d.items() if k not in ("status", "source", "agency", "allocations")}
    data = ReceiptData(**fields, agency=AgencyInfo(**d["agency"]),
                       allocations=tuple(ReceiptAllocation(**a) for a in d["allocations"]))
    return PaymentReceipt(data).render()
