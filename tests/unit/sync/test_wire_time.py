"""The wire time parser's fast path accepts and refuses exactly the strings the plain parser did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from desktop.sync.wire import parse_wire_time


def reference_parse_wire_time(value: object) -> datetime:
    """The parser as it was before its fast path (kept here as the specification it must match)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            text = value.strip()
            if not text:
                raise ValueError("time is empty") from None
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"not an ISO 8601 time ({value[:40]!r})") from None
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise ValueError(f"time must be an ISO 8601 string, got {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"time has no UTC offset ({str(value)[:40]!r})")
    return parsed.astimezone(UTC)


def outcome(parse: object, value: object) -> tuple[str, object]:
    try:
        result = parse(value)  # type: ignore[operator]
    except ValueError as exc:
        return "refused", str(exc)
    return "parsed", (result, result.tzinfo, result.fold)


#: the protocol's own examples and the forms around them
EXAMPLES = [
    "2026-11-24T09:15:02-08:00", "2026-11-24T09:15:02Z", "2026-11-24T09:15:02+00:00", "2026-11-24T09:15:02",
    "2026-11-24 09:15", "2026-11-24T09:15:02.123456-08:00", "2026-11-24T09:15:02.123-08:00", "2026-11-24",
    " 2026-11-24T09:15:02Z ", "\t2026-11-24T09:15:02Z\n", "", "   ", "2026-11-24T09:15:02z", "20261124T091502Z",
    "2026-11-24T09:15:02+0530", "2026-11-24T09:15:02-00:00", "2026-11-24T24:00:00Z", "2026-02-30T00:00:00Z",
    "2026-11-24T09:15:02+14:00", "2026-11-24T09:15:02+24:00", "2026-W48-2T09:15Z", "1764000000",
    "2026-11-24T09:15:02\u00a0Z", "\u20282026-11-24T09:15:02Z",
]


@pytest.mark.parametrize("value", EXAMPLES)
def test_the_protocol_examples_parse_as_before(value: str) -> None:
    assert outcome(parse_wire_time, value) == outcome(reference_parse_wire_time, value)


_zones = st.one_of(st.just(""), st.just("Z"), st.just("z"),
                   st.timedeltas(min_value=timedelta(hours=-24), max_value=timedelta(hours=24)).map(
                       lambda d: datetime(2026, 1, 1, tzinfo=timezone(d)).isoformat()[19:]
                       if abs(d) < timedelta(hours=24) else "+24:00"))
_iso = st.builds(
    lambda dt, sep, spec, zone, pad: pad[0] + dt.isoformat(sep, spec) + zone + pad[1],
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.sampled_from(["T", " ", "t", "_"]),
    st.sampled_from(["auto", "hours", "minutes", "seconds", "milliseconds", "microseconds"]),
    _zones,
    st.tuples(st.sampled_from(["", " ", "\t", "\n", "\u3000"]), st.sampled_from(["", " ", "\r\n", "\x00"])),
)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(_iso, st.text(alphabet="0123456789-+:.TZ tz\u00a0", max_size=40), st.text(max_size=40),
                 _iso.map(lambda s: s[:-1]), _iso.map(lambda s: s.replace("-", "/", 1))))
@example("2026-11-24T09:15:02-08:00")
def test_generated_strings_are_accepted_and_refused_as_before(value: str) -> None:
    assert outcome(parse_wire_time, value) == outcome(reference_parse_wire_time, value)


@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=20),
                 st.datetimes(timezones=st.one_of(st.none(), st.timezones()))))
def test_values_that_are_not_text_are_treated_as_before(value: object) -> None:
    assert outcome(parse_wire_time, value) == outcome(reference_parse_wire_time, value)


class _Text(str):
    pass


def test_a_str_subclass_takes_the_plain_path() -> None:
    value = _Text("2026-11-24T09:15:02-08:00")
    assert outcome(parse_wire_time, value) == outcome(reference_parse_wire_time, value)
