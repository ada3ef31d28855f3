"""The fast QR encoder builds the same symbol as the `qrcode` package (module for module)."""

from __future__ import annotations

import random
import string

import pytest
import qrcode
import qrcode.constants
import qrcode.util

from reports.qr import encode, encode_rows

LEVELS = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
          "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}


def reference(text: str, level: str = "M", mask: int = 0) -> list[list[bool]]:
    q = qrcode.QRCode(error_correction=LEVELS[level], mask_pattern=mask, border=0)
    q.add_data(qrcode.util.QRData(text.encode("utf-8"), mode=qrcode.util.MODE_8BIT_BYTE))
    q.make(fit=True)
    return [[bool(m) for m in row] for row in q.modules]


def test_pay_urls_match_qrcode_module_for_module() -> None:
    rnd = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "/:.-_?=&%"
    texts = ["https://pay.example.gov/c/HH0001-000123", "https://pay.riversidebay.example.gov/c/4402117001",
             "https://parking.ashfordvale.example.gov.uk/pcn/AV80412001", "a", "\u00e9" * 30, "x" * 1200]
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 400))) for _ in range(150)]
    for text in texts:
        assert encode(text) == reference(text), text[:40]


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
@pytest.mark.parametrize("mask", range(8))
def test_every_level_and_mask(level: str, mask: int) -> None:
    text = "https://pay.example.gov/c/HH0001-000123?plate=8ABC123"
    assert encode(text, level, mask) == reference(text, level, mask)


def test_rows_form_and_size() -> None:
    rows = encode_rows("https://pay.example.gov/c/HH0001-000123")
    assert len(rows) == 29 and all(len(r) == 29 and set(r) <= {"0", "1"} for r in rows)  # version 3
    assert rows[0].startswith("1111111") and rows[6].startswith("1111111")  # finder pattern
    with pytest.raises(ValueError):
        encode("x" * 3000)
