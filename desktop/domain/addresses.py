"""Owner mailing addresses: parse with usaddress and standardise the USPS way (Publication 28).

``standardize(raw)`` returns a ``StandardAddress`` (upper case, suffixes and
directionals abbreviated, unit designators APT/STE/#, delivery line, city,
state, ZIP and ZIP+4) or an ``AddressProblem`` whose ``reason`` tells a clerk
what to fix. It never raises on bad input: notices must not go to addresses the
post office cannot deliver, so anything doubtful becomes a problem to look at.

usaddress has no type stubs; ``_tag`` is the only place that calls it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import usaddress  # type: ignore[import-untyped,unused-ignore]

STREET_SUFFIXES: dict[str, str] = {
    "ALLEY": "ALY", "ANNEX": "ANX", "ARCADE": "ARC", "AVENUE": "AVE", "AV": "AVE", "AVE": "AVE", "BAYOU": "BYU",
    "BEACH": "BCH", "BEND": "BND", "BLUFF": "BLF", "BOULEVARD": "BLVD", "BLVD": "BLVD", "BRANCH": "BR",
    "BRIDGE": "BRG", "BROOK": "BRK", "BYPASS": "BYP", "CAUSEWAY": "CSWY", "CENTER": "CTR", "CIRCLE": "CIR",
    "CIR": "CIR", "COURT": "CT", "CT": "CT", "COVE": "CV", "CREEK": "CRK", "CRESCENT": "CRES", "CROSSING": "XING",
    "DRIVE": "DR", "DR": "DR", "EXPRESSWAY": "EXPY", "EXTENSION": "EXT", "FREEWAY": "FWY", "GARDENS": "GDNS",
    "GROVE": "GRV", "HEIGHTS": "HTS", "HIGHWAY": "HWY", "HWY": "HWY", "HILL": "HL", "HOLLOW": "HOLW",
    "JUNCTION": "JCT", "LAKE": "LK", "LANDING": "LNDG", "LANE": "LN", "LN": "LN", "LOOP": "LOOP", "MALL": "MALL",
    "MANOR": "MNR", "MEADOWS": "MDWS", "MOUNT": "MT", "MOUNTAIN": "MTN", "PARK": "PARK", "PARKWAY": "PKWY",
    "PKWY": "PKWY", "PASS": "PASS", "PATH": "PATH", "PIKE": "PIKE", "PLACE": "PL", "PL": "PL", "PLAZA": "PLZ",
    "POINT": "PT", "PORT": "PRT", "RIDGE": "RDG", "ROAD": "RD", "RD": "RD", "ROUTE": "RTE", "ROW": "ROW",
    "RUN": "RUN", "SQUARE": "SQ", "STATION": "STA", "STREET": "ST", "STR": "ST", "ST": "ST", "TERRACE": "TER",
    "TER": "TER", "TRACE": "TRCE", "TRAIL": "TRL", "TRL": "TRL", "TURNPIKE": "TPKE", "VALLEY": "VLY", "VIEW": "VW",
    "VILLAGE": "VLG", "VISTA": "VIS", "WALK": "WALK", "WAY": "WAY", "WY": "WAY",
}
DIRECTIONALS: dict[str, str] = {
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W", "NORTHEAST": "NE", "NORTHWEST": "NW",
    "SOUTHEAST": "SE", "SOUTHWEST": "SW", "N": "N", "S": "S", "E": "E", "W": "W", "NE": "NE", "NW": "NW",
    "SE": "SE", "SW": "SW", "NORTH EAST": "NE", "NORTH WEST": "NW", "SOUTH EAST": "SE", "SOUTH WEST": "SW",
}
UNIT_DESIGNATORS: dict[str, str] = {
    "APARTMENT": "APT", "APT": "APT", "SUITE": "STE", "STE": "STE", "UNIT": "UNIT", "FLOOR": "FL", "FL": "FL",
    "ROOM": "RM", "RM": "RM", "BUILDING": "BLDG", "BLDG": "BLDG", "DEPARTMENT": "DEPT", "DEPT": "DEPT",
    "SPACE": "SPC", "SPC": "SPC", "TRAILER": "TRLR", "LOT": "LOT", "BASEMENT": "BSMT", "OFFICE": "OFC",
    "PENTHOUSE": "PH", "#": "#", "NO": "#", "NUMBER": "#",
}
STATES: dict[str, str] = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA", "COLORADO": "CO",
    "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC", "FLORIDA": "FL", "GEORGIA": "GA",
    "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL", "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS",
    "KENTUCKY": "KY", "LOUISIANA": "LA", "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI",
    "MINNESOTA": "MN", "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV",
    "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY", "NORTH CAROLINA": "NC",
    "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR", "PENNSYLVANIA": "PA",
    "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD", "TENNESSEE": "TN", "TEXAS": "TX",
    "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA", "WASHINGTON": "WA", "WEST VIRGINIA": "WV",
    "WISCONSIN": "WI", "WYOMING": "WY", "PUERTO RICO": "PR", "GUAM": "GU", "VIRGIN ISLANDS": "VI",
}
_STATE_CODES = frozenset(STATES.values())
_ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")


@dataclass(frozen=True)
class StandardAddress:
    delivery_line: str
    """``123 N MAIN ST APT 4B`` or ``PO BOX 123``."""
    city: str
    state: str
    zip5: str
    zip4: str | None = None

    @property
    def zip_code(self) -> str:
        return f"{self.zip5}-{self.zip4}" if self.zip4 else self.zip5

    @property
    def last_line(self) -> str:
        return f"{self.city} {self.state} {self.zip_code}"

    def lines(self) -> tuple[str, str]:
        return self.delivery_line, self.last_line


@dataclass(frozen=True)
class AddressProblem:
    raw: str
    reason: str
    """What a clerk should fix, e.g. "No ZIP code"."""
    parsed: tuple[tuple[str, str], ...] = ()


def _tag(raw: str) -> tuple[dict[str, str], str] | str:
    """usaddress.tag, typed; a string is the reason it failed."""
    try:
        tagged: Any
        tagged, kind = usaddress.tag(raw)
    except usaddress.RepeatedLabelError as exc:
        labels = sorted({label for _, label in getattr(exc, "parsed_string", [])})
        repeated = [lbl for lbl in labels if sum(1 for _, x in exc.parsed_string if x == lbl) > 1]
        what = ", ".join(_LABEL_TEXT.get(r, r) for r in repeated[:2]) or "a part"
        return f"The address repeats {what}; it looks like two addresses run together."
    except Exception as exc:  # noqa: BLE001 - the parser's failures are data problems
        return f"The address could not be read ({type(exc).__name__})."
    return {str(k): str(v) for k, v in tagged.items()}, str(kind)


_USED_LABELS = frozenset({
    "AddressNumber", "AddressNumberSuffix", "StreetNamePreDirectional", "StreetNamePreModifier", "StreetNamePreType",
    "StreetName", "StreetNamePostType", "StreetNamePostDirectional", "OccupancyType", "OccupancyIdentifier",
    "PlaceName", "StateName", "ZipCode", "USPSBoxType", "USPSBoxID", "Recipient", "USPSBoxGroupType",
    "USPSBoxGroupID", "SubaddressType", "SubaddressIdentifier", "CountryName",
})
_US_NAMES = frozenset({"US", "USA", "UNITED STATES", "UNITED STATES OF AMERICA", "U S A", "U S"})
"""Labels that end up in the standard address (``Recipient``, the addressee's name, is kept apart by callers)."""

_LABEL_TEXT = {
    "AddressNumber": "the house number", "StreetName": "the street name", "PlaceName": "the city",
    "StateName": "the state", "ZipCode": "the ZIP code", "OccupancyIdentifier": "the unit",
}


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[.,;]", " ", text)).strip().upper()


def _word(value: str, table: dict[str, str]) -> str:
    key = _clean(value)
    return table.get(key, key)


def standardize(raw: str) -> StandardAddress | AddressProblem:
    """A USPS-style address, or the reason a clerk must look at it."""
    text = (raw or "").strip()
    if not text:
        return AddressProblem(raw, "The address is empty.")
    result = _tag(text)
    if isinstance(result, str):
        return AddressProblem(raw, result)
    parts, kind = result
    parsed = tuple(parts.items())
    if kind == "Intersection":
        return AddressProblem(raw, "This is a street intersection, not a mailing address.", parsed)
    if kind == "Ambiguous":
        if not any(parts.get(label) for label in ("AddressNumber", "StreetName", "USPSBoxID")):
            return AddressProblem(raw, "There is no street, house number or PO box to mail to; enter the address "
                                       "or look the owner up again.", parsed)
        return AddressProblem(raw, "The address could not be read with confidence; check and retype it.", parsed)

    extra = ", ".join(value for label, value in parsed if label not in _USED_LABELS)
    country = _clean(parts.get("CountryName", ""))
    if country and country not in _US_NAMES:
        return AddressProblem(raw, f"Foreign address ({country}): notices go out only to US addresses here.", parsed)
    if extra:
        return AddressProblem(raw, f"Contains text that is not part of a mailing address ('{extra}'); check it.", parsed)

    # Last line.
    city = _clean(parts.get("PlaceName", ""))
    state_raw = _clean(parts.get("StateName", ""))
    state = STATES.get(state_raw, state_raw)
    zip_raw = re.sub(r"\s", "", parts.get("ZipCode", ""))
    if zip_raw.endswith(tuple("0123456789")) is False:
        zip_raw = zip_raw.rstrip(".,")
    missing = [name for name, value in (("city", city), ("state", state), ("ZIP code", zip_raw)) if not value]

    # Delivery line.
    if parts.get("USPSBoxID"):
        box_type = _clean(parts.get("USPSBoxType", "PO BOX")).replace("P O", "PO").replace("POST OFFICE", "PO")
        box_type = "PO BOX" if "BOX" in box_type or not box_type else box_type
        delivery = f"{box_type} {_clean(parts['USPSBoxID']).lstrip('#').strip()}"
        if parts.get("USPSBoxGroupID"):
            group = _clean(parts.get("USPSBoxGroupType", "RR")).replace("RURAL ROUTE", "RR")
            delivery = f"{group} {_clean(parts['USPSBoxGroupID'])} {delivery.replace('PO BOX', 'BOX')}"
    else:
        number = _clean(parts.get("AddressNumber", ""))
        street = _clean(parts.get("StreetName", ""))
        if not number:
            missing.insert(0, "house number")
        if not street:
            missing.insert(0, "street")
        pieces = [
            number + _clean(parts.get("AddressNumberSuffix", "")),
            _word(parts.get("StreetNamePreDirectional", ""), DIRECTIONALS),
            _clean(parts.get("StreetNamePreModifier", "")),
            _word(parts.get("StreetNamePreType", ""), STREET_SUFFIXES),
            street,
            _word(parts.get("StreetNamePostType", ""), STREET_SUFFIXES),
            _word(parts.get("StreetNamePostDirectional", ""), DIRECTIONALS),
        ]
        unit_id = _clean(parts.get("OccupancyIdentifier", "")).lstrip("#").strip()
        unit_type = _word(parts.get("OccupancyType", ""), UNIT_DESIGNATORS) if parts.get("OccupancyType") else ""
        if unit_id:
            pieces.append(f"{unit_type or '#'} {unit_id}" if unit_type != "#" else f"# {unit_id}")
        elif unit_type:
            pieces.append(unit_type)
        if parts.get("SubaddressType") or parts.get("SubaddressIdentifier"):
            sub_type = _word(parts.get("SubaddressType", ""), UNIT_DESIGNATORS)
            pieces.append(f"{sub_type} {_clean(parts.get('SubaddressIdentifier', ''))}".strip())
        delivery = " ".join(p for p in pieces if p)
    if missing:
        return AddressProblem(raw, f"Missing {', '.join(missing)}.", parsed)
    words = city.split()
    half = len(words) // 2
    if half and len(words) % 2 == 0 and words[:half] == words[half:]:
        return AddressProblem(raw, f"The city is written twice ('{city}'); check the address.", parsed)
    if state not in _STATE_CODES:
        return AddressProblem(raw, f"'{state}' is not a US state or territory.", parsed)
    zip_match = _ZIP.match(zip_raw)
    if zip_match is None:
        return AddressProblem(raw, f"'{zip_raw}' is not a ZIP code (5 digits, or ZIP+4).", parsed)
    return StandardAddress(delivery, city, state, zip_match.group(1), zip_match.group(2))
