"""Mailing geometry: the address block stays in the envelope window; the IMb fits USPS limits."""

from __future__ import annotations

import pytest
from reportlab.graphics.barcode.usps4s import USPS_4State

from reports import geometry as geo
from reports.base import imb_tracking, make_imb
from reports.data import MailPiece, Recipient

INSERTS = {"letter-#10": geo.US_LETTER_NO10, "a4-DL": geo.A4_DL}


@pytest.mark.parametrize("name", INSERTS)
@pytest.mark.parametrize("lines", [3, 4, 5, 6])
def test_address_block_inside_window_in_every_insert_position(name: str, lines: int) -> None:
    insert = INSERTS[name]
    layout = geo.address_block_layout(insert, lines, with_imb=(name == "letter-#10"))
    window = insert.envelope.address_window.inset(geo.WINDOW_CLEARANCE)
    for sx in (-insert.play_x, 0.0, insert.play_x):
        for sy in (-insert.play_y, 0.0, insert.play_y):
            on_envelope = insert.page_to_envelope(layout.block, sx, sy)
            assert window.contains(on_envelope), (name, lines, sx, sy, on_envelope, window)
    # The block lies in the top panel, the one that faces the window after tri-folding.
    assert layout.block.y >= insert.fold_ys[0]


def test_standard_no10_window_figures() -> None:
    env = geo.NO10_DOUBLE_WINDOW
    assert (env.width, env.height) == (9.5 * 72, 4.125 * 72)
    w = env.address_window
    assert (w.x, w.y, w.width, w.height) == (0.875 * 72, 0.5 * 72, 4.5 * 72, 1.125 * 72)
    assert env.return_window is not None and env.return_window.y > w.top  # two windows, no overlap


def test_return_address_area_in_upper_window_and_printable() -> None:
    insert = geo.US_LETTER_NO10
    safe = insert.return_safe_area()
    window = insert.return_window_on_page()
    assert safe is not None and window is not None
    assert window.contains(safe)
    assert safe.top <= insert.page_height - 0.25 * 72


def test_imb_with_clear_zones_inside_block_and_within_usps_limits() -> None:
    layout = geo.address_block_layout(geo.US_LETTER_NO10, 4, with_imb=True)
    assert layout.imb is not None and layout.imb_bars is not None
    assert layout.block.contains(layout.imb)
    assert layout.imb.contains(layout.imb_bars)
    # clear zones: 1/8 in left/right, 0.028 in above/below (DMM 708.4.4)
    assert layout.imb_bars.x - layout.imb.x == pytest.approx(0.125 * 72)
    assert layout.imb_bars.y - layout.imb.y == pytest.approx(0.028 * 72)
    assert 2.667 * 72 <= layout.imb_bars.width <= 3.225 * 72
    assert 0.125 * 72 <= layout.imb_bars.height <= 0.165 * 72
    # the address text starts below the IMb's lower clear zone
    assert layout.baselines[0] + 0.75 * layout.font_size <= layout.imb.y + 1e-6


def test_geometry_imb_size_matches_reportlab_widget() -> None:
    bc = make_imb(MailPiece("123456", 1), "94501221047")
    bars_w, bars_h = geo.imb_size()
    assert bc.width == pytest.approx(bars_w + 2 * 0.125 * 72)
    assert bc.height == pytest.approx(bars_h + 2 * 0.028 * 72)
    assert isinstance(bc, USPS_4State)


def test_imb_tracking_code_fields() -> None:
    code = imb_tracking(MailPiece(mailer_id="123456", serial=42, barcode_id="00", service_type_id="300"))
    assert code == "00" + "300" + "123456" + "000000042"
    assert len(code) == 20
    assert imb_tracking(MailPiece(mailer_id="901234567", serial=7)) == "00300901234567000007"


@pytest.mark.parametrize("mail", [
    MailPiece(mailer_id="912345", serial=1),  # 6-digit MID starting with 9
    MailPiece(mailer_id="12345", serial=1),
    MailPiece(mailer_id="123456", serial=10**9),  # serial longer than 9 digits
    MailPiece(mailer_id="123456", serial=1, barcode_id="05"),
    MailPiece(mailer_id="123456", serial=1, service_type_id="30"),
])
def test_imb_tracking_rejects_invalid_pieces(mail: MailPiece) -> None:
    with pytest.raises(ValueError):
        imb_tracking(mail)


def test_routing_code_from_recipient() -> None:
    r = Recipient("A", ("1 Main St",), "Town", "CA", "94501", zip4="2210", delivery_point="47")
    assert r.routing_code == "94501221047"
    assert Recipient("A", (), "T", "CA", "94501", zip4="2210").routing_code == "945012210"
    assert Recipient("A", (), "T", "", "AV3 7QT").routing_code == ""
