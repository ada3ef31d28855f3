"""The audit hash is written piece by piece; it must stay byte for byte what the chain has always stored."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.services.core.audit import _digest, _Hasher


def reference_digest(entry_id: int, at: datetime, user_id: int | None, username: str, action: str,
                     entity_type: str, entity_id: str, before: Any, after: Any, reason: str | None,
                     prev_hash: str) -> str:
    """The hash as every existing database has it: json.dumps of the whole entry."""
    body = {"id": entry_id, "at": at.isoformat(), "user_id": user_id, "username": username, "action": action,
            "entity_type": entity_type, "entity_id": entity_id, "before": before, "after": after,
            "reason": reason, "prev_hash": prev_hash}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_a_known_entry_keeps_its_hash() -> None:
    at = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    after = {"citation_number": "HH0001-000042", "status": "pending_review", "photos": 2, "lat": 34.05}
    assert _digest(7, at, 3, "clerk é", "citation.received", "citation", "42", None, after,
                   "received from HH-0001 via endpoint:GW", "a" * 64) == \
        "24c949f098ada09b500ca203e96ecdae59946c4dd0c00af2190385ea3302799a"


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(entry_id=st.integers(min_value=1, max_value=2**62),
       at=st.datetimes(timezones=st.just(UTC)) | st.datetimes(timezones=st.just(timezone(timedelta(hours=-8)))),
       user_id=st.none() | st.integers(min_value=1, max_value=2**31),
       username=st.text(), action=st.text(), entity_type=st.text(), entity_id=st.text(),
       before=st.none() | st.dictionaries(st.text(max_size=8), _json, max_size=5),
       after=st.none() | st.dictionaries(st.text(max_size=8), _json, max_size=5),
       reason=st.none() | st.text(), prev_hash=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_the_hash_is_the_json_dumps_of_the_entry(entry_id: int, at: datetime, user_id: int | None, username: str,
                                                 action: str, entity_type: str, entity_id: str, before: Any,
                                                 after: Any, reason: str | None, prev_hash: str) -> None:
    args = (entry_id, at, user_id, username, action, entity_type, entity_id, before, after, reason, prev_hash)
    expected = reference_digest(*args)
    assert _digest(*args) == expected
    assert _Hasher(at, user_id, username)(entry_id, action, entity_type, entity_id, before, after, reason,
                                          prev_hash) == expected
