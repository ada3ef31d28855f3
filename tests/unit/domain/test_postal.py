"""The IMb routing code at its limits (USPS-B-3200: 0, 5, 9 or 11 digits) and the service type identifiers
of the address-correction options (USPS STID Table, 21 January 2024)."""

from __future__ import annotations

import pytest

from desktop.domain import postal
from desktop.domain.errors import UserError
from reports.data import Recipient


@pytest.mark.parametrize(("zip_code", "zip4", "dp", "expected"), [
    ("90012", "1234", "56", "90012123456"),  # ZIP+4 and delivery point: 11 digits
    ("90012", "1234", None, "900121234"),  # ZIP+4 only: 9
    ("90012", None, "56", "90012"),  # a delivery point without its ZIP+4 means nothing: 5
    ("90012", "123", "56", "90012"),  # a short add-on is no ZIP+4
    ("90012", "12345", None, "90012"),
    ("90012", "1234", "5", "900121234"),  # a one-digit delivery point is dropped, the ZIP+4 kept
    ("90012", "1234", "5A", "900121234"),
    ("9001", "1234", "56", ""),  # no 5-digit ZIP: no routing code (0 digits)
    ("TN23 7QT", None, None, ""),  # a UK postcode has no IMb routing code
    ("", None, None, ""),
])
def test_routing_code_has_0_5_9_or_11_digits(zip_code: str, zip4: str | None, dp: str | None, expected: str) -> None:
    assert postal.routing_code(zip_code, zip4, dp) == expected
    assert len(expected) in (0, 5, 9, 11)
    assert Recipient("A", ("1 Main St",), "City", "CA", zip_code, zip4, dp).routing_code == expected


def test_the_service_type_follows_the_address_correction_option() -> None:
    assert postal.service_type_id("none") == "300"
    assert postal.service_type_id("none", iv_mtr=True) == "310"
    assert postal.service_type_id("basic") == "230"  # OneCode ACS, Address Service Requested option 1
    assert postal.service_type_id("Full_Service") == "320"  # Full-Service ACS, ASR option 1
    assert postal.service_type_id("full_service", iv_mtr=True) == "314"
    assert postal.service_type_id("basic", explicit="082") == "082"  # the office's own code wins
    with pytest.raises(UserError, match="not one of none, basic, full_service"):
        postal.service_type_id("premium")
    with pytest.raises(UserError, match="not a 3-digit service type"):
        postal.service_type_id("none", explicit="30")


@pytest.mark.parametrize(("lines", "expected"), [
    (["12 Elm St", "Los Angeles, CA 90012"], "90012"),
    (["12 Elm St", "Los Angeles CA 90012-1234"], "90012-1234"),
    (["14 Orchard Rise", "Ashford TN23 7QT"], "TN23 7QT"),
    (["14 Orchard Rise", "Ashford", "tn23 7qt"], "TN23 7QT"),
    (["12 Elm St, Los Angeles"], ""),
    ([], ""),
])
def test_the_postcode_of_a_written_address(lines: list[str], expected: str) -> None:
    assert postal.postcode_in(lines) == expected


@pytest.mark.parametrize(("registry", "uk", "expected"), [
    ("MARSH, PETER", True, "Peter Marsh"),  # England: mailing order, ordinary case (issue 15)
    ("MCDONALD, ANNE-MARIE", True, "Anne-Marie McDonald"),
    ("O'BRIEN, SEAN", True, "Sean O'Brien"),
    ("VAN DER BERG, JAN", True, "Jan van der Berg"),
    ("Mr Thomas Ellery", True, "Mr Thomas Ellery"),  # written in mixed case: kept as written
    ("ACME LEASING, LLC", True, "ACME LEASING, LLC"),  # a business keeps its registry form
    ("GARCIA, MARIA", False, "MARIA GARCIA"),  # US: mailing order, capitals as USPS Pub. 28 prefers
])
def test_the_addressee_line_is_in_mailing_order(registry: str, uk: bool, expected: str) -> None:
    from desktop.services.notices.documents import envelope_name

    assert envelope_name(registry, uk=uk) == expected
