"""The printed payment receipt, from its data (the payments service gives the values as plain data,
`ReceiptData.from_plain` turns them into the frozen contract; nothing here reads the database)."""

from __future__ import annotations

from reports.data import ReceiptData
from reports.letters import PaymentReceipt


def receipt_pdf(data: ReceiptData) -> bytes:
    """The receipt of one payment as a PDF."""
    return PaymentReceipt(data).render()
