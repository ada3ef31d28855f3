"""Mailing geometry: the address block stays in the envelope window; the IMb fits USPS limits."""

from __future__ import annotations

import pytest
from reportlab.graphics.barcode.usps4s import USPS_4State

from reports import geometry as geo
from reports.base import imb_tracking, make_imb
from reports.data import MailPiece, Recipient

INSERTS = {"letter-#10": geo.US_LETTER_NO10, "a4-DL": geo.A4_DL}


@pytest.mark.parametrize("name", INSERTS)
@pytest.mark.parametrize("lines", [3, 4])
def test_address_block_inside_window_at_every_extreme_position(name: str, lines: int) -> None:
    """DMM 601.6.3: 1/8 in between the block and every window edge at the insert's full limits."""
    insert = INSERTS[name]
    layout = geo.address_block_layout(insert, lines, with_imb=(name == "letter-#10"))
    window = insert.envelope.address_window.inset(geo.WINDOW_CLEARANCE)
    for sx, sy in insert.extreme_positions():
        on_envelope = insert.page_to_envelope(layout.block, sx, sy)
        assert window.contains(on_envelope), (name, lines, sx, sy, on_envelope, window)
    # The block lies in the top panel, the one that faces the window after folding.
    assert layout.block.y >= insert.fold_ys[0]


def test_play_is_the_envelope_inside_less_the_folded_insert() -> None:
    no10 = geo.US_LETTER_NO10
    assert no10.play_x == pytest.approx(0.5 * 72)  # issue 15: 0.44-0.5 in either way
    assert no10.play_up == pytest.approx(0.25 * 72)  # a 3 7/8 in address panel in a 4 1/8 in envelope
    equal_thirds = geo.FoldedInsert("x", *geo.LETTER, geo.NO10_DOUBLE_WINDOW, folds=(11 / 3 * 72, 22 / 3 * 72))
    assert equal_thirds.play_up == pytest.approx(0.458 * 72, abs=0.1)  # what the issue measured
    # and why the fold moved: equal thirds leave no room for an IMb and three lines of 8 point
    with pytest.raises(geo.AddressDoesNotFit, match="3 lines .* 2 fit"):
        geo.address_block_layout(equal_thirds, 3, with_imb=True)


def test_six_line_english_address_fits_the_dl_window() -> None:
    layout = geo.address_block_layout(geo.A4_DL, 6, with_imb=False)
    assert len(layout.lines) == 6 and layout.font_size >= geo.ADDRESS_FONT_MIN


def test_long_lines_wrap_and_too_many_are_refused() -> None:
    name = "MARIA DE LOS ANGELES GUADALUPE HERNANDEZ-VILLANUEVA DE LA CRUZ"
    layout = geo.address_block_layout(geo.US_LETTER_NO10, [name, "1 MAIN ST", "LOS ANGELES CA 90012"], True)
    assert len(layout.lines) == 4 and " ".join(layout.lines[:2]) == name
    with pytest.raises(geo.AddressDoesNotFit, match="needs 6 lines"):
        geo.address_block_layout(geo.US_LETTER_NO10, [name, name, "1 MAIN ST", "LOS ANGELES CA 90012"], True)


def test_return_address_area_in_upper_window_and_printable() -> None:
    insert = geo.US_LETTER_NO10
    safe = insert.return_safe_area()
    window = insert.return_window_on_page()
    assert safe is not None and window is not None
    for sx, sy in insert.extreme_positions():
        assert window.translated(-sx, -sy).contains(safe)
    assert safe.top <= insert.page_height - 0.25 * 72


def test_agency_envelope_from_json_and_clear_errors() -> None:
    spec = ('{"name": "Agency 6x9", "unit": "in", "paper": "letter", "envelope": [9.5, 4.125], '
            '"address_window": [0.75, 0.5, 4.75, 1.5], "return_window": null, "folds": [3.875, 7.5625]}')
    insert = geo.insert_from_spec(spec, geo.A4_DL)
    assert insert.envelope.name == "Agency 6x9" and insert.envelope.return_window is None
    assert insert.address_safe_area().height == pytest.approx((1.5 - 0.25 - 0.25) * 72)
    assert geo.insert_from_spec("", geo.A4_DL) is geo.A4_DL
    assert geo.insert_from_spec("no10", geo.A4_DL) is geo.US_LETTER_NO10
    with pytest.raises(geo.LayoutError, match="address_window"):
        geo.insert_from_spec('{"envelope": [9.5, 4.125], "address_window": [1, 2]}', geo.A4_DL)
    with pytest.raises(geo.LayoutError, match="visible"):
        geo.insert_from_spec('{"envelope": [9.5, 4.125], "address_window": [0.9, 0.5, 4.5, 0.5]}', geo.A4_DL)


def test_imb_with_clear_zones_inside_block_and_within_usps_limits() -> None:
    layout = geo.address_block_layout(geo.US_LETTER_NO10, 4, with_imb=True)
    assert layout.imb is not None and layout.imb_bars is not None
    # the clear zones are blank space inside the window at every position (they lie in its clearance)
    for sx, sy in geo.US_LETTER_NO10.extreme_positions():
        window = geo.US_LETTER_NO10.envelope.address_window
        assert window.contains(geo.US_LETTER_NO10.page_to_envelope(layout.imb, sx, sy))
    assert layout.imb.contains(layout.imb_bars)
    # clear zones: 1/8 in left/right, 0.028 in above/below (DMM 708.4.4)
    assert layout.imb_bars.x - layout.imb.x == pytest.approx(0.125 * 72)
    assert layout.imb_bars.y - layout.imb.y == pytest.approx(0.028 * 72)
    assert 2.667 * 72 <= layout.imb_bars.width <= 3.225 * 72
    assert 0.125 * 72 <= layout.imb_bars.height <= 0.165 * 72
    # the address text starts below the IMb's lower clear zone
    assert layout.baselines[0] + 0.76 * layout.font_size <= layout.imb.y + 1e-6


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
