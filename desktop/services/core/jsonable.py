"""Turning values into plain JSON for the audit trail and exports."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """Datetimes and dates as ISO text, enums as their value, containers recursively."""
    if type(value) in _PLAIN:  # the usual leaf, told at once (an enum's type is its own class)
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        if type(value) is dict and all(type(v) in _PLAIN for v in value.values()) \
                and all(type(k) is str for k in value):
            return dict(value)  # the usual audit entry's before/after: nothing to convert
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


def row_dict(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {f: jsonable(getattr(obj, f)) for f in fields}
