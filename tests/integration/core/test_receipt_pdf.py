"""The printed receipt: the payments service's values, printed through the context's renderer."""

import io

from pypdf import PdfReader

from desktop.domain.roles import Role
from desktop.services.payments import posting as payments
from reports.data import ReceiptData
from tests.helpers.factories import add_citation


def test_counter_payment_prints_a_receipt(app, actors) -> None:
    cid = add_citation(app, number="RC-0001", fine_cents=6300)
    clerk = actors[Role.CLERK]
    result = payments.post_counter_payment(app, clerk, [cid], 6300, method="cash", request_id="r-1")
    pdf = app.renderer.receipt(ReceiptData.from_plain(payments.receipt_data(app, clerk, result.payment_id)))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "RC-0001" in text and "63.00" in text and (result.receipt_number or "") in text
