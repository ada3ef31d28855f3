"""Wire schema tests: the protocol's examples parse, every kind of bad input is rejected with a reason."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.sync.wire import (
    CitationAmended,
    CitationIssued,
    CitationVoided,
    InvalidDeviceKey,
    ParsedEvent,
    PatrolCheck,
    PatrolShift,
    Rejected,
    WireError,
    canonical_json,
    content_fingerprint,
    parse_envelope,
    parse_envelope_or_raise,
    public_key_b64,
    sign_envelope,
    verify_signature,
)
from tests.helpers.sync_helpers import valid_event


def test_protocol_example_parses_with_times_in_utc() -> None:
    result = parse_envelope(valid_event())
    assert isinstance(result, ParsedEvent) and result.known
    payload = result.payload
    assert isinstance(payload, CitationIssued)
    assert payload.issued_at == datetime(2026, 11, 24, 17, 15, 2, tzinfo=UTC)
    assert payload.violations[0].fine_cents == 7300
    assert payload.location.lon == -118.2437
    assert result.seq == 1234 and result.device_id == "HH-0042"


def test_json_line_and_bytes_parse_like_dicts() -> None:
    line = json.dumps(valid_event())
    assert isinstance(parse_envelope(line), ParsedEvent)
    assert isinstance(parse_envelope(line.encode()), ParsedEvent)


def test_minimal_citation_with_only_required_fields() -> None:
    event = valid_event(payload={
        "citation_number": "X-1", "officer_badge": "7", "issued_at": "2026-11-24T09:15:02Z",
        "vehicle": {"plate": "7ABC123", "jurisdiction": "CA"}, "location": {"lat": 0, "lon": 0},
        "violations": [{"code": "22514"}]})
    result = parse_envelope(event)
    assert isinstance(result, ParsedEvent), result


def test_unknown_fields_are_ignored_but_kept_in_raw() -> None:
    event = valid_event(battery_pct=40)
    event["payload"]["vehicle"]["body_style"] = "PA"
    result = parse_envelope(event)
    assert isinstance(result, ParsedEvent)
    assert result.raw["battery_pct"] == 40
    assert result.raw["payload"]["vehicle"]["body_style"] == "PA"


def test_unknown_event_type_keeps_payload_untouched() -> None:
    payload = {"level_pct": 41, "nested": {"a": [1, 2]}}
    result = parse_envelope(valid_event(type="device.battery", payload=payload))
    assert isinstance(result, ParsedEvent)
    assert result.known is False and result.payload is None
    assert result.envelope.payload == payload and result.type == "device.battery"


@pytest.mark.parametrize(
    ("event_type", "payload", "model"),
    [
        ("citation.voided", {"citation_number": "A1", "reason": "moved", "voided_at": "2026-11-24T10:00:00-08:00"},
         CitationVoided),
        ("citation.amended", {"citation_number": "A1", "changes": {"vehicle": {"plate": "8XYZ999"}},
                              "reason": "typo"}, CitationAmended),
        ("patrol.shift", {"officer_badge": "1234", "zone": "Z-1", "started_at": "2026-11-24T07:00:00-08:00",
                          "ended_at": "2026-11-24T15:00:00-08:00", "vehicles_checked": 212}, PatrolShift),
        ("patrol.check", {"zone": "Z-1", "checked_at": "2026-11-24T07:10:00-08:00", "plate": "7ABC123",
                          "jurisdiction": "CA", "result": "permit_ok"}, PatrolCheck),
    ],
)
def test_other_payload_types(event_type: str, payload: dict[str, Any], model: type) -> None:
    result = parse_envelope(valid_event(type=event_type, payload=payload))
    assert isinstance(result, ParsedEvent) and isinstance(result.payload, model)


def _mutated(path: list[Any], value: Any) -> dict[str, Any]:
    event = valid_event()
    target: Any = event
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return event


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field_path", "words"),
    [
        (["payload", "vehicle", "plate"], _DELETE, "payload.vehicle.plate", "missing"),
        (["payload", "citation_number"], _DELETE, "payload.citation_number", "missing"),
        (["payload", "violations"], [], "payload.violations", "at least 1"),
        (["payload", "violations", 0, "code"], _DELETE, "payload.violations.0.code", "missing"),
        (["payload", "issued_at"], "2026-11-24T09:15:02", "payload.issued_at", "no UTC offset"),
        (["occurred_at"], "2026-11-24 09:15", "occurred_at", "no UTC offset"),
        (["occurred_at"], 1764000000, "occurred_at", "ISO 8601 string"),
        (["payload", "location", "lat"], 134.05, "payload.location.lat", "less than or equal to 90"),
        (["payload", "location", "lon"], -180.5, "payload.location.lon", "greater than or equal to -180"),
        (["payload", "location", "lat"], "34.05", "payload.location.lat", "valid number"),
        (["payload", "violations", 0, "fine_cents"], 73.0, "payload.violations.0.fine_cents", "valid integer"),
        (["payload", "violations", 0, "fine_cents"], "$73.00 ", "payload.violations.0.fine_cents", "integer"),
        (["seq"], "1234", "seq", "valid integer"),
        (["seq"], True, "seq", "valid integer"),
        (["payload", "citation_number"], 123, "payload.citation_number", "valid string"),
        (["payload", "photos", 0, "sha256"], "ABC", "payload.photos.0.sha256", "pattern"),
        (["payload"], [], "payload", "dictionary"),
        (["event_id"], "", "event_id", "at least 1"),
    ],
)
def test_bad_events_are_rejected_with_a_reason_naming_the_field(
    path: list[Any], value: Any, field_path: str, words: str
) -> None:
    result = parse_envelope(_mutated(path, value))
    assert isinstance(result, Rejected)
    assert result.field_path == field_path
    assert result.reason.startswith(field_path + ":")
    assert words in result.reason
    assert "\n" not in result.reason
    assert result.event_id == VALID_ID or path == ["event_id"]
    with pytest.raises(WireError, match=field_path):
        parse_envelope_or_raise(_mutated(path, value))


VALID_ID = valid_event()["event_id"]


@pytest.mark.parametrize("text", ['{"event_id": "x", "device', "", "not json", "[1, 2]", "null", "\ufeff{}"])
def test_unreadable_or_non_object_lines_are_rejected(text: str) -> None:
    result = parse_envelope(text)
    assert isinstance(result, Rejected)
    assert result.reason.startswith("event:")
    assert result.raw_text == text


def test_amendment_changes_are_type_checked() -> None:
    bad = valid_event(type="citation.amended",
                      payload={"citation_number": "A1", "changes": {"location": {"lat": 95.0}}})
    result = parse_envelope(bad)
    assert isinstance(result, Rejected) and result.field_path == "payload.changes.location.lat"
    empty = valid_event(type="citation.amended", payload={"citation_number": "A1", "changes": {}})
    assert isinstance(parse_envelope(empty), Rejected)


def test_patrol_check_result_must_be_one_of_three() -> None:
    payload = {"zone": "Z-1", "checked_at": "2026-11-24T07:10:00-08:00", "plate": "7ABC123",
               "jurisdiction": "CA", "result": "towed"}
    result = parse_envelope(valid_event(type="patrol.check", payload=payload))
    assert isinstance(result, Rejected) and result.field_path == "payload.result"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_never_crashes(value: Any) -> None:
    result = parse_envelope(value)
    assert isinstance(result, (ParsedEvent, Rejected))
    if isinstance(result, Rejected):
        assert result.reason and "\n" not in result.reason


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text: str) -> None:
    assert isinstance(parse_envelope(text), (ParsedEvent, Rejected))


envelope_mutations = st.fixed_dictionaries({
    "field": st.sampled_from(["seq", "occurred_at", "type", "device_id", "payload"]),
    "value": json_values,
})


@settings(max_examples=300, deadline=None)
@given(envelope_mutations, st.sampled_from(["vehicle", "location", "violations", "issued_at", "photos"]),
       json_values)
def test_mutated_valid_events_never_crash(mutation: dict[str, Any], payload_key: str, payload_value: Any) -> None:
    event = valid_event()
    event["payload"][payload_key] = payload_value
    event[mutation["field"]] = mutation["value"]
    result = parse_envelope(copy.deepcopy(event))
    assert isinstance(result, (ParsedEvent, Rejected))


# --------------------------------------------------------------------------- signatures


@pytest.fixture
def device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def test_canonical_json_is_sorted_compact_utf8_without_signature() -> None:
    envelope = {"b": 1, "a": {"z": "é", "y": [1, 2]}, "signature": "xyz"}
    assert canonical_json(envelope) == '{"a":{"y":[1,2],"z":"é"},"b":1}'.encode()


def test_signature_round_trip(device_key: Ed25519PrivateKey) -> None:
    event = valid_event()
    event["signature"] = sign_envelope(event, device_key)
    key = public_key_b64(device_key)
    assert verify_signature(event, key)
    # the signature survives a trip through JSON with different key order and spacing
    again = json.loads(json.dumps(dict(reversed(list(event.items()))), indent=2))
    assert verify_signature(again, key)


def test_tampered_unsigned_or_foreign_signature_fails(device_key: Ed25519PrivateKey) -> None:
    event = valid_event()
    event["signature"] = sign_envelope(event, device_key)
    key = public_key_b64(device_key)
    tampered = copy.deepcopy(event)
    tampered["payload"]["violations"][0]["fine_cents"] = 1
    assert not verify_signature(tampered, key)
    assert not verify_signature(valid_event(), key)
    assert not verify_signature(valid_event(signature="!!not base64!!"), key)
    other = Ed25519PrivateKey.from_private_bytes(bytes(32))
    assert not verify_signature(valid_event(signature=sign_envelope(valid_event(), other)), key)


def test_unusable_device_key_is_a_user_error() -> None:
    with pytest.raises(InvalidDeviceKey):
        verify_signature(valid_event(signature="AA=="), "not a key")


def test_fingerprint_tells_conflicts_from_repeats() -> None:
    payload = valid_event()["payload"]
    same = json.loads(json.dumps(payload))
    different = copy.deepcopy(payload)
    different["vehicle"]["plate"] = "8XYZ999"
    assert content_fingerprint(payload) == content_fingerprint(same)
    assert content_fingerprint(payload) != content_fingerprint(different)
    assert len(content_fingerprint(payload)) == 64
