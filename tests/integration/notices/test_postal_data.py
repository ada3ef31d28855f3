"""The owner's ZIP+4 and delivery point reach the Intelligent Mail barcode (11-digit routing code,
USPS-B-3200), the service type follows the address-correction setting, and the mail log shows every
piece's ZIP, the appeal letters' included."""

from __future__ import annotations

from pathlib import Path

from reportlab.graphics.barcode.usps4s import USPS_4State

from desktop.domain.roles import Role
from desktop.services import appeals
from desktop.services.core import settings
from desktop.services.core.context import Actor, AppContext
from desktop.services.notices import runs as nr
from reports import geometry as geo
from tests.helpers.notice_cases import queue_case
from tests.integration.appeals.conftest import make_case
from tests.integration.appeals.test_intake_and_decisions import request
from tests.integration.notices.test_notice_runs import _imb_bars

ADDRESS = {"address_line1": "4410 W OLYMPIC BLVD APT 12", "city": "LOS ANGELES", "state": "CA",
           "zip": "90019-2231", "delivery_point": "34"}


def _drawn_barcode(pdf: bytes, lines: int = 3) -> str:
    """The IMb as drawn on the page, as the A/D/F/T letters of its 65 bars."""
    layout = geo.address_block_layout(geo.US_LETTER_NO10, lines, with_imb=True)
    bars = _imb_bars(pdf, layout)
    assert len(bars) == 65 and layout.imb is not None
    probe = USPS_4State("0" * 20, "")
    probe.widthSize, probe.heightSize = geo.IMB_WIDTH_SIZE, geo.IMB_HEIGHT_SIZE
    probe.computeSize()
    v = probe._getBarVInfo(probe.verticalClearZone + probe.barHeight * 0.5)
    expected = {k: (layout.imb.y + y, h) for k, (y, h) in v.items()}
    return "".join(next(k for k, (ey, eh) in expected.items() if abs(ey - y) < 0.05 and abs(eh - h) < 0.05)
                   for _x, y, _w, h in bars)


def _barcode_of(tracking: str, routing: str) -> str:
    return USPS_4State(tracking, routing).barcodes


def test_zip4_and_delivery_point_give_the_11_digit_routing_code(app: AppContext, actors: dict[Role, Actor],
                                                                tmp_path: Path) -> None:
    admin = actors[Role.ADMIN]
    settings.set_value(app, admin, "mail.mailer_id", "123456")
    settings.set_value(app, admin, "mail.next_serial", 7)
    settings.set_value(app, admin, "mail.address_correction", "full_service")
    queue_case(app, owner_kwargs=dict(ADDRESS))
    [batch] = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path).batches
    drawn = _drawn_barcode(batch.path.read_bytes())
    tracking = "00" + "320" + "123456" + "000000007"  # Full-Service ACS, ASR option 1 (USPS STID table)
    assert drawn == _barcode_of(tracking, "90019223134")
    assert drawn != _barcode_of(tracking, "90019")  # the 11 digits, not the 5


def test_a_missing_zip4_routes_on_five_digits_and_no_correction_is_stid_300(
        app: AppContext, actors: dict[Role, Actor], tmp_path: Path) -> None:
    admin = actors[Role.ADMIN]
    settings.set_value(app, admin, "mail.mailer_id", "123456")
    settings.set_value(app, admin, "mail.next_serial", 9)
    queue_case(app, owner_kwargs={**ADDRESS, "zip": "90019"})  # a delivery point alone is not used
    [batch] = nr.run_notices(app, actors[Role.MAIL_OFFICE], tmp_path).batches
    assert _drawn_barcode(batch.path.read_bytes()) == _barcode_of("00" + "300" + "123456" + "000000009", "90019")


def test_the_mail_log_shows_the_zip_of_appeal_letters(app: AppContext, actors: dict[Role, Actor]) -> None:
    cid = make_case(app)
    appeals.file_appeal(app, actors[Role.CLERK], request(app, cid))  # queues the acknowledgement
    rows = nr.mail_log(app, actors[Role.CLERK], nr.MailLogFilter(kind="appeal_acknowledgement"))
    assert [(r.recipient, r.zip_code) for r in rows] == [("Maria Garcia", "90026")]
